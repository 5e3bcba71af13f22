"""Comments: `/api/v1/tasks/{id}/comments/`, the task's `comment_count`, the comment events and
the notifications a comment makes.

Every rule of the contract's Comments section: who may read, write, edit and delete, the
body and `mention_ids` rules, the order of the checks, the events (and the webhook outbox),
the `mentioned` and `commented` notifications, and that comments are not activity entries.
"""

import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.numbers import MAX_BIGINT
from notifications.models import Notification
from projects.models import Activity, Membership, Role
from tasks.models import Comment, Task
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.support.admin import errors_of, form_data
from tests.support.concurrency import require_postgresql, run_together
from tests.support.envelope import assert_error
from tests.support.tasks import make_task
from tests.support.urls import TASKS, UNREAD_COUNT, comment_url, comments_url, task_url
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


@pytest.fixture
def task(team):
    """A task of the team's project, created by the owner and assigned to the admin."""
    return make_task(project=team.project, created_by=team.owner, assignee=team.admin)


def summary(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name}


def post_comment(client, task_id: int, **body) -> dict:
    response = client.post(comments_url(task_id), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def write_comment(task: Task, author, body: str = "A comment") -> Comment:
    return Comment.objects.create(task=task, author=author, body=body)


def notifications() -> set[tuple]:
    return set(Notification.objects.values_list("recipient_id", "verb", "comment_id"))


# --- the role table -------------------------------------------------------------------------

ACTORS = ("author", "other member", "viewer", "admin", "owner", "non-member", "anonymous")

# fmt: off
CONTRACT = [
    # action     author  other member  viewer  admin  owner  non-member  anonymous
    ("list",     200,    200,          200,    200,   200,   404,        401),
    ("retrieve", 200,    200,          200,    200,   200,   404,        401),
    ("create",   201,    201,          201,    201,   201,   404,        401),
    ("edit",     200,    403,          403,    403,   403,   404,        401),
    ("delete",   204,    403,          403,    204,   204,   404,        401),
]
# fmt: on

CASES = [
    pytest.param(action, actor, status, id=f"{action} as {actor} -> {status}")
    for action, *statuses in CONTRACT
    for actor, status in zip(ACTORS, statuses, strict=True)
]


def comment_rows() -> list[tuple]:
    return sorted(Comment.objects.values_list("id", "task_id", "author_id", "body"))


@pytest.mark.parametrize(("action", "actor", "expected"), CASES)
def test_comment_endpoints_follow_the_contract_table(
    client_for, team, task, viewer, action, actor, expected
):
    comment = write_comment(task, team.member, "Before")
    users = {
        "author": team.member,
        "other member": team.other_member,
        "viewer": viewer,
        "admin": team.admin,
        "owner": team.owner,
        "non-member": team.stranger,
    }
    client = APIClient() if actor == "anonymous" else client_for(users[actor])
    method, url, body = {
        "list": ("get", comments_url(task.id), None),
        "retrieve": ("get", comment_url(task.id, comment.id), None),
        "create": ("post", comments_url(task.id), {"body": "New"}),
        "edit": ("patch", comment_url(task.id, comment.id), {"body": "After"}),
        "delete": ("delete", comment_url(task.id, comment.id), None),
    }[action]
    before = comment_rows()

    response = getattr(client, method)(url, body, format="json")

    if expected >= 400:
        assert_error(response, expected)
        assert comment_rows() == before, "a refused call changed the database"
        return
    assert response.status_code == expected, response.content
    if action == "list":
        assert [c["id"] for c in response.json()["results"]] == [comment.id]
    elif action == "retrieve":
        assert response.json()["body"] == "Before"
    elif action == "create":
        assert response.json()["author"] == summary(users[actor])
    elif action == "edit":
        assert Comment.objects.get(pk=comment.pk).body == "After"
    else:
        assert not Comment.objects.filter(pk=comment.pk).exists()


def test_a_viewer_edits_and_deletes_their_own_comment(client_for, task, viewer):
    client = client_for(viewer)
    comment = post_comment(client, task.id, body="Seen")

    response = client.patch(comment_url(task.id, comment["id"]), {"body": "Seen it"})
    assert response.status_code == 200, response.content
    assert response.json()["body"] == "Seen it"
    assert client.delete(comment_url(task.id, comment["id"])).status_code == 204


def test_statuses_come_in_the_contracts_order(api_client, client_for, team, task):
    comment = write_comment(task, team.member)
    url, bad = comment_url(task.id, comment.id), {"body": ""}
    assert_error(api_client.patch(url, bad, format="json"), 401)
    assert_error(client_for(team.stranger).patch(url, bad, format="json"), 404)
    assert_error(client_for(team.owner).patch(url, bad, format="json"), 403)
    assert_error(client_for(team.member).patch(url, bad, format="json"), 400, attr="body")
    create = comments_url(task.id)
    assert_error(client_for(team.stranger).post(create, bad, format="json"), 404)
    assert_error(client_for(team.member).post(create, bad, format="json"), 400, attr="body")
    assert_error(client_for(team.member).post(comments_url(10**15), bad, format="json"), 404)


def test_a_comment_of_another_task_is_a_404(client_for, team, task):
    other = make_task(project=team.project)
    comment = write_comment(other, team.member)
    client = client_for(team.member)

    assert_error(client.get(comment_url(task.id, comment.id)), 404)
    assert_error(client.patch(comment_url(task.id, comment.id), {"body": "x"}), 404)
    assert_error(client.delete(comment_url(task.id, comment.id)), 404)
    assert Comment.objects.get(pk=comment.pk).body == "A comment"


def test_a_comment_outlives_its_authors_membership(client_for, team, task):
    comment = write_comment(task, team.other_member, "Still here")
    Membership.objects.filter(project=team.project, user=team.other_member).delete()

    body = client_for(team.member).get(comments_url(task.id)).json()

    assert [c["author"] for c in body["results"]] == [summary(team.other_member)]
    response = client_for(team.owner).delete(comment_url(task.id, comment.id))
    assert response.status_code == 204


def test_a_deleted_authors_comment_has_a_null_author(client_for, team, task):
    author = UserFactory()
    MembershipFactory(project=team.project, user=author)
    write_comment(task, author)
    author.owned_projects.all().delete()  # their Inbox
    author.delete()

    body = client_for(team.member).get(comments_url(task.id)).json()

    assert body["results"][0]["author"] is None


# --- the list and the representation -------------------------------------------------------


def test_a_comment_shows_exactly_its_fields(member, team, task):
    body = post_comment(member, task.id, body="Hello", mention_ids=[team.admin.id])

    assert list(body) == [
        "id",
        "task_id",
        "author",
        "body",
        "mentions",
        "created_at",
        "updated_at",
    ]
    assert body["task_id"] == task.id
    assert body["author"] == summary(team.member)
    assert body["mentions"] == [summary(team.admin)]
    assert body["created_at"].endswith("Z")
    assert body["updated_at"] == body["created_at"] or body["updated_at"] > body["created_at"]
    assert member.get(comment_url(task.id, body["id"])).json() == body


def test_the_list_is_oldest_first_and_paginated(member, team, task):
    ids = [post_comment(member, task.id, body=f"#{n}")["id"] for n in range(5)]
    write_comment(make_task(project=team.project), team.member)  # another task's

    first = member.get(comments_url(task.id), {"page_size": 2}).json()
    last = member.get(comments_url(task.id), {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [c["id"] for c in first["results"]] == ids[:2]
    assert first["next"] is not None
    assert [c["id"] for c in last["results"]] == ids[4:]
    assert_error(member.get(comments_url(task.id), {"page_size": "0"}), 400, attr="page_size")


def test_the_list_costs_the_same_queries_for_1_and_20_comments(member, team, task):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = member.get(comments_url(task.id), {"page_size": 50})
        assert response.status_code == 200
        return len(captured)

    post_comment(member, task.id, body="one", mention_ids=[team.admin.id])
    with_one = queries()
    for n in range(19):
        post_comment(member, task.id, body=f"#{n}", mention_ids=[team.admin.id, team.owner.id])

    assert queries() == with_one


# --- body -----------------------------------------------------------------------------------


def test_the_body_is_stored_trimmed_and_otherwise_exactly_as_sent(member, task):
    sent = "  \n Line one\n\n\tindented  \u00e9\u2603 \U0001f680  \n"

    body = post_comment(member, task.id, body=sent)

    assert body["body"] == "Line one\n\n\tindented  \u00e9\u2603 \U0001f680"
    assert Comment.objects.get(pk=body["id"]).body == body["body"]


def test_html_comes_back_byte_for_byte_as_json(member, task):
    html = "<script>alert(\"x\")</script><b onclick='y()'>&amp; &lt;</b> <!-- -->"

    created = member.post(comments_url(task.id), {"body": html}, format="json")
    listed = member.get(comments_url(task.id))

    for response in (created, listed):
        assert response["Content-Type"] == "application/json"
    assert created.json()["body"] == html
    assert listed.json()["results"][0]["body"] == html
    assert json.dumps(html) in listed.content.decode()  # not escaped into entities


MISSING = object()


@pytest.mark.parametrize("body", ["", "   \n", "x" * 10_001, "a\x00b", None, [], MISSING])
def test_a_bad_body_is_a_400_on_body(member, task, body):
    payload = {} if body is MISSING else {"body": body}

    assert_error(member.post(comments_url(task.id), payload, format="json"), 400, attr="body")
    assert not Comment.objects.exists()


def test_a_body_of_10000_characters_after_trimming_is_accepted(member, task):
    body = post_comment(member, task.id, body=f"  {'x' * 10_000}  ")

    assert len(body["body"]) == 10_000


def test_a_bad_body_on_edit_is_a_400_and_changes_nothing(member, team, task):
    comment = write_comment(task, team.member, "Kept")

    for bad in ("", "x\x00", "y" * 10_001):
        response = member.patch(comment_url(task.id, comment.id), {"body": bad}, format="json")
        assert_error(response, 400, attr="body")
    assert Comment.objects.get(pk=comment.pk).body == "Kept"


# --- mention_ids ----------------------------------------------------------------------------


def test_mentions_are_members_viewers_included_by_id_whatever_the_order(member, team, task, viewer):
    ids = [viewer.id, team.owner.id, team.admin.id, team.owner.id]

    body = post_comment(member, task.id, body="Look", mention_ids=ids)

    expected = sorted([viewer, team.owner, team.admin], key=lambda user: user.id)
    assert body["mentions"] == [summary(user) for user in expected]
    stored = Comment.objects.get(pk=body["id"]).mentions.values_list("id", flat=True)
    assert sorted(stored) == [user.id for user in expected]


def test_a_stranger_and_a_missing_user_get_the_same_400(member, team, task):
    missing_id = UserFactory().id + 1000

    answers = [
        assert_error(
            member.post(comments_url(task.id), {"body": "x", "mention_ids": ids}, format="json"),
            400,
            attr="mention_ids",
        )
        for ids in ([team.stranger.id], [missing_id], [team.admin.id, team.stranger.id])
    ]

    assert answers[0] == answers[1] == answers[2]
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "mention_ids",
    [
        "1",
        5,
        {"id": 1},
        [True],
        ["1"],
        [1.5],
        [None],
        [0],
        [-3],
        [MAX_BIGINT + 1],
        [2**64],
        [-(2**63) - 1],
        [10**30],
    ],
)
def test_bad_mention_ids_are_a_400_on_mention_ids(member, task, mention_ids):
    response = member.post(
        comments_url(task.id), {"body": "x", "mention_ids": mention_ids}, format="json"
    )

    assert_error(response, 400, attr="mention_ids")
    assert not Comment.objects.exists()


def test_at_most_20_distinct_users_are_mentioned(member, team, task):
    users = [MembershipFactory(project=team.project).user for _ in range(21)]

    response = member.post(
        comments_url(task.id),
        {"body": "x", "mention_ids": [user.id for user in users]},
        format="json",
    )
    assert_error(response, 400, attr="mention_ids")

    twenty = [user.id for user in users[:20]]
    body = post_comment(member, task.id, body="x", mention_ids=twenty + twenty)
    assert len(body["mentions"]) == 20


def test_an_edit_changes_the_mentions(member, team, task):
    comment = post_comment(member, task.id, body="x", mention_ids=[team.admin.id])

    response = member.patch(
        comment_url(task.id, comment["id"]), {"mention_ids": [team.owner.id]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["mentions"] == [summary(team.owner)]
    assert response.json()["body"] == "x"
    cleared = member.patch(comment_url(task.id, comment["id"]), {"mention_ids": []}, format="json")
    assert cleared.json()["mentions"] == []


def test_an_edit_mentioning_a_stranger_changes_nothing(member, team, task):
    comment = post_comment(member, task.id, body="x", mention_ids=[team.admin.id])

    response = member.patch(
        comment_url(task.id, comment["id"]),
        {"body": "changed", "mention_ids": [team.stranger.id]},
        format="json",
    )

    assert_error(response, 400, attr="mention_ids")
    assert member.get(comment_url(task.id, comment["id"])).json() == comment


# --- comment_count and the task's ETag ------------------------------------------------------


def test_comment_count_is_in_the_task_detail_and_the_list(member, team, task):
    before = member.get(task_url(task.id)).json()
    assert before["comment_count"] == 0
    keys = list(before)
    assert keys.index("comment_count") == keys.index("completed_subtask_count") + 1
    for n in range(3):
        post_comment(member, task.id, body=f"#{n}")

    listed = {t["id"]: t for t in member.get(TASKS).json()["results"]}

    assert member.get(task_url(task.id)).json()["comment_count"] == 3
    assert listed[task.id]["comment_count"] == 3


def test_a_comment_changes_the_tasks_etag(member, team, task):
    etag = member.get(task_url(task.id))["ETag"]
    assert member.get(task_url(task.id), HTTP_IF_NONE_MATCH=etag).status_code == 304

    comment = post_comment(member, task.id, body="x")

    response = member.get(task_url(task.id), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["comment_count"] == 1
    after_create = response["ETag"]
    member.delete(comment_url(task.id, comment["id"]))
    response = member.get(task_url(task.id), HTTP_IF_NONE_MATCH=after_create)
    assert response.status_code == 200
    assert response.json()["comment_count"] == 0


def test_a_stale_if_match_after_a_comment_is_a_412(member, task):
    etag = member.get(task_url(task.id))["ETag"]
    post_comment(member, task.id, body="x")

    response = member.patch(task_url(task.id), {"title": "New"}, HTTP_IF_MATCH=etag)

    assert_error(response, 412)


def test_task_events_carry_comment_count(member, team, task, sent):
    post_comment(member, task.id, body="x")

    member.patch(task_url(task.id), {"title": "New"})

    [updated] = [e for e in sent if e["type"] == "task.updated"]
    assert updated["data"]["comment_count"] == 1


# --- events, activity and the webhook outbox ------------------------------------------------


def test_each_write_sends_its_event_to_the_project(member, team, task, sent):
    created = post_comment(member, task.id, body="x", mention_ids=[team.admin.id])
    url = comment_url(task.id, created["id"])
    edited = member.patch(url, {"body": "y", "mention_ids": [team.owner.id]}).json()
    body_only = member.patch(url, {"body": "z"}).json()
    member.delete(url)

    assert [(e["type"], e["project_id"], e["actor_id"]) for e in sent] == [
        (kind, team.project.id, team.member.id)
        for kind in ("comment.created", "comment.updated", "comment.updated", "comment.deleted")
    ]
    assert sent[0]["data"] == created
    assert sent[1]["data"] == {**edited, "changes": ["body", "mention_ids"]}
    assert sent[2]["data"] == {**body_only, "changes": ["body"]}
    assert sent[3]["data"] == {"id": created["id"], "task_id": task.id}


def test_an_edit_that_changes_nothing_sends_nothing(member, team, task, sent):
    created = post_comment(member, task.id, body="x", mention_ids=[team.admin.id])
    sent.clear()

    response = member.patch(
        comment_url(task.id, created["id"]),
        {"body": " x ", "mention_ids": [team.admin.id, team.admin.id]},
        format="json",
    )

    assert response.json() == created
    assert sent == []


def test_comments_are_not_activity_and_send_no_task_event(member, team, task, sent):
    created = post_comment(member, task.id, body="x")
    member.patch(comment_url(task.id, created["id"]), {"body": "y"})
    member.delete(comment_url(task.id, created["id"]))

    assert not Activity.objects.filter(project=team.project).exists()
    assert not [e for e in sent if e["type"].startswith("task.")]


def test_a_refused_write_sends_nothing(client_for, team, task, viewer, sent):
    comment = write_comment(task, team.member)
    client_for(team.stranger).post(comments_url(task.id), {"body": "x"})
    client_for(team.member).post(comments_url(task.id), {"body": "x", "mention_ids": [10**9]})
    client_for(viewer).patch(comment_url(task.id, comment.id), {"body": "y"})
    client_for(team.other_member).delete(comment_url(task.id, comment.id))

    assert sent == []
    assert Comment.objects.count() == 1


def test_the_webhook_outbox_gets_the_comment_events(member, team, task):
    everything = Webhook.objects.create(
        project=team.project,
        created_by=team.owner,
        url="https://hooks.example.com/all",
        events=["*"],
        secret=new_secret(),
    )
    deletions = Webhook.objects.create(
        project=team.project,
        created_by=team.owner,
        url="https://hooks.example.com/deleted",
        events=["comment.deleted"],
        secret=new_secret(),
    )
    created = post_comment(member, task.id, body="x")
    member.patch(comment_url(task.id, created["id"]), {"body": "y"})
    member.delete(comment_url(task.id, created["id"]))

    def types(hook) -> list[str]:
        deliveries = Delivery.objects.filter(webhook=hook).order_by("id")
        return list(deliveries.values_list("event__type", flat=True))

    assert types(everything) == ["comment.created", "comment.updated", "comment.deleted"]
    assert types(deletions) == ["comment.deleted"]
    deleted = WebhookEvent.objects.get(type="comment.deleted")
    assert json.loads(deleted.body)["data"] == {"id": created["id"], "task_id": task.id}


def test_a_webhook_may_subscribe_to_comment_events_by_name(owner, team):
    response = owner.post(
        f"/api/v1/projects/{team.project.id}/webhooks/",
        {
            "url": "https://hooks.example.com/x",
            "events": ["comment.created", "comment.updated", "comment.deleted"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content


# --- notifications --------------------------------------------------------------------------


def test_a_comment_notifies_mentions_then_the_creator_and_assignee(
    client_for, team, task, viewer, django_capture_on_commit_callbacks
):
    # The task: created by the owner, assigned to the admin; the member comments.
    with django_capture_on_commit_callbacks(execute=True):
        first = post_comment(client_for(team.member), task.id, body="x", mention_ids=[viewer.id])
    with django_capture_on_commit_callbacks(execute=True):
        second = post_comment(
            client_for(team.member), task.id, body="y", mention_ids=[team.owner.id, team.member.id]
        )

    assert notifications() == {
        (viewer.id, "mentioned", first["id"]),
        (team.owner.id, "commented", first["id"]),
        (team.admin.id, "commented", first["id"]),
        (team.owner.id, "mentioned", second["id"]),  # mentioned, not also commented
        (team.admin.id, "commented", second["id"]),
    }  # never the actor, though they mentioned themselves
    stored = Notification.objects.filter(comment_id=first["id"])
    assert {(n.actor_id, n.project_id, n.task_id) for n in stored} == {
        (team.member.id, team.project.id, task.id)
    }


def test_the_task_creator_commenting_notifies_the_assignee_only(
    client_for, team, task, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        comment = post_comment(client_for(team.owner), task.id, body="x")

    assert notifications() == {(team.admin.id, "commented", comment["id"])}


def test_an_edit_notifies_only_the_newly_mentioned(
    member, team, task, viewer, django_capture_on_commit_callbacks
):
    comment = post_comment(member, task.id, body="x", mention_ids=[viewer.id])
    Notification.objects.all().delete()
    url = comment_url(task.id, comment["id"])

    with django_capture_on_commit_callbacks(execute=True):
        member.patch(url, {"body": "still"}, format="json")
        member.patch(url, {"mention_ids": [viewer.id, team.other_member.id]}, format="json")
        member.patch(url, {"body": "again", "mention_ids": [team.other_member.id]}, format="json")

    assert notifications() == {(team.other_member.id, "mentioned", comment["id"])}


def test_a_deleted_comment_takes_its_notifications_along(
    member, team, task, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        comment = post_comment(member, task.id, body="x", mention_ids=[team.other_member.id])
    assert Notification.objects.filter(comment_id=comment["id"]).exists()

    member.delete(comment_url(task.id, comment["id"]))

    assert not Notification.objects.filter(comment_id=comment["id"]).exists()


def test_a_refused_comment_notifies_nobody(member, team, task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        member.post(
            comments_url(task.id),
            {"body": "x", "mention_ids": [team.admin.id, team.stranger.id]},
            format="json",
        )

    assert not Notification.objects.exists()


# --- a comment on a moved task --------------------------------------------------------------


def test_mentions_follow_the_tasks_current_project(member, owner, team, task):
    other = ProjectFactory()
    MembershipFactory(project=other, user=team.member)
    MembershipFactory(project=other, user=team.owner)
    outsider = MembershipFactory(project=other).user
    body = {"project_id": other.id, "assignee_id": None}
    moved = owner.patch(task_url(task.id), body, format="json")
    assert moved.status_code == 200, moved.content

    response = member.post(
        comments_url(task.id), {"body": "x", "mention_ids": [team.admin.id]}, format="json"
    )
    assert_error(response, 400, attr="mention_ids")
    assert post_comment(member, task.id, body="x", mention_ids=[outsider.id])["mentions"]


# --- concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_parallel_comments_mentioning_one_user_make_one_notification_each(client_for, team):
    require_postgresql()
    task = make_task(project=team.project, created_by=team.owner)
    authors = [team.member, team.other_member, team.admin, team.owner]
    authors += [MembershipFactory(project=team.project).user for _ in range(16)]
    mentioned = MembershipFactory(project=team.project, role=Role.VIEWER).user
    clients = [client_for(author) for author in authors]

    def comment(client):
        return lambda: (
            client.post(
                comments_url(task.id),
                {"body": "Look", "mention_ids": [mentioned.id]},
                format="json",
            ).status_code
        )

    statuses = run_together([comment(client) for client in clients])

    assert statuses == [201] * 20
    assert Comment.objects.filter(task=task).count() == 20
    assert Notification.objects.filter(recipient=mentioned, verb="mentioned").count() == 20
    assert client_for(team.member).get(task_url(task.id)).json()["comment_count"] == 20
    assert client_for(mentioned).get(UNREAD_COUNT).json() == {"count": 20}


@pytest.mark.django_db(transaction=True)
def test_a_mention_and_a_concurrent_removal_never_leave_a_non_member_mentioned(client_for, team):
    """The mention locks the membership: the removal either goes first (a 400) or waits and
    removes a member the comment already mentions (as it may: comments outlive membership)."""
    require_postgresql()
    task = make_task(project=team.project, created_by=team.owner)
    leaving = MembershipFactory(project=team.project).user
    author, owner = client_for(team.member), client_for(team.owner)

    statuses = run_together(
        [
            lambda: (
                author.post(
                    comments_url(task.id), {"body": "x", "mention_ids": [leaving.id]}, format="json"
                ).status_code
            ),
            lambda: (
                owner.delete(
                    f"/api/v1/projects/{team.project.id}/members/{leaving.id}/"
                ).status_code
            ),
        ]
    )

    assert statuses[1] == 204
    assert statuses[0] in (201, 400)
    assert Comment.objects.count() == (1 if statuses[0] == 201 else 0)


@pytest.mark.django_db(transaction=True)
def test_a_mention_waits_for_a_removal_in_progress_and_is_then_refused(client_for, team):
    """The membership is read under a lock: a removal that has deleted the row but not yet
    committed holds the comment back until it commits, and the comment then finds no member
    (a plain read would still see the row, and store a mention of a non-member)."""
    require_postgresql()
    task = make_task(project=team.project, created_by=team.owner)
    leaving = MembershipFactory(project=team.project).user
    author = client_for(team.member)
    deleted = threading.Event()

    def remove():
        with transaction.atomic():
            Membership.objects.filter(project=team.project, user=leaving).delete()
            deleted.set()
            time.sleep(0.5)  # the comment is sent meanwhile

    def comment():
        deleted.wait(timeout=10)
        body = {"body": "x", "mention_ids": [leaving.id]}
        return author.post(comments_url(task.id), body, format="json")

    _, response = run_together([remove, comment])

    assert_error(response, 400, attr="mention_ids")
    assert not Comment.objects.exists()


# --- the admin ------------------------------------------------------------------------------


def inline_rows(data: dict) -> str:
    """The comment inline's form prefix in an admin POST body."""
    key = next(key for key in data if key.endswith("-TOTAL_FORMS") and "comment" in key)
    return key.removesuffix("-TOTAL_FORMS")


def test_the_task_page_adds_a_comment_through_the_service(
    admin_client, admin_user, team, task, sent, django_capture_on_commit_callbacks
):
    url = f"/admin/tasks/task/{task.pk}/change/"
    data = form_data(admin_client.get(url))
    prefix = inline_rows(data)
    data[f"{prefix}-TOTAL_FORMS"] = "1"
    data[f"{prefix}-0-body"] = "  From the operator  "
    data[f"{prefix}-0-mentions"] = [team.member.pk]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)

    assert response.status_code == 302, errors_of(response)
    comment = Comment.objects.get()
    assert (comment.author, comment.body) == (admin_user, "From the operator")
    assert list(comment.mentions.values_list("id", flat=True)) == [team.member.pk]
    assert [event["type"] for event in sent if event["type"].startswith("comment.")] == [
        "comment.created"
    ]
    assert notifications() == {
        (team.member.pk, "mentioned", comment.pk),
        (team.owner.pk, "commented", comment.pk),
        (team.admin.pk, "commented", comment.pk),
    }


def test_the_task_page_edits_and_deletes_comments_through_the_services(
    admin_client, team, task, sent
):
    kept = write_comment(task, team.member, "Before")
    gone = write_comment(task, team.other_member, "Gone")
    url = f"/admin/tasks/task/{task.pk}/change/"
    data = form_data(admin_client.get(url))
    prefix = inline_rows(data)
    rows = {data[f"{prefix}-{n}-id"]: n for n in range(2)}
    data[f"{prefix}-{rows[kept.pk]}-body"] = "After"
    data[f"{prefix}-{rows[gone.pk]}-DELETE"] = "on"

    response = admin_client.post(url, data)

    assert response.status_code == 302, errors_of(response)
    assert list(Comment.objects.values_list("id", "body", "author_id")) == [
        (kept.pk, "After", team.member.pk)
    ]
    assert [(e["type"], e["data"].get("changes")) for e in sent] == [
        ("comment.updated", ["body"]),
        ("comment.deleted", None),
    ]


def test_the_task_page_refuses_a_stranger_mention_and_a_blank_body(admin_client, team, task):
    url = f"/admin/tasks/task/{task.pk}/change/"
    data = form_data(admin_client.get(url))
    prefix = inline_rows(data)
    data[f"{prefix}-TOTAL_FORMS"] = "2"
    data[f"{prefix}-0-body"] = "Hello"
    data[f"{prefix}-0-mentions"] = [team.stranger.pk]
    data[f"{prefix}-1-body"] = "x\x00y"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert "mentions" in formset.forms[0].errors
    assert "body" in formset.forms[1].errors
    assert not Comment.objects.exists()
