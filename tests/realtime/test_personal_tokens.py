"""The events socket with a personal access token: it needs the `read` scope, sees only the
projects a limited token names, and closes when the token is revoked or expires."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import personal_tokens
from accounts.models import PersonalAccessToken
from projects.models import Project
from tests.factories import DEFAULT_PASSWORD, MembershipFactory
from tests.support.personal_tokens import READ, READ_WRITE, WRITE, make_token, token_url
from tests.support.realtime import CLOSE_UNAUTHORIZED, call, person, run_async
from tests.support.urls import PASSWORD, TASKS, members_url, task_url

pytestmark = pytest.mark.django_db(transaction=True)


async def create_task(person, project_id: int) -> int:
    response = await call(person.client.post, TASKS, {"title": "News", "project_id": project_id})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def inbox_of(user) -> int:
    return Project.objects.get(owner=user, is_inbox=True).pk


@pytest.fixture
def elsewhere(team):
    """Another project of the team's member, owned by someone who writes in it."""
    project = MembershipFactory(user=team.member.user).project
    return project, person(project.owner)


@run_async
async def test_a_read_token_opens_a_socket_on_every_project_of_its_user(
    team, elsewhere, open_socket
):
    project, _ = elsewhere
    secret = await call(make_token, team.member.user, scopes=READ)
    inbox = await call(inbox_of, team.member.user)

    socket = await open_socket(secret)

    assert socket.ready == {
        "type": "connection.ready",
        "user_id": team.member.id,
        "project_ids": sorted([team.project.pk, project.pk, inbox]),
    }
    await create_task(team.owner, team.project.pk)
    assert (await socket.receive_event("task.created"))["project_id"] == team.project.pk


@run_async
async def test_a_limited_token_receives_only_its_projects_events(team, elsewhere, open_socket):
    project, other_owner = elsewhere
    secret = await call(make_token, team.member.user, scopes=READ, project_ids=[project.pk])

    limited = await open_socket(secret)
    everything = await open_socket(team.member.access)
    assert limited.ready["project_ids"] == [project.pk]

    await create_task(team.owner, team.project.pk)
    assert (await everything.receive_event("task.created"))["project_id"] == team.project.pk
    await limited.assert_silent()

    await create_task(other_owner, project.pk)
    assert (await limited.receive_event("task.created"))["project_id"] == project.pk
    assert (await everything.receive_event("task.created"))["project_id"] == project.pk


@run_async
async def test_a_limited_token_does_not_follow_its_user_into_a_new_project(team, open_socket):
    secret = await call(make_token, team.newcomer.user, scopes=READ)
    limited_secret = await call(
        make_token,
        team.newcomer.user,
        scopes=READ,
        project_ids=[await call(inbox_of, team.newcomer.user)],
    )

    unlimited = await open_socket(secret)
    limited = await open_socket(limited_secret)

    response = await call(
        team.owner.client.post,
        members_url(team.project.pk),
        {"email": team.newcomer.user.email},
    )
    assert response.status_code == 201, response.content
    await unlimited.receive_event("member.added")
    await unlimited.receive_event("notification.created")  # added_to_project
    await create_task(team.owner, team.project.pk)
    assert (await unlimited.receive_event("task.created"))["project_id"] == team.project.pk
    await limited.assert_silent()


@run_async
async def test_a_task_assigned_in_another_project_does_not_reach_a_limited_socket(
    team, elsewhere, open_socket
):
    project, _ = elsewhere
    secret = await call(make_token, team.member.user, scopes=READ, project_ids=[project.pk])

    limited = await open_socket(secret)

    response = await call(
        team.owner.client.post,
        TASKS,
        {"title": "Yours", "project_id": team.project.pk, "assignee_id": team.member.id},
    )
    assert response.status_code == 201, response.content
    await limited.assert_silent()


@pytest.mark.parametrize("kind", ["write_only", "expired", "revoked", "unknown", "typo"])
@run_async
async def test_a_token_that_cannot_read_is_accepted_then_closed_with_4401(team, kind, open_socket):
    user = team.member.user
    if kind == "write_only":
        secret = await call(make_token, user, scopes=WRITE)
    elif kind == "expired":
        secret = await call(make_token, user, expires_at=timezone.now() + timedelta(seconds=1))
    else:
        secret = await call(make_token, user, scopes=READ_WRITE)
    if kind == "revoked":
        await call(PersonalAccessToken.objects.filter(user=user).delete)
    elif kind == "unknown":
        secret = personal_tokens.new_secret()  # well formed, but no token of ours
    elif kind == "typo":
        secret = secret[:-1] + ("a" if secret[-1] != "a" else "b")

    with time_machine.travel(time.time() + 2, tick=True):
        connected, socket = await open_socket.raw(secret)
        assert connected is True
        await socket.assert_closed(CLOSE_UNAUTHORIZED)


@run_async
async def test_revoking_the_token_closes_its_sockets_and_no_others(team, open_socket):
    secret = await call(make_token, team.member.user, scopes=READ)
    token_id = await call(lambda: PersonalAccessToken.objects.get(user=team.member.user).pk)

    by_token = await open_socket(secret)
    by_jwt = await open_socket(team.member.access)

    response = await call(team.member.client.delete, token_url(token_id))

    assert response.status_code == 204, response.content
    await by_token.assert_closed(CLOSE_UNAUTHORIZED)
    await by_jwt.send_json({"type": "ping"})
    assert await by_jwt.receive() == {"type": "pong"}


@run_async
async def test_a_password_change_closes_sockets_opened_with_a_token(team, open_socket):
    secret = await call(make_token, team.member.user, scopes=READ)

    socket = await open_socket(secret)

    response = await call(
        team.member.client.post,
        PASSWORD,
        {"current_password": DEFAULT_PASSWORD, "new_password": "a-brand-new-passphrase-77"},
    )

    assert response.status_code == 204, response.content
    await socket.assert_closed(CLOSE_UNAUTHORIZED)
    _, again = await open_socket.raw(secret)
    await again.assert_closed(CLOSE_UNAUTHORIZED)


@run_async
async def test_a_socket_closes_when_its_token_expires(team, settings, open_socket):
    settings.WS_TOKEN_CHECK_SECONDS = 0.05
    secret = await call(
        make_token, team.member.user, scopes=READ, expires_at=timezone.now() + timedelta(hours=1)
    )

    socket = await open_socket(secret)
    await socket.assert_silent()

    with time_machine.travel(time.time() + 3601, tick=True):
        await socket.assert_closed(CLOSE_UNAUTHORIZED)


@run_async
async def test_a_write_through_a_limited_token_reaches_that_projects_sockets(team, open_socket):
    """Events of a write made with a token are those of any write (the token's user acts)."""
    secret = await call(make_token, team.member.user, project_ids=[team.project.pk])
    client = await call(lambda: person(team.member.user).client)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    owner = await open_socket(team.owner.access)
    response = await call(client.post, TASKS, {"title": "Via token"})  # Inbox: out of reach
    assert response.status_code == 400
    task_id = await create_task_with(client, team.project.pk)

    event = await owner.receive_event("task.created")
    assert event["data"]["id"] == task_id and event["actor_id"] == team.member.id
    response = await call(client.patch, task_url(task_id), {"title": "Renamed"})
    assert response.status_code == 200, response.content
    assert (await owner.receive_event("task.updated"))["data"]["title"] == "Renamed"


async def create_task_with(client, project_id: int) -> int:
    response = await call(client.post, TASKS, {"title": "Via token", "project_id": project_id})
    assert response.status_code == 201, response.content
    return response.json()["id"]
