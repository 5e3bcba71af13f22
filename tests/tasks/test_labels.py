"""Labels: `/api/v1/projects/{id}/labels/`, and the `label_ids` tasks carry.

Every rule of the contract's Labels section, the `label_ids` rules of Tasks, the label
activity entries and events, and the webhook outbox.
"""

import json
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Activity, Role
from tasks.models import MAX_LABELS_PER_PROJECT, Label, Task
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.support.admin import errors_of, form_data
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql, run_together
from tests.support.envelope import assert_error
from tests.support.feeds import change, entries, summary
from tests.support.tasks import make_task, without_ids
from tests.support.urls import (
    TASKS,
    label_url,
    labels_url,
    project_feed_url,
    task_feed_url,
    task_url,
)
from webhooks.models import Delivery, Webhook, WebhookEvent
from webhooks.sender import new_secret

pytestmark = pytest.mark.django_db

published: list = []


def capture(events) -> None:
    """A sink of core.events.publish for these tests: every event, as sent."""
    published.extend(json.loads(event.text) for event in events)


@pytest.fixture
def sent(settings) -> list:
    settings.EVENT_SINKS = [*settings.EVENT_SINKS, f"{__name__}.capture"]
    published.clear()
    return published


@pytest.fixture
def viewer(team):
    return MembershipFactory(project=team.project, role=Role.VIEWER).user


def make_label(project, name: str, color: str = "#6b7280") -> Label:
    return Label.objects.create(project=project, name=name, color=color)


def create_label(client, project_id: int, **body) -> dict:
    response = client.post(labels_url(project_id), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def label_task(task: Task, *labels: Label) -> None:
    task.labels.add(*labels)


# --- create ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_owner_admin_and_member_create_a_label(client_for, team, role):
    client = client_for(getattr(team, role))

    response = client.post(labels_url(team.project.id), {"name": "  Blog  "}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "project_id", "name", "color", "task_count", "created_at"}
    assert body["project_id"] == team.project.id
    assert body["name"] == "Blog"  # trimmed
    assert body["color"] == "#6b7280"  # the default
    assert body["task_count"] == 0
    assert body["created_at"].endswith("Z")
    assert Label.objects.get(pk=body["id"]).name == "Blog"


def test_the_color_is_stored_lower_cased(member, team):
    body = create_label(member, team.project.id, name="Urgent", color="#AbCdEf")

    assert body["color"] == "#abcdef"
    assert Label.objects.get(pk=body["id"]).color == "#abcdef"


def test_a_viewer_may_not_create_a_label(client_for, team, viewer):
    response = client_for(viewer).post(labels_url(team.project.id), {"name": "x"}, format="json")

    assert_error(response, 403)
    assert not Label.objects.exists()


def test_the_inbox_has_labels_like_any_project(member, team):
    inbox = team.member.owned_projects.get(is_inbox=True)

    assert create_label(member, inbox.id, name="Home")["project_id"] == inbox.id


def test_statuses_come_in_the_contracts_order(api_client, client_for, team, viewer):
    url, bad = labels_url(team.project.id), {"name": ""}
    assert_error(api_client.post(url, bad, format="json"), 401)
    assert_error(client_for(team.stranger).post(url, bad, format="json"), 404)
    assert_error(client_for(viewer).post(url, bad, format="json"), 403)
    assert_error(client_for(team.member).post(url, bad, format="json"), 400, attr="name")
    assert_error(client_for(team.member).post(labels_url(10**15), bad, format="json"), 404)


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, "a\x00b", None])
def test_a_bad_name_is_a_400_on_name(member, team, name):
    response = member.post(labels_url(team.project.id), {"name": name}, format="json")

    assert_error(response, 400, attr="name")
    assert not Label.objects.exists()


def test_a_name_of_fifty_characters_after_trimming_is_accepted(member, team):
    assert create_label(member, team.project.id, name=f"  {'x' * 50}  ")["name"] == "x" * 50


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "#12345g", "123456", "", None])
def test_a_bad_color_is_a_400_on_color(member, team, color):
    body = {"name": "Blog", "color": color}

    assert_error(member.post(labels_url(team.project.id), body, format="json"), 400, attr="color")


def test_a_name_is_unique_in_its_project_ignoring_case(member, team):
    create_label(member, team.project.id, name="Blog")

    response = member.post(labels_url(team.project.id), {"name": " bLOG "}, format="json")

    assert_error(response, 400, attr="name", code="unique")
    assert Label.objects.count() == 1


def test_the_same_name_is_fine_in_another_project(client_for, team):
    make_label(team.project, "Blog")
    other = ProjectFactory(owner=team.member)

    assert create_label(client_for(team.member), other.id, name="blog")["name"] == "blog"


def test_a_project_has_at_most_200_labels(member, team):
    Label.objects.bulk_create(
        [Label(project=team.project, name=f"L{n}") for n in range(MAX_LABELS_PER_PROJECT)]
    )

    response = member.post(labels_url(team.project.id), {"name": "One more"}, format="json")

    assert_error(response, 400, attr="name")
    assert Label.objects.count() == MAX_LABELS_PER_PROJECT


def test_read_only_fields_are_ignored(member, team):
    other = ProjectFactory(owner=team.member)
    body = {"name": "Blog", "project_id": other.id, "task_count": 9, "id": 12345}

    response = member.post(labels_url(team.project.id), body, format="json")

    created = response.json()
    assert response.status_code == 201, created
    assert (created["project_id"], created["task_count"]) == (team.project.id, 0)
    assert created["id"] != 12345


# --- read -----------------------------------------------------------------------------------


def test_the_list_is_by_name_ignoring_case_then_id_and_paginated(client_for, team, viewer):
    b2 = make_label(team.project, "b")
    a = make_label(team.project, "A")
    c = make_label(team.project, "c")
    b1 = make_label(ProjectFactory(), "B")  # another project's: not listed
    client = client_for(viewer)  # viewers read labels

    response = client.get(labels_url(team.project.id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [label["id"] for label in body["results"]] == [a.id, b2.id, c.id]
    assert b1.id not in [label["id"] for label in body["results"]]
    page = client.get(labels_url(team.project.id), {"page_size": 2, "page": 2}).json()
    assert [label["id"] for label in page["results"]] == [c.id]
    assert_error(client.get(labels_url(team.project.id), {"page_size": 0}), 400, attr="page_size")


def test_task_count_counts_the_labels_tasks(member, team):
    blog, empty = make_label(team.project, "Blog"), make_label(team.project, "Empty")
    for _ in range(3):
        label_task(make_task(project=team.project), blog)
    make_task(project=team.project)

    listed = {
        label["name"]: label["task_count"]
        for label in member.get(labels_url(team.project.id)).json()["results"]
    }
    one = member.get(label_url(team.project.id, blog.id)).json()

    assert listed == {"Blog": 3, "Empty": 0}
    assert one["task_count"] == 3
    assert empty.id


def test_a_label_is_a_404_for_a_stranger_and_under_another_project(client_for, team):
    label = make_label(team.project, "Blog")
    mine = ProjectFactory(owner=team.stranger)

    assert_error(client_for(team.stranger).get(labels_url(team.project.id)), 404)
    assert_error(client_for(team.stranger).get(label_url(team.project.id, label.id)), 404)
    assert_error(client_for(team.stranger).get(label_url(mine.id, label.id)), 404)
    assert_error(client_for(team.member).get(label_url(team.project.id, 10**15)), 404)


def test_the_label_endpoints_need_a_token(api_client, team):
    label = make_label(team.project, "Blog")

    assert_error(api_client.get(labels_url(team.project.id)), 401)
    assert_error(api_client.get(label_url(team.project.id, label.id)), 401)
    assert_error(api_client.patch(label_url(team.project.id, label.id), {}), 401)
    assert_error(api_client.delete(label_url(team.project.id, label.id)), 401)


def test_put_is_not_allowed(member, team):
    label = make_label(team.project, "Blog")

    response = member.put(label_url(team.project.id, label.id), {"name": "x"}, format="json")

    assert_error(response, 405)


# --- update ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_owner_admin_and_member_rename_and_recolour(client_for, team, role):
    label = make_label(team.project, "Blog")
    body = {"name": " Posts ", "color": "#FF0000"}

    response = client_for(getattr(team, role)).patch(
        label_url(team.project.id, label.id), body, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["color"]) == ("Posts", "#ff0000")
    label.refresh_from_db()
    assert (label.name, label.color) == ("Posts", "#ff0000")


def test_a_patch_statuses_come_in_the_contracts_order(api_client, client_for, team, viewer):
    label = make_label(team.project, "Blog")
    url, bad = label_url(team.project.id, label.id), {"color": "nope"}
    assert_error(api_client.patch(url, bad, format="json"), 401)
    assert_error(client_for(team.stranger).patch(url, bad, format="json"), 404)
    assert_error(client_for(viewer).patch(url, bad, format="json"), 403)
    assert_error(client_for(team.member).patch(url, bad, format="json"), 400, attr="color")
    label.refresh_from_db()
    assert label.color == "#6b7280"


def test_a_rename_to_a_name_taken_ignoring_case_is_a_400(member, team):
    make_label(team.project, "Blog")
    label = make_label(team.project, "Other")

    response = member.patch(label_url(team.project.id, label.id), {"name": "BLOG"}, format="json")

    assert_error(response, 400, attr="name", code="unique")
    label.refresh_from_db()
    assert label.name == "Other"


def test_a_label_may_change_the_case_of_its_own_name(member, team):
    label = make_label(team.project, "blog")

    response = member.patch(label_url(team.project.id, label.id), {"name": "Blog"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Blog"


def test_a_rename_shows_in_the_tasks_that_carry_it(member, team):
    label = make_label(team.project, "Blog")
    task = make_task(project=team.project)
    label_task(task, label)

    member.patch(label_url(team.project.id, label.id), {"name": "Posts"}, format="json")

    assert member.get(task_url(task.id)).json()["labels"] == [
        {"id": label.id, "name": "Posts", "color": "#6b7280"}
    ]


# --- delete ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_delete_a_label_which_leaves_every_task(client_for, team, role):
    label, kept = make_label(team.project, "Blog"), make_label(team.project, "Kept")
    tasks = [make_task(project=team.project) for _ in range(2)]
    for task in tasks:
        label_task(task, label, kept)

    response = client_for(getattr(team, role)).delete(label_url(team.project.id, label.id))

    assert response.status_code == 204, response.content
    assert not Label.objects.filter(pk=label.id).exists()
    for task in tasks:
        assert list(task.labels.values_list("id", flat=True)) == [kept.id]


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_may_not_delete_a_label(client_for, team, viewer, role):
    user = viewer if role == "viewer" else team.member
    label = make_label(team.project, "Blog")

    assert_error(client_for(user).delete(label_url(team.project.id, label.id)), 403)
    assert Label.objects.filter(pk=label.id).exists()


def test_a_delete_by_a_stranger_is_a_404(client_for, team):
    label = make_label(team.project, "Blog")

    assert_error(client_for(team.stranger).delete(label_url(team.project.id, label.id)), 404)
    assert Label.objects.filter(pk=label.id).exists()


# --- activity and events --------------------------------------------------------------------


def test_the_project_feed_records_each_label_write(owner, team, sent):
    created = create_label(owner, team.project.id, name="Blog")
    lid = created["id"]
    task_ids = sorted(make_task(project=team.project).id for _ in range(2))
    for task_id in task_ids:
        label_task(Task.objects.get(pk=task_id), Label.objects.get(pk=lid))
    owner.patch(label_url(team.project.id, lid), {"name": "Posts", "color": "#FF0000"})
    owner.patch(label_url(team.project.id, lid), {"name": "Posts"})  # no change: nothing
    owner.delete(label_url(team.project.id, lid))

    feed = entries(owner, project_feed_url(team.project.id))

    assert [summary(entry) for entry in feed] == [
        (
            "label_deleted",
            None,
            {"name": change("Posts", None), "task_ids": change(task_ids, [])},
        ),
        (
            "label_updated",
            None,
            {"name": change("Blog", "Posts"), "color": change("#6b7280", "#ff0000")},
        ),
        ("label_created", None, {"name": change(None, "Blog"), "color": change(None, "#6b7280")}),
    ]
    assert [event["type"] for event in sent] == ["label.created", "label.updated", "label.deleted"]
    created_event, updated_event, deleted_event = sent
    assert created_event["data"] == created
    assert created_event["project_id"] == team.project.id
    assert created_event["actor_id"] == team.owner.id
    assert updated_event["data"] == {
        **created,
        "name": "Posts",
        "color": "#ff0000",
        "task_count": 2,
        "changes": ["name", "color"],
    }
    assert deleted_event["data"] == {"id": lid, "task_ids": task_ids}


def test_a_deletion_sends_no_task_event(owner, team, sent):
    label = make_label(team.project, "Blog")
    for _ in range(3):
        label_task(make_task(project=team.project), label)

    owner.delete(label_url(team.project.id, label.id))

    assert [event["type"] for event in sent] == ["label.deleted"]
    assert Activity.objects.filter(project=team.project).count() == 1


def test_a_refused_write_records_and_sends_nothing(client_for, member, team, viewer, sent):
    make_label(team.project, "Blog")

    member.post(labels_url(team.project.id), {"name": "blog"}, format="json")
    client_for(viewer).post(labels_url(team.project.id), {"name": "New"}, format="json")

    assert sent == []
    assert not Activity.objects.filter(project=team.project).exists()


def test_the_webhook_outbox_gets_the_label_events(owner, team):
    hook = Webhook.objects.create(
        project=team.project,
        created_by=team.owner,
        url="https://hooks.example.com/x",
        events=["*"],
        secret=new_secret(),
    )
    lid = create_label(owner, team.project.id, name="Blog")["id"]
    owner.patch(label_url(team.project.id, lid), {"color": "#000000"})
    owner.delete(label_url(team.project.id, lid))

    types = list(
        Delivery.objects.filter(webhook=hook).order_by("id").values_list("event__type", flat=True)
    )

    assert types == ["label.created", "label.updated", "label.deleted"]
    deleted = WebhookEvent.objects.get(type="label.deleted")
    assert json.loads(deleted.body)["data"] == {"id": lid, "task_ids": []}


# --- tasks' label_ids -----------------------------------------------------------------------


def test_a_task_is_created_with_labels_shown_by_name(member, team, sent):
    zeta, alpha = make_label(team.project, "zeta"), make_label(team.project, "Alpha")
    body = {"title": "T", "project_id": team.project.id, "label_ids": [zeta.id, alpha.id, zeta.id]}

    response = member.post(TASKS, body, format="json")

    assert response.status_code == 201, response.content
    task = response.json()
    assert task["label_ids"] == [alpha.id, zeta.id]
    assert task["labels"] == [
        {"id": alpha.id, "name": "Alpha", "color": "#6b7280"},
        {"id": zeta.id, "name": "zeta", "color": "#6b7280"},
    ]
    assert member.get(task_url(task["id"])).json() == task
    [entry] = entries(member, task_feed_url(task["id"]))
    assert entry["changes"]["label_ids"] == change(None, sorted([alpha.id, zeta.id]))
    assert sent[0]["type"] == "task.created"
    assert sent[0]["data"]["label_ids"] == [alpha.id, zeta.id]


def test_a_patch_sets_replaces_and_clears_labels(member, team, sent):
    a, b, c = (make_label(team.project, name) for name in ("a", "b", "c"))
    task = make_task(project=team.project)
    url = task_url(task.id)

    first = member.patch(url, {"label_ids": [b.id, a.id]}, format="json")
    second = member.patch(url, {"label_ids": [c.id, b.id]}, format="json")
    third = member.patch(url, {"label_ids": []}, format="json")

    assert first.json()["label_ids"] == [a.id, b.id]
    assert second.json()["label_ids"] == [b.id, c.id]
    assert third.json()["label_ids"] == []
    assert not task.labels.exists()
    updated = [entry["changes"] for entry in entries(member, task_feed_url(task.id))]
    assert updated == [
        {"label_ids": change([b.id, c.id], [])},
        {"label_ids": change([a.id, b.id], [b.id, c.id])},
        {"label_ids": change([], [a.id, b.id])},
    ]
    assert [event["data"]["changes"] for event in sent] == [["label_ids"]] * 3
    assert second.json()["updated_at"] > first.json()["updated_at"]


def test_a_patch_of_the_same_labels_in_another_order_changes_nothing(member, team, sent):
    a, b = make_label(team.project, "a"), make_label(team.project, "b")
    task = make_task(project=team.project)
    label_task(task, a, b)

    response = member.patch(task_url(task.id), {"label_ids": [b.id, a.id, b.id]}, format="json")

    assert response.status_code == 200, response.content
    assert sent == []
    assert not Activity.objects.filter(task_id=task.id).exists()


def test_a_patch_with_labels_and_another_field_records_both(member, team, sent):
    a = make_label(team.project, "a")
    task = make_task(project=team.project)

    member.patch(task_url(task.id), {"title": "New", "label_ids": [a.id]}, format="json")

    [entry] = entries(member, task_feed_url(task.id))
    assert entry["changes"] == {
        "title": change(task.title, "New"),
        "label_ids": change([], [a.id]),
    }
    assert sorted(sent[0]["data"]["changes"]) == ["label_ids", "title"]


def test_a_patch_without_label_ids_keeps_them_and_a_put_without_clears_them(member, team):
    a = make_label(team.project, "a")
    task = make_task(project=team.project)
    label_task(task, a)

    patched = member.patch(task_url(task.id), {"title": "Kept"}, format="json")
    put = member.put(task_url(task.id), {"title": "Cleared"}, format="json")

    assert patched.json()["label_ids"] == [a.id]
    assert put.status_code == 200, put.content
    assert put.json()["label_ids"] == []
    assert not task.labels.exists()


def test_a_label_of_another_project_is_refused_as_a_missing_one(member, team):
    foreign = make_label(ProjectFactory(), "theirs")
    task = make_task(project=team.project)

    other = member.patch(task_url(task.id), {"label_ids": [foreign.id]}, format="json")
    missing = member.patch(task_url(task.id), {"label_ids": [10**12]}, format="json")
    created = member.post(
        TASKS,
        {"title": "T", "project_id": team.project.id, "label_ids": [foreign.id]},
        format="json",
    )

    [other_error] = assert_error(other, 400, attr="label_ids")
    [missing_error] = assert_error(missing, 400, attr="label_ids")
    assert_error(created, 400, attr="label_ids")
    assert without_ids(other_error["detail"]) == without_ids(missing_error["detail"])
    assert other_error["code"] == missing_error["code"]
    assert not task.labels.exists()
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    "value",
    [3, "3", None, {"id": 1}, ["1"], [1.5], [True], [None], [[1]], [0], [-1], [2**63]],
)
def test_anything_but_a_list_of_label_ids_is_a_400_on_label_ids(member, team, value):
    task = make_task(project=team.project)

    response = member.patch(task_url(task.id), {"label_ids": value}, format="json")

    assert_error(response, 400, attr="label_ids")


def test_a_task_carries_at_most_20_distinct_labels(member, team):
    labels = [make_label(team.project, f"L{n}") for n in range(21)]
    task = make_task(project=team.project)
    url = task_url(task.id)

    refused = member.patch(url, {"label_ids": [label.id for label in labels]}, format="json")
    twenty = [label.id for label in labels[:20]]
    accepted = member.patch(url, {"label_ids": twenty + twenty}, format="json")

    assert_error(refused, 400, attr="label_ids")
    assert accepted.status_code == 200, accepted.content
    assert sorted(accepted.json()["label_ids"]) == sorted(twenty)


def test_a_moved_task_keeps_only_the_labels_its_request_names_in_the_target(client_for, team):
    here = make_label(team.project, "here")
    target = ProjectFactory(owner=team.member)
    there = make_label(target, "there")
    task = make_task(project=team.project, created_by=team.member)
    label_task(task, here)
    client = client_for(team.member)

    moved = client.patch(task_url(task.id), {"project_id": target.id}, format="json")

    assert moved.status_code == 200, moved.content
    assert moved.json()["label_ids"] == []
    [entry, *_] = entries(client, task_feed_url(task.id))
    assert entry["changes"]["label_ids"] == change([here.id], [])
    back = client.patch(
        task_url(task.id),
        {"project_id": team.project.id, "label_ids": [here.id]},
        format="json",
    )
    assert back.json()["label_ids"] == [here.id]
    # Named labels are checked against the target: one of the source's is refused.
    refused = client.patch(
        task_url(task.id), {"project_id": target.id, "label_ids": [here.id]}, format="json"
    )
    assert_error(refused, 400, attr="label_ids")
    named = client.patch(
        task_url(task.id), {"project_id": target.id, "label_ids": [there.id]}, format="json"
    )
    assert named.json()["label_ids"] == [there.id]
    assert Task.objects.get(pk=task.id).project_id == target.id


def test_a_write_returns_its_labels_without_reading_them_again(member, team):
    a = make_label(team.project, "a")
    task = make_task(project=team.project)

    with CaptureQueriesContext(connection) as queries:
        response = member.patch(task_url(task.id), {"label_ids": [a.id]}, format="json")

    assert response.json()["labels"] == [{"id": a.id, "name": "a", "color": "#6b7280"}]
    reads = [q["sql"] for q in queries.captured_queries if '"tasks_label"."name"' in q["sql"]]
    # the one read that checks (and on PostgreSQL locks) the labels named; no read-back
    assert len([sql for sql in reads if "tasks_task_labels" not in sql]) <= 1, reads


def test_a_viewer_cannot_be_given_label_writes_through_another_members_project(client_for, team):
    """A label of a project the caller does not belong to is refused on a task of theirs,
    as a missing one: the label's existence is not revealed."""
    stranger_project = ProjectFactory(owner=UserFactory())
    hidden = make_label(stranger_project, "hidden")
    task = make_task(project=team.project)

    response = client_for(team.member).patch(
        task_url(task.id), {"label_ids": [hidden.id]}, format="json"
    )

    assert_error(response, 400, attr="label_ids")


# --- statements of a task write with labels -------------------------------------------------

# tests/tasks/test_write_queries.py pins a write without labels (6 on PostgreSQL, 7 on
# SQLite). Naming labels adds their check (one SELECT, which locks them on PostgreSQL) and
# one statement per kind of change of the task's rows in the labels' table (an INSERT of the
# added, a DELETE of the removed); the response reads nothing back.
BASE_STATEMENTS = 6 if connection.vendor == "postgresql" else 7
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


def statements(client, method: str, url: str, body: dict) -> tuple:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, body, format="json")
    sql = [query["sql"] for query in queries.captured_queries]
    return response, [text for text in sql if not text.startswith(TRANSACTION_CONTROL)]


@pytest.mark.django_db(transaction=True)
def test_a_create_with_labels_costs_two_statements_more(client_for, team):
    labels = [make_label(team.project, name) for name in ("a", "b")]
    client = client_for(team.member)
    body = {"title": "T", "project_id": team.project.id, "label_ids": [x.id for x in labels]}

    response, sql = statements(client, "post", TASKS, body)

    assert response.status_code == 201, response.content
    assert len(sql) <= BASE_STATEMENTS + 2, "\n".join(sql)
    assert response.content == client.get(task_url(response.json()["id"])).content


@pytest.mark.django_db(transaction=True)
def test_a_patch_that_replaces_labels_costs_three_statements_more(client_for, team):
    a, b = make_label(team.project, "a"), make_label(team.project, "b")
    task = make_task(project=team.project)
    label_task(task, a)
    client = client_for(team.member)

    response, sql = statements(client, "patch", task_url(task.id), {"label_ids": [b.id]})

    assert response.status_code == 200, response.content
    assert len(sql) <= BASE_STATEMENTS + 3, "\n".join(sql)
    read = client.get(task_url(task.id))
    assert (response.content, response["ETag"]) == (read.content, read["ETag"])


@pytest.mark.django_db(transaction=True)
def test_a_patch_that_adds_labels_costs_two_statements_more(client_for, team):
    a = make_label(team.project, "a")
    task = make_task(project=team.project)
    client = client_for(team.member)

    response, sql = statements(
        client, "patch", task_url(task.id), {"title": "New", "label_ids": [a.id]}
    )

    assert response.status_code == 200, response.content
    assert len(sql) <= BASE_STATEMENTS + 2, "\n".join(sql)


# --- races (PostgreSQL: real concurrent connections) ----------------------------------------


def _request(client, method: str, url: str, body=None):
    return partial(getattr(client, method), url, body, format="json")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_name_make_one_label(team):
    require_postgresql()
    clients = [logged_in(user, raise_request_exception=False) for user in (team.owner, team.member)]
    for round_ in range(3):
        name = f"Race {round_}"
        responses = run_together(
            [
                _request(client, "post", labels_url(team.project.id), {"name": spelled})
                for client, spelled in zip(clients, (name, name.upper()), strict=True)
            ]
        )

        assert sorted(response.status_code for response in responses) == [201, 400]
        [refused] = [response for response in responses if response.status_code == 400]
        assert_error(refused, 400, attr="name", code="unique")
        assert Label.objects.filter(project=team.project, name__iexact=name).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_label_deleted_while_tasks_take_it_is_on_no_task_afterwards(team):
    """Deleting a label while PATCHes give it to tasks: each PATCH either went first (the
    deletion takes the label off its task) or comes after (a 400); never a 500, never a task
    carrying a deleted label."""
    require_postgresql()
    owner = logged_in(team.owner, raise_request_exception=False)
    member = logged_in(team.member, raise_request_exception=False)
    for _round in range(3):
        label = make_label(team.project, f"Doomed {_round}")
        tasks = [make_task(project=team.project) for _ in range(4)]
        calls = [
            _request(member, "patch", task_url(task.id), {"label_ids": [label.id]})
            for task in tasks
        ]
        calls.append(_request(owner, "delete", label_url(team.project.id, label.id)))

        responses = run_together(calls)

        assert {response.status_code for response in responses[:-1]} <= {200, 400}
        assert responses[-1].status_code == 204
        assert not Task.labels.through.objects.filter(label_id=label.id).exists()


def test_a_webhook_may_ask_for_label_events_by_name(owner, team):
    response = owner.post(
        f"/api/v1/projects/{team.project.id}/webhooks/",
        {"url": "https://hooks.example.com/x", "events": ["label.deleted"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    lid = create_label(owner, team.project.id, name="Blog")["id"]
    owner.delete(label_url(team.project.id, lid))
    hook = Webhook.objects.get(pk=response.json()["id"])
    assert list(Delivery.objects.filter(webhook=hook).values_list("event__type", flat=True)) == [
        "label.deleted"
    ]


# --- the admin ------------------------------------------------------------------------------

LABEL_ADMIN = "/admin/tasks/label/"


def test_an_operator_adds_a_label_through_the_service(admin_client, admin_user, team, sent):
    data = form_data(
        admin_client.get(f"{LABEL_ADMIN}add/"),
        project=team.project.pk,
        name=" Blog ",
        color="#ABCDEF",
    )

    response = admin_client.post(f"{LABEL_ADMIN}add/", data)

    assert response.status_code == 302, errors_of(response)
    label = Label.objects.get(project=team.project)
    assert (label.name, label.color) == ("Blog", "#abcdef")
    entry = Activity.objects.get(verb="label_created")
    assert entry.actor == admin_user
    assert [event["type"] for event in sent] == ["label.created"]


def test_the_admin_refuses_a_taken_name_and_a_bad_color_on_their_fields(admin_client, team):
    make_label(team.project, "Blog")
    page = admin_client.get(f"{LABEL_ADMIN}add/")

    taken = admin_client.post(
        f"{LABEL_ADMIN}add/", form_data(page, project=team.project.pk, name="BLOG")
    )
    bad = admin_client.post(
        f"{LABEL_ADMIN}add/", form_data(page, project=team.project.pk, name="x", color="blue")
    )

    assert taken.status_code == 200
    assert errors_of(taken)  # the constraint, checked by the form before the service
    assert Label.objects.count() == 1
    assert "color" in errors_of(bad)


def test_an_operator_deletes_a_label_which_leaves_its_tasks(admin_client, team, sent):
    label = make_label(team.project, "Blog")
    task = make_task(project=team.project)
    label_task(task, label)

    response = admin_client.post(f"{LABEL_ADMIN}{label.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Label.objects.exists()
    assert [event["type"] for event in sent] == ["label.deleted"]
    assert sent[0]["data"] == {"id": label.pk, "task_ids": [task.pk]}


def test_the_project_page_lists_and_adds_labels_inline(admin_client, team, sent):
    make_label(team.project, "Existing")
    url = f"/admin/projects/project/{team.project.pk}/change/"
    page = admin_client.get(url)
    assert b"Existing" in page.content
    data = form_data(page)
    prefix = next(key for key in data if key.endswith("-TOTAL_FORMS") and "label" in key)
    prefix = prefix.removesuffix("-TOTAL_FORMS")
    data[f"{prefix}-TOTAL_FORMS"] = str(int(data[f"{prefix}-TOTAL_FORMS"]) + 1)
    new = int(data[f"{prefix}-TOTAL_FORMS"]) - 1
    data[f"{prefix}-{new}-name"] = "Added"
    data[f"{prefix}-{new}-color"] = "#00FF00"

    response = admin_client.post(url, data)

    assert response.status_code == 302, errors_of(response)
    added = Label.objects.get(name="Added")
    assert added.color == "#00ff00"
    assert [event["type"] for event in sent] == ["label.created"]


def test_the_task_form_sets_labels_through_the_service(admin_client, team, sent):
    mine = make_label(team.project, "mine")
    foreign = make_label(ProjectFactory(), "theirs")
    task = make_task(project=team.project)
    url = f"/admin/tasks/task/{task.pk}/change/"

    refused = admin_client.post(url, form_data(admin_client.get(url), labels=[foreign.pk]))
    accepted = admin_client.post(url, form_data(admin_client.get(url), labels=[mine.pk]))

    assert "labels" in errors_of(refused)
    assert accepted.status_code == 302
    assert list(task.labels.values_list("id", flat=True)) == [mine.pk]
    [entry] = Activity.objects.filter(task_id=task.pk, verb="updated")
    assert entry.changes == {"label_ids": {"from": [], "to": [mine.pk]}}
    assert [event["data"]["changes"] for event in sent] == [["label_ids"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", ["create", "update", "delete"])
def test_each_label_write_costs_a_fixed_number_of_statements(client_for, team, write):
    """The caller, the project (with the caller's role), the project's lock, then: the cap's
    count and the INSERT / the label's lock, UPDATE and its task count / the label's lock, its
    tasks, Django's read of the label it deletes and the two DELETEs; the activity entry; the
    project's webhooks. However many tasks carry the label."""
    client = client_for(team.owner)
    label = make_label(team.project, "Blog")
    for _ in range(5):
        label_task(make_task(project=team.project), label)
    request = {
        "create": ("post", labels_url(team.project.id), {"name": "New"}, 201, 7),
        "update": ("patch", label_url(team.project.id, label.id), {"name": "Posts"}, 200, 9),
        "delete": ("delete", label_url(team.project.id, label.id), None, 204, 11),
    }[write]
    method, url, body, status, most = request

    response, sql = statements(client, method, url, body)

    assert response.status_code == status, response.content
    assert len(sql) <= most, "\n".join(sql)
