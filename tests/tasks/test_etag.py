"""`ETag` on task reads, `If-None-Match` on reads (the current version is a 304 with no body)
and `If-Match` on task writes: a stale version is a 412, untouched."""

import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tasks.models import Task
from tests.factories import MembershipFactory
from tests.support.envelope import assert_error
from tests.support.tasks import make_task, task_rows
from tests.support.urls import ME, task_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client_for, team):
    return client_for(team.member)


@pytest.fixture
def task(team) -> Task:
    return make_task(project=team.project, created_by=team.member, title="Original")


def etag_of(client, task_id) -> str:
    response = client.get(task_url(task_id))
    assert response.status_code == 200, response.content
    return response["ETag"]


def stale_etag(client, task_id) -> str:
    """An ETag that was current until another write changed the task."""
    old = etag_of(client, task_id)
    response = client.patch(task_url(task_id), {"description": "Someone else was here."})
    assert response.status_code == 200, response.content
    assert etag_of(client, task_id) != old
    return old


def test_get_detail_carries_a_quoted_etag(client, task):
    response = client.get(task_url(task.id))

    assert response.status_code == 200, response.content
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2, etag
    assert etag_of(client, task.id) == etag, "an unchanged task keeps its ETag"


def test_etag_differs_between_tasks(client, team, task):
    other = make_task(project=team.project)

    assert etag_of(client, task.id) != etag_of(client, other.id)


def test_patch_with_the_current_etag_succeeds_and_returns_the_new_one(client, task):
    etag = etag_of(client, task.id)

    response = client.patch(task_url(task.id), {"title": "Changed"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Changed"
    new_etag = response["ETag"]
    assert new_etag != etag
    assert etag_of(client, task.id) == new_etag


def test_the_etag_from_a_patch_response_allows_the_next_write(client, task):
    etag = client.patch(task_url(task.id), {"title": "First"})["ETag"]

    response = client.patch(task_url(task.id), {"title": "Second"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Second"


def test_put_with_the_current_etag_succeeds(client, task):
    etag = etag_of(client, task.id)

    response = client.put(task_url(task.id), {"title": "Replaced"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Replaced"
    assert response["ETag"] != etag


def test_delete_with_the_current_etag_succeeds(client, task):
    etag = etag_of(client, task.id)

    response = client.delete(task_url(task.id), HTTP_IF_MATCH=etag)

    assert response.status_code == 204, response.content
    assert not Task.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize(
    ("method", "body"),
    [("patch", {"title": "Lost update"}), ("put", {"title": "Lost update"}), ("delete", None)],
)
def test_stale_if_match_is_a_412_and_changes_nothing(client, task, method, body):
    stale = stale_etag(client, task.id)
    before = task_rows()

    response = getattr(client, method)(task_url(task.id), body, HTTP_IF_MATCH=stale)

    assert_error(response, 412)
    assert task_rows() == before


@pytest.mark.parametrize("if_match", ['"nope"', "garbage", '""', 'W/"x"'])
def test_an_if_match_that_never_was_an_etag_is_a_412(client, task, if_match):
    before = task_rows()

    assert_error(client.patch(task_url(task.id), {"title": "x"}, HTTP_IF_MATCH=if_match), 412)
    assert task_rows() == before


def test_weak_form_of_the_current_etag_does_not_match(client, task):
    """If-Match uses the strong comparison."""
    etag = etag_of(client, task.id)
    before = task_rows()

    assert_error(client.delete(task_url(task.id), HTTP_IF_MATCH=f"W/{etag}"), 412)
    assert task_rows() == before


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_if_match_star_matches_any_current_version(client, task, method):
    stale_etag(client, task.id)
    body = None if method == "delete" else {"title": "Star"}

    response = getattr(client, method)(task_url(task.id), body, HTTP_IF_MATCH="*")

    assert response.status_code == (204 if method == "delete" else 200), response.content


def test_if_match_list_containing_the_current_etag_matches(client, task):
    etag = etag_of(client, task.id)

    response = client.patch(
        task_url(task.id), {"title": "Listed"}, HTTP_IF_MATCH=f'"old-1", {etag}, "old-2"'
    )

    assert response.status_code == 200, response.content


def test_writes_without_if_match_are_unconditional(client, task):
    stale_etag(client, task.id)

    assert client.patch(task_url(task.id), {"title": "No header"}).status_code == 200


def test_stale_if_match_is_checked_before_the_body(client, task):
    """The state of the target (412) comes before the body (400)."""
    stale = stale_etag(client, task.id)
    before = task_rows()

    assert_error(client.patch(task_url(task.id), {"title": ""}, HTTP_IF_MATCH=stale), 412)
    assert task_rows() == before


def test_stale_if_match_on_a_move_changes_nothing(client, team, task):
    target = MembershipFactory(user=team.member).project
    stale = stale_etag(client, task.id)
    before = task_rows()

    response = client.patch(task_url(task.id), {"project_id": target.id}, HTTP_IF_MATCH=stale)

    assert_error(response, 412)
    assert task_rows() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks and concurrent connections; CI runs on PostgreSQL",
)
def test_two_concurrent_writes_with_the_same_etag_let_exactly_one_through(client_for, team):
    """Both clients read the same version, then write at once: one wins, one gets a 412."""
    task = make_task(project=team.project, created_by=team.member, title="Original")
    clients = [client_for(team.member), client_for(team.admin)]
    etag = etag_of(clients[0], task.id)
    barrier = threading.Barrier(len(clients))
    responses: dict[int, object] = {}
    failures: list[BaseException] = []

    def write(index: int, api_client: APIClient) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = api_client.patch(
                task_url(task.id), {"title": f"Writer {index}"}, HTTP_IF_MATCH=etag
            )
        except BaseException as exc:  # surfaced in the main thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=(index, api_client))
        for index, api_client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not failures, failures
    statuses = sorted(response.status_code for response in responses.values())
    assert statuses == [200, 412], [r.content for r in responses.values()]
    winner = next(index for index, r in responses.items() if r.status_code == 200)
    loser = responses[1 - winner]
    assert_error(loser, 412)
    task.refresh_from_db()
    assert task.title == f"Writer {winner}"
    assert responses[winner]["ETag"] == etag_of(clients[0], task.id)


# --- `If-None-Match` on reads: the current version is a 304 -------------------------------


def test_the_current_etag_is_a_304_with_no_body_and_the_etag(client, task):
    etag = client.get(task_url(task.id))["ETag"]

    response = client.get(task_url(task.id), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize("form", ["weak", "listed", "star"])
def test_weak_listed_and_star_forms_match(client, task, form):
    etag = client.get(task_url(task.id))["ETag"]
    header = {"weak": f"W/{etag}", "listed": f'"other", {etag}', "star": "*"}[form]

    assert client.get(task_url(task.id), HTTP_IF_NONE_MATCH=header).status_code == 304


def test_a_changed_task_is_sent_again(client, task):
    etag = client.get(task_url(task.id))["ETag"]
    assert client.patch(task_url(task.id), {"title": "Changed"}).status_code == 200

    response = client.get(task_url(task.id), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["title"] == "Changed"
    assert response["ETag"] != etag


def test_a_stranger_gets_the_404_whatever_the_etag(client_for, team, task):
    stranger = client_for(team.stranger)

    response = stranger.get(task_url(task.id), HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404


# --- The ETag covers everything the body shows ------------------------------------------------

EAST = "Pacific/Kiritimati"  # UTC+14
WEST = "Pacific/Pago_Pago"  # UTC-11: its date is always a day or two behind EAST's


def today_in(zone: str):
    return timezone.now().astimezone(ZoneInfo(zone)).date()


def not_modified(client, task_id, etag) -> bool:
    response = client.get(task_url(task_id), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code in (200, 304), response.content
    return response.status_code == 304


@pytest.mark.parametrize("embedded", ["assignee", "created_by"])
def test_renaming_a_user_the_task_shows_changes_its_etag(client, client_for, team, embedded):
    task = make_task(project=team.project, created_by=team.admin, assignee=team.admin)
    etag = etag_of(client, task.id)

    renamed = client_for(team.admin).patch(ME, {"name": "Grace Renamed"})

    assert renamed.status_code == 200, renamed.content
    assert not not_modified(client, task.id, etag)
    response = client.get(task_url(task.id))
    assert response.json()[embedded]["name"] == "Grace Renamed"
    assert response["ETag"] != etag
    assert not_modified(client, task.id, response["ETag"])


def test_the_callers_time_zone_change_that_flips_is_overdue_changes_the_etag(client, team):
    team.member.timezone = WEST
    team.member.save(update_fields=["timezone"])
    task = make_task(project=team.project, due_date=today_in(WEST))
    before = client.get(task_url(task.id))
    assert before.json()["is_overdue"] is False

    moved = client.patch(ME, {"timezone": EAST})

    assert moved.status_code == 200, moved.content
    assert not not_modified(client, task.id, before["ETag"])
    after = client.get(task_url(task.id))
    assert after.json()["is_overdue"] is True
    assert after["ETag"] != before["ETag"]


def test_callers_who_see_different_bodies_get_different_etags_and_each_may_write_with_theirs(
    client_for, team
):
    team.owner.timezone = EAST
    team.owner.save(update_fields=["timezone"])
    team.member.timezone = WEST
    team.member.save(update_fields=["timezone"])
    task = make_task(project=team.project, due_date=today_in(WEST))
    east, west = client_for(team.owner), client_for(team.member)
    east_etag, west_etag = etag_of(east, task.id), etag_of(west, task.id)
    assert east_etag != west_etag

    refused = west.patch(task_url(task.id), {"title": "West"}, HTTP_IF_MATCH=east_etag)
    written = west.patch(task_url(task.id), {"title": "West"}, HTTP_IF_MATCH=west_etag)

    assert_error(refused, 412)
    assert written.status_code == 200, written.content
    assert written["ETag"] == etag_of(west, task.id)


def test_an_etag_read_before_an_assignee_rename_is_stale_for_writes(client, client_for, team):
    """If-Match compares with the same ETag as the read: the body it was read from changed."""
    task = make_task(project=team.project, created_by=team.member, assignee=team.admin)
    etag = etag_of(client, task.id)
    client_for(team.admin).patch(ME, {"name": "Someone else now"})

    stale = client.patch(task_url(task.id), {"title": "Changed"}, HTTP_IF_MATCH=etag)
    fresh = client.patch(
        task_url(task.id), {"title": "Changed"}, HTTP_IF_MATCH=etag_of(client, task.id)
    )

    assert_error(stale, 412)
    assert fresh.status_code == 200, fresh.content
