"""The inbox: `/api/v1/notifications/`, `unread-count/` and `read/`, against the contract's
Notifications section: the caller's own notifications of the projects they belong to now
(and only a project-limited token's projects), newest first, `?unread=true`, and mark-read's
body rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.render import utc_timestamp
from notifications.models import Notification, Verb
from projects.models import Membership
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.notifications import make_notification
from tests.support.personal_tokens import READ, READ_WRITE, WRITE, token_client
from tests.support.urls import MARK_READ, NOTIFICATIONS, UNREAD_COUNT

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client_for, team):
    return client_for(team.member)


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [n["id"] for n in response.json()["results"]]


def unread(client) -> int:
    response = client.get(UNREAD_COUNT)
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"count"}
    return response.json()["count"]


def test_the_list_shows_the_callers_notifications_newest_first_as_the_contract_writes_them(
    team, member
):
    task = TaskFactory(project=team.project)
    older = make_notification(team.member, team.project, age=timedelta(hours=2), read=True)
    newer = make_notification(team.member, team.project, actor=team.admin, task=task)
    make_notification(team.admin, team.project)  # someone else's

    response = member.get(NOTIFICATIONS)

    assert ids_of(response) == [newer.pk, older.pk]
    body = response.json()
    assert body["count"] == 2
    assert body["results"][0] == {
        "id": newer.pk,
        "verb": "assigned",
        "actor": {"id": team.admin.pk, "email": team.admin.email, "name": team.admin.name},
        "project_id": team.project.pk,
        "task_id": task.pk,
        "comment_id": None,
        "created_at": utc_timestamp(newer.created_at),
        "read_at": None,
    }
    assert body["results"][1]["read_at"] == utc_timestamp(older.read_at)


def test_unread_true_lists_only_unread_ones_and_false_lists_all(team, member):
    read = make_notification(team.member, team.project, read=True, age=timedelta(minutes=1))
    fresh = make_notification(team.member, team.project)

    assert ids_of(member.get(NOTIFICATIONS, {"unread": "true"})) == [fresh.pk]
    assert ids_of(member.get(NOTIFICATIONS, {"unread": "false"})) == [fresh.pk, read.pk]
    assert ids_of(member.get(NOTIFICATIONS, {"unread": ""})) == [fresh.pk, read.pk]


@pytest.mark.parametrize("value", ["yes", "1", "True", "TRUE", " true", "\x00"])
def test_a_bad_unread_value_is_a_400_naming_it(team, member, value):
    response = member.get(NOTIFICATIONS, {"unread": value})

    assert_error(response, 400, attr="unread")


def test_unread_given_twice_is_a_400_naming_it(member):
    response = member.get(f"{NOTIFICATIONS}?unread=true&unread=true")

    assert_error(response, 400, attr="unread", code="repeated")


def test_a_bad_unread_and_a_bad_page_are_answered_together(member):
    response = member.get(NOTIFICATIONS, {"unread": "maybe", "page": "0"})

    errors = assert_error(response, 400)
    assert {error["attr"] for error in errors} == {"unread", "page"}


def test_the_list_is_paginated(team, member):
    for minutes in range(3):
        make_notification(team.member, team.project, age=timedelta(minutes=minutes))

    body = member.get(NOTIFICATIONS, {"page_size": 2}).json()

    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert_error(member.get(NOTIFICATIONS, {"page": 3, "page_size": 2}), 404)


def test_a_page_costs_a_fixed_number_of_queries(team, member, django_assert_num_queries):
    for _ in range(5):
        make_notification(team.member, team.project, actor=UserFactory())

    # The user (JWT), the count, the page with its actors.
    with django_assert_num_queries(3):
        assert len(ids_of(member.get(NOTIFICATIONS))) == 5


def test_unread_count_counts_the_callers_unread_notifications(team, member):
    make_notification(team.member, team.project)
    make_notification(team.member, team.project)
    make_notification(team.member, team.project, read=True)
    make_notification(team.admin, team.project)

    assert unread(member) == 2


def test_unread_count_is_one_query(team, member, django_assert_num_queries):
    make_notification(team.member, team.project)

    with django_assert_num_queries(2):  # the user (JWT), the count
        assert unread(member) == 1


# --- visibility -----------------------------------------------------------------------------


def test_a_project_the_user_left_hides_its_notifications_from_the_list_and_the_count(team, member):
    kept = make_notification(team.member, team.project)
    elsewhere = ProjectFactory(owner=team.admin)
    MembershipFactory(project=elsewhere, user=team.member)
    hidden = make_notification(team.member, elsewhere)
    assert unread(member) == 2

    Membership.objects.filter(project=elsewhere, user=team.member).delete()

    assert ids_of(member.get(NOTIFICATIONS)) == [kept.pk]
    assert unread(member) == 1
    assert member.post(MARK_READ, {"ids": [hidden.pk]}, format="json").json() == {"count": 1}
    hidden.refresh_from_db()
    assert hidden.read_at is None  # not visible: ignored

    # Back in the project, they come back.
    MembershipFactory(project=elsewhere, user=team.member)
    assert set(ids_of(member.get(NOTIFICATIONS))) == {kept.pk, hidden.pk}


def test_a_project_limited_token_sees_only_its_projects_notifications(team):
    elsewhere = ProjectFactory(owner=team.admin)
    MembershipFactory(project=elsewhere, user=team.member)
    mine = make_notification(team.member, team.project)
    other = make_notification(team.member, elsewhere)
    client = token_client(team.member, scopes=READ_WRITE, project_ids=[team.project.pk])

    assert ids_of(client.get(NOTIFICATIONS)) == [mine.pk]
    assert unread(client) == 1
    response = client.post(MARK_READ, {"all": True}, format="json")

    assert response.json() == {"count": 0}
    other.refresh_from_db()
    assert other.read_at is None
    assert unread(token_client(team.member, scopes=READ)) == 1  # an unlimited token sees it


def test_a_read_token_may_list_and_count_but_not_mark_read(team):
    notification = make_notification(team.member, team.project)
    client = token_client(team.member, scopes=READ)

    assert ids_of(client.get(NOTIFICATIONS)) == [notification.pk]
    assert unread(client) == 1
    errors = assert_error(client.post(MARK_READ, {"all": True}, format="json"), 403)
    assert "`write` scope" in errors[0]["detail"]
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_write_only_token_marks_read_without_reading_the_count(team):
    notification = make_notification(team.member, team.project)
    client = token_client(team.member, scopes=WRITE)

    assert_error(client.get(NOTIFICATIONS), 403)
    response = client.post(MARK_READ, {"ids": [notification.pk]}, format="json")

    assert response.status_code == 200 and response.json() == {}
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize(
    ("method", "url"), [("get", NOTIFICATIONS), ("get", UNREAD_COUNT), ("post", MARK_READ)]
)
def test_anonymous_callers_get_401(client, method, url):
    assert_error(getattr(client, method)(url), 401)


# --- mark read ------------------------------------------------------------------------------


def test_marking_ids_read_ignores_other_peoples_and_missing_ids(team, member):
    first = make_notification(team.member, team.project)
    second = make_notification(team.member, team.project)
    theirs = make_notification(team.admin, team.project)

    response = member.post(
        MARK_READ, {"ids": [first.pk, first.pk, theirs.pk, 2**63 - 1, 0, -5]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"count": 1}
    assert Notification.objects.get(pk=first.pk).read_at is not None
    assert Notification.objects.get(pk=second.pk).read_at is None
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_marking_all_read_leaves_nothing_unread_and_keeps_earlier_read_times(team, member):
    earlier = timezone.now() - timedelta(days=3)
    already = make_notification(team.member, team.project)
    Notification.objects.filter(pk=already.pk).update(read_at=earlier)
    make_notification(team.member, team.project)
    theirs = make_notification(team.admin, team.project)

    response = member.post(MARK_READ, {"all": True}, format="json")

    assert response.json() == {"count": 0}
    assert unread(member) == 0
    assert Notification.objects.get(pk=already.pk).read_at == earlier
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert ids_of(member.get(NOTIFICATIONS, {"unread": "true"})) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"all": False},
        {"all": "true"},
        {"all": 1},
        {"all": None},
        {"all": True, "ids": [1]},
        {"all": False, "ids": [1]},
        {"ids": []},
        {"ids": None},
        {"ids": "1"},
        {"ids": [1, "2"]},
        {"ids": [1.5]},
        {"ids": [True]},
        {"ids": [2**63]},
        {"ids": [-(2**63) - 1]},
        {"ids": [10**400]},
        {"ids": list(range(1, 102))},
    ],
    ids=lambda body: repr(body)[:40],
)
def test_a_body_without_exactly_one_of_ids_and_all_true_is_a_400_on_ids(team, member, body):
    notification = make_notification(team.member, team.project)

    response = member.post(MARK_READ, body, format="json")

    assert_error(response, 400, attr="ids")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_hundred_ids_are_accepted(team, member):
    notification = make_notification(team.member, team.project)

    response = member.post(
        MARK_READ, {"ids": [notification.pk, *range(10**12, 10**12 + 99)]}, format="json"
    )

    assert response.json() == {"count": 0}


@pytest.mark.parametrize("body", ["[1, 2]", '"all"', "null"])
def test_a_body_that_is_not_an_object_is_a_400(member, body):
    response = member.post(MARK_READ, body, content_type="application/json")

    assert_error(response, 400)


def test_unknown_body_fields_are_ignored(team, member):
    make_notification(team.member, team.project)

    response = member.post(MARK_READ, {"all": True, "verb": "x"}, format="json")

    assert response.json() == {"count": 0}


def test_verb_choices_match_the_contract():
    assert sorted(Verb.values) == ["added_to_project", "assigned", "commented", "mentioned"]
