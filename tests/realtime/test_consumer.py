"""The events socket against the contract: authentication, client messages, and every event
type with its exact payload and recipients. Writes go through the HTTP API."""

import logging
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.tokens import issue_token_pair
from core import realtime
from core.events import event, publish
from projects.models import Project
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)
from tests.support.realtime import (
    CLOSE_TOO_MANY_MESSAGES,
    CLOSE_UNAUTHORIZED,
    MEMBER_DATA_KEYS,
    PROJECT_DATA_KEYS,
    TASK_DATA_KEYS,
    assert_all_silent,
    call,
    person,
    rest_task,
    run_async,
)
from tests.support.urls import TASKS, member_url, members_url, project_url, task_url

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-brand-new-passphrase-77"


def summary(user) -> dict:
    return {"id": user.pk, "email": user.email, "name": user.name}


# --- authentication -------------------------------------------------------------------------


def token_of_kind(kind: str) -> str | None:
    user = UserFactory()
    if kind == "missing":
        return None
    if kind == "garbage":
        return "not.a.jwt"
    if kind == "empty":
        return ""
    if kind == "expired":
        with time_machine.travel(timezone.now() - timedelta(seconds=901), tick=False):
            return issue_token_pair(user)["access"]
    if kind == "refresh":
        return issue_token_pair(user)["refresh"]
    if kind == "password_changed":
        access = issue_token_pair(user)["access"]
        user.set_password(NEW_PASSWORD)
        user.save(update_fields=["password"])
        return access
    if kind == "inactive_user":
        access = issue_token_pair(user)["access"]
        user.is_active = False
        user.save(update_fields=["is_active"])
        return access
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "missing",
        "empty",
        "garbage",
        "expired",
        "refresh",
        "password_changed",
        "inactive_user",
    ],
)
@run_async
async def test_socket_without_a_valid_access_token_is_accepted_then_closed_with_4401(
    kind, open_socket
):
    token = await call(token_of_kind, kind)

    connected, socket = await open_socket.raw(token)

    assert connected is True
    await socket.assert_closed(CLOSE_UNAUTHORIZED)


@pytest.fixture
def member_of_three(transactional_db):
    """A user in their Inbox, a project they own and one they were added to; plus a project
    they are not in."""
    user = UserFactory()
    owned = ProjectFactory(owner=user)
    joined = MembershipFactory(user=user).project
    ProjectFactory()
    return user, {owned.pk, joined.pk, Project.objects.get(owner=user, is_inbox=True).pk}


@run_async
async def test_connection_ready_lists_exactly_the_users_projects(member_of_three, open_socket):
    user, project_ids = member_of_three
    token = (await call(issue_token_pair, user))["access"]

    socket = await open_socket(token)

    assert socket.ready == {
        "type": "connection.ready",
        "user_id": user.pk,
        "project_ids": sorted(project_ids),
    }
    await socket.assert_silent()


# --- client messages ------------------------------------------------------------------------


@run_async
async def test_ping_is_answered_with_pong_and_the_socket_stays_open(team, open_socket):
    socket = await open_socket(team.member.access)

    for _ in range(3):
        await socket.send_json({"type": "ping"})
        assert await socket.receive() == {"type": "pong"}
    await socket.assert_silent()


REJECTED_MESSAGES = {
    "task_event": '{"type": "task.deleted", "project_id": 1, "data": {"id": 1}}',
    "channel_layer_message": (
        '{"type": "event.forward", "event_id": "x", '
        '"event": {"type": "task.deleted", "project_id": 1, "actor_id": 1, "data": {"id": 1}}}'
    ),
    "revocation": '{"type": "auth.revoked"}',
    "not_json": "ping",
    "json_string": '"ping"',
    "json_list": '[{"type": "ping"}]',
    "no_type": "{}",
    "empty": "",
    # Under the size limit, deeper than json's recursion limit (issue 9, point 6).
    "deeply_nested_list": "[" * 4000,
    "deeply_nested_object": '{"":' * 1000,
}


@pytest.mark.parametrize("text", REJECTED_MESSAGES.values(), ids=REJECTED_MESSAGES.keys())
@run_async
async def test_any_other_client_message_gets_an_error_and_reaches_no_other_socket(
    team, text, open_socket
):
    sender = await open_socket(team.member.access)
    same_user = await open_socket(team.member.access)
    same_project = await open_socket(team.owner.access)

    await sender.send_text(text)

    reply = await sender.receive()
    assert set(reply) == {"type", "detail"}, reply
    assert reply["type"] == "error"
    assert isinstance(reply["detail"], str) and reply["detail"]
    await assert_all_silent(same_user, same_project)
    await sender.send_json({"type": "ping"})
    assert await sender.receive() == {"type": "pong"}


@run_async
async def test_a_deeply_nested_message_logs_no_traceback(team, caplog, open_socket):
    socket = await open_socket(team.member.access)

    with caplog.at_level(logging.WARNING):
        await socket.send_text("[" * 4000)
        assert (await socket.receive())["type"] == "error"

    await socket.send_json({"type": "ping"})
    assert await socket.receive() == {"type": "pong"}
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@run_async
async def test_a_binary_frame_gets_an_error(team, open_socket):
    socket = await open_socket(team.member.access)

    await socket.send_bytes(b'{"type": "ping"}')

    assert (await socket.receive())["type"] == "error"
    await socket.assert_silent()


def padded_ping(size: int, pad: str = "x") -> str:
    """A ping message of exactly `size` bytes in UTF-8 (`pad` is one or two bytes)."""
    head = '{"type": "ping", "pad": "'
    room = size - len(head.encode()) - 2
    text = head + pad * (room // len(pad.encode())) + "x" * (room % len(pad.encode())) + '"}'
    assert len(text.encode()) == size
    return text


@run_async
async def test_message_size_limit_counts_bytes(team, settings, open_socket):
    limit = settings.WS_MAX_MESSAGE_BYTES
    socket = await open_socket(team.member.access)
    other = await open_socket(team.owner.access)

    await socket.send_text(padded_ping(limit))
    assert await socket.receive() == {"type": "pong"}

    await socket.send_text(padded_ping(limit + 1))
    assert (await socket.receive())["type"] == "error"

    # Fewer characters than the limit, more bytes: still too large.
    too_large = padded_ping(limit + 2, pad="é")
    assert len(too_large) < limit
    await socket.send_text(too_large)
    assert (await socket.receive())["type"] == "error"

    await other.assert_silent()


@run_async
async def test_exceeding_the_message_rate_closes_the_socket_with_4429(team, settings, open_socket):
    settings.WS_RATE_MAX_MESSAGES = 5
    settings.WS_RATE_WINDOW_SECONDS = 60
    socket = await open_socket(team.member.access)
    other = await open_socket(team.member.access)

    for _ in range(5):
        await socket.send_json({"type": "ping"})
        assert await socket.receive() == {"type": "pong"}
    await socket.send_json({"type": "ping"})

    await socket.assert_closed(CLOSE_TOO_MANY_MESSAGES)
    await other.send_json({"type": "ping"})  # the limit is per socket
    assert await other.receive() == {"type": "pong"}


@run_async
async def test_expired_token_closes_an_open_socket_with_4401(team, settings, open_socket):
    settings.WS_TOKEN_CHECK_SECONDS = 0.05
    socket = await open_socket(team.member.access)
    other = await open_socket(team.owner.access)
    await socket.assert_silent()  # checked several times, still valid

    # The access token lives 900 s; the wall clock (not asyncio's) moves past it.
    with time_machine.travel(time.time() + 901, tick=True):
        await socket.assert_closed(CLOSE_UNAUTHORIZED)
        await other.assert_closed(CLOSE_UNAUTHORIZED)


@run_async
async def test_socket_stays_open_until_its_token_expires(team, settings, open_socket):
    settings.WS_TOKEN_CHECK_SECONDS = 0.05
    socket = await open_socket(team.member.access)

    with time_machine.travel(time.time() + 880, tick=True):
        await socket.assert_silent()
        await socket.send_json({"type": "ping"})
        assert await socket.receive() == {"type": "pong"}


@run_async
async def test_password_change_closes_every_open_socket_of_the_user_with_4401(team, open_socket):
    first = await open_socket(team.member.access)
    second = await open_socket(team.member.access)
    someone_else = await open_socket(team.owner.access)

    response = await call(
        team.member.client.post,
        "/api/v1/auth/password/",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204, response.content
    await first.assert_closed(CLOSE_UNAUTHORIZED)
    await second.assert_closed(CLOSE_UNAUTHORIZED)
    await someone_else.send_json({"type": "ping"})
    assert await someone_else.receive() == {"type": "pong"}
    # and the old token cannot open a new one
    connected, again = await open_socket.raw(team.member.access)
    assert connected
    await again.assert_closed(CLOSE_UNAUTHORIZED)


# --- task events ----------------------------------------------------------------------------


@run_async
async def test_task_created_reaches_every_member_of_the_project_and_nobody_else(team, open_socket):
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    newcomer = await open_socket(team.newcomer.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        team.member.client.post,
        TASKS,
        {"title": "Write the launch post", "project_id": team.project.pk},
    )

    assert response.status_code == 201, response.content
    for socket in (owner, member):
        event = await socket.receive_event("task.created")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == team.member.id
        assert set(event["data"]) == TASK_DATA_KEYS
        assert event["data"] == rest_task(response)
    await assert_all_silent(owner, member, newcomer, stranger)


@pytest.fixture
def task(team):
    return TaskFactory(project=team.project, created_by=team.member.user)


@run_async
async def test_task_updated_lists_the_changed_fields(team, task, open_socket):
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        team.owner.client.patch,
        task_url(task.pk),
        {"title": task.title, "status": "completed", "due_date": "2030-01-02"},
    )

    assert response.status_code == 200, response.content
    for socket in (owner, member):
        event = await socket.receive_event("task.updated")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == team.owner.id
        assert set(event["data"]) == TASK_DATA_KEYS | {"changes"}
        changes = event["data"].pop("changes")
        assert sorted(changes) == ["due_date", "status"]
        assert event["data"] == rest_task(response)
        assert event["data"]["completed_at"] is not None
    await assert_all_silent(owner, member, stranger)


@run_async
async def test_task_deleted_carries_only_the_id(team, task, open_socket):
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(team.member.client.delete, task_url(task.pk))

    assert response.status_code == 204, response.content
    for socket in (owner, member):
        event = await socket.receive_event("task.deleted")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == team.member.id
        assert event["data"] == {"id": task.pk}
    await assert_all_silent(owner, member, stranger)


@run_async
async def test_task_assigned_goes_to_the_new_assignee_only_at_creation_and_reassignment(
    team, open_socket
):
    await call(MembershipFactory, project=team.project, user=team.newcomer.user)
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    newcomer = await open_socket(team.newcomer.access)
    stranger = await open_socket(team.stranger.access)

    created = await call(
        team.owner.client.post,
        TASKS,
        {"title": "Review", "project_id": team.project.pk, "assignee_id": team.member.id},
    )

    assert created.status_code == 201, created.content
    for socket in (owner, member, newcomer):
        assert (await socket.receive_event("task.created"))["data"] == rest_task(created)
    assigned = await member.receive_event("task.assigned")
    assert assigned["project_id"] == team.project.pk
    assert assigned["actor_id"] == team.owner.id
    assert set(assigned["data"]) == TASK_DATA_KEYS | {"changes"}
    assert sorted(assigned["data"].pop("changes")) == ["assignee_id", "project_id", "title"]
    assert assigned["data"] == rest_task(created)
    notified = await member.receive_event("notification.created")  # its inbox, after
    assert (notified["data"]["verb"], notified["data"]["task_id"]) == (
        "assigned",
        assigned["data"]["id"],
    )
    await assert_all_silent(owner, member, newcomer, stranger)

    task_id = created.json()["id"]
    reassigned = await call(
        team.owner.client.patch, task_url(task_id), {"assignee_id": team.newcomer.id}
    )

    assert reassigned.status_code == 200, reassigned.content
    for socket in (owner, member, newcomer):
        event = await socket.receive_event("task.updated")
        assert event["data"]["changes"] == ["assignee_id"]
    assigned = await newcomer.receive_event("task.assigned")
    assert assigned["data"].pop("changes") == ["assignee_id"]
    assert assigned["data"] == rest_task(reassigned)
    assert (await newcomer.receive_event("notification.created"))["data"]["verb"] == "assigned"
    await assert_all_silent(owner, member, newcomer, stranger)

    # Unassigning, or changing something else, assigns nobody.
    for change in ({"status": "in-progress"}, {"assignee_id": None}):
        response = await call(team.owner.client.patch, task_url(task_id), change)
        assert response.status_code == 200, response.content
        for socket in (owner, member, newcomer):
            await socket.receive_event("task.updated")
        await assert_all_silent(owner, member, newcomer, stranger)


@pytest.fixture
def second_project(team):
    """Another project of the owner's with its own member; the team's member is not in it."""
    project = ProjectFactory(owner=team.owner.user, name="Next")
    return project, person(MembershipFactory(project=project).user)


@run_async
async def test_moving_a_task_is_deleted_at_the_source_and_created_at_the_target(
    team, task, second_project, open_socket
):
    target, target_member = second_project
    owner = await open_socket(team.owner.access)  # in both projects
    source_only = await open_socket(team.member.access)
    target_only = await open_socket(target_member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        team.owner.client.patch, task_url(task.pk), {"project_id": target.pk, "title": "Moved"}
    )

    assert response.status_code == 200, response.content
    deleted = await owner.receive_event("task.deleted")
    assert deleted["project_id"] == team.project.pk
    assert deleted["data"] == {"id": task.pk}
    assert await source_only.receive() == deleted
    created = await owner.receive_event("task.created")
    assert created["project_id"] == target.pk
    assert created["actor_id"] == team.owner.id
    assert created["data"] == rest_task(response)
    assert await target_only.receive() == created
    await assert_all_silent(owner, source_only, target_only, stranger)


# --- project and membership events ----------------------------------------------------------


@run_async
async def test_project_updated_has_no_role_and_lists_the_changes(team, open_socket):
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        team.owner.client.patch,
        project_url(team.project.pk),
        {"name": "Launch v2", "description": "Second try."},
    )

    assert response.status_code == 200, response.content
    for socket in (owner, member):
        event = await socket.receive_event("project.updated")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == team.owner.id
        assert set(event["data"]) == PROJECT_DATA_KEYS | {"changes"}
        assert sorted(event["data"].pop("changes")) == ["description", "name"]
        rest = {key: value for key, value in response.json().items() if key != "role"}
        assert event["data"] == rest
    await assert_all_silent(owner, member, stranger)


@run_async
async def test_project_deleted_reaches_its_members_and_then_they_get_nothing_of_it(
    team, open_socket
):
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(team.owner.client.delete, project_url(team.project.pk))

    assert response.status_code == 204, response.content
    for socket in (owner, member):
        event = await socket.receive_event("project.deleted")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == team.owner.id
        assert event["data"] == {"id": team.project.pk}
    await assert_all_silent(owner, member, stranger)


@run_async
async def test_transfer_sends_project_updated_then_the_old_and_the_new_owner(team, open_socket):
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        team.owner.client.post,
        f"{project_url(team.project.pk)}transfer/",
        {"user_id": team.member.id},
    )

    assert response.status_code == 200, response.content
    for socket in (owner, member):
        updated = await socket.receive_event("project.updated")
        assert updated["actor_id"] == team.owner.id
        assert set(updated["data"]) == PROJECT_DATA_KEYS | {"changes"}
        assert updated["data"]["changes"] == ["owner"]
        assert updated["data"]["owner"] == summary(team.member.user)
        old_owner = await socket.receive_event("member.updated")
        assert set(old_owner["data"]) == MEMBER_DATA_KEYS
        assert old_owner["data"]["user"] == summary(team.owner.user)
        assert old_owner["data"]["role"] == "admin"
        new_owner = await socket.receive_event("member.updated")
        assert new_owner["data"]["user"] == summary(team.member.user)
        assert new_owner["data"]["role"] == "owner"
        assert {old_owner["project_id"], new_owner["project_id"]} == {team.project.pk}
    await assert_all_silent(owner, member, stranger)


@run_async
async def test_role_change_sends_member_updated_to_the_project(team, open_socket):
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        team.owner.client.patch,
        member_url(team.project.pk, team.member.id),
        {"role": "admin"},
    )

    assert response.status_code == 200, response.content
    for socket in (owner, member):
        event = await socket.receive_event("member.updated")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == team.owner.id
        assert event["data"] == response.json()
    await assert_all_silent(owner, member, stranger)


@run_async
async def test_a_change_to_viewer_sends_one_member_updated_listing_the_unassigned_tasks(
    team, open_socket
):
    """No task.updated per unassigned task; the viewer's sockets keep every project event."""
    task = await call(TaskFactory, project=team.project, assignee=team.member.user)
    owner = await open_socket(team.owner.access)
    viewer = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        team.owner.client.patch, member_url(team.project.pk, team.member.id), {"role": "viewer"}
    )

    assert response.status_code == 200, response.content
    for socket in (owner, viewer):
        event = await socket.receive_event("member.updated")
        assert set(event["data"]) == MEMBER_DATA_KEYS | {"unassigned_task_ids"}
        assert event["data"] == {**response.json(), "unassigned_task_ids": [task.pk]}
    await assert_all_silent(owner, viewer, stranger)

    created = await call(
        team.owner.client.post, TASKS, {"title": "Seen by viewers", "project_id": team.project.pk}
    )
    assert created.status_code == 201, created.content
    for socket in (owner, viewer):
        assert (await socket.receive_event("task.created"))["data"]["id"] == created.json()["id"]
    await assert_all_silent(owner, viewer, stranger)


@run_async
async def test_added_member_gets_member_added_once_and_then_the_projects_events(team, open_socket):
    owner = await open_socket(team.owner.access)
    newcomer = await open_socket(team.newcomer.access)
    stranger = await open_socket(team.stranger.access)
    assert team.project.pk not in newcomer.ready["project_ids"]

    response = await call(
        team.owner.client.post,
        members_url(team.project.pk),
        {"email": team.newcomer.user.email, "role": "member"},
    )

    assert response.status_code == 201, response.content
    for socket in (owner, newcomer):
        event = await socket.receive_event("member.added")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == team.owner.id
        assert set(event["data"]) == MEMBER_DATA_KEYS
        assert event["data"] == response.json()
    notified = await newcomer.receive_event("notification.created")
    assert notified["data"]["verb"] == "added_to_project"
    await assert_all_silent(owner, newcomer, stranger)  # exactly once, though sent to two groups

    created = await call(
        team.owner.client.post, TASKS, {"title": "Welcome", "project_id": team.project.pk}
    )

    assert created.status_code == 201, created.content
    assert (await newcomer.receive_event("task.created"))["data"] == rest_task(created)
    await owner.receive_event("task.created")
    await assert_all_silent(owner, newcomer, stranger)


@pytest.mark.parametrize("actor", ["owner", "member"], ids=["removed", "left"])
@run_async
async def test_removed_member_gets_member_removed_once_and_then_nothing_of_the_project(
    team, task, actor, open_socket
):
    await call(TaskFactory, project=team.project, assignee=team.member.user)
    assigned_task_ids = await call(
        lambda: list(
            team.project.tasks.filter(assignee=team.member.user).values_list("id", flat=True)
        )
    )
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    stranger = await open_socket(team.stranger.access)

    response = await call(
        getattr(team, actor).client.delete, member_url(team.project.pk, team.member.id)
    )

    assert response.status_code == 204, response.content
    for socket in (owner, member):
        event = await socket.receive_event("member.removed")
        assert event["project_id"] == team.project.pk
        assert event["actor_id"] == getattr(team, actor).id
        assert event["data"] == {
            "user": summary(team.member.user),
            "role": "member",
            "unassigned_task_ids": assigned_task_ids,
        }
    await assert_all_silent(owner, member, stranger)  # exactly once, though sent to two groups

    for write in (
        lambda: team.owner.client.post(TASKS, {"title": "After", "project_id": team.project.pk}),
        lambda: team.owner.client.patch(task_url(task.pk), {"status": "completed"}),
        lambda: team.owner.client.patch(project_url(team.project.pk), {"name": "Renamed"}),
    ):
        assert (await call(write)).status_code in (200, 201)
        await owner.receive()
    await assert_all_silent(owner, member, stranger)


@run_async
async def test_an_event_sent_to_two_groups_of_a_socket_arrives_once(team, open_socket):
    """Member events go to the project's group and the user's group; a socket in both (with
    Redis, the added user's socket may have joined the project's group by the time the second
    copy is sent) must see each event once."""
    member = await open_socket(team.member.access)
    owner = await open_socket(team.owner.access)

    @transaction.atomic
    def publish_to_both_groups():
        publish(
            event(
                "member.updated",
                project_id=team.project.pk,
                actor_id=team.owner.id,
                data={"user": summary(team.member.user), "role": "member", "joined_at": None},
                groups=(
                    realtime.user_group(team.member.id),
                    realtime.project_group(team.project.pk),
                ),
            )
        )

    await call(publish_to_both_groups)

    first = await member.receive_event("member.updated")
    assert await owner.receive() == first
    await assert_all_silent(member, owner)
