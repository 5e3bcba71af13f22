"""What a socket may see follows the data however it changes (the admin, the ORM, cascades),
how many sockets a user may hold, and paths that are not a socket."""

import os
import time

import pytest
import redis
from asgiref.sync import async_to_sync
from django.db import transaction

from accounts.models import User
from config.asgi import application
from projects import socket_slots
from projects.models import Membership, Project
from tests.factories import MembershipFactory
from tests.support.realtime import (
    CLOSE_UNAUTHORIZED,
    WebsocketCommunicator,
    call,
    person,
    run_async,
    sockets,
)
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_DEACTIVATED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429
# docs/realtime.md: a socket's access follows the user's memberships and state within a second.
WITHIN_A_SECOND = 1


async def create_task(person, project_id: int) -> None:
    response = await call(person.client.post, TASKS, {"title": "News", "project_id": project_id})
    assert response.status_code == 201, response.content


async def assert_open(socket) -> None:
    await socket.send_json({"type": "ping"})
    assert await socket.receive() == {"type": "pong"}


# --- paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws/v1/other/", "/ws/v1/events", "/", "/api/v1/tasks/"])
@run_async
async def test_an_unknown_websocket_path_is_accepted_then_closed_with_4404(path):

    communicator = WebsocketCommunicator(application, path)
    try:
        assert await communicator.connect() == (True, None)
        message = await communicator.receive_output(2)
        assert message == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
    finally:
        await communicator.wait(2)


@run_async
async def test_an_unknown_path_from_a_foreign_origin_is_still_refused_at_the_handshake(settings):

    settings.ALLOWED_HOSTS = ["api.example.com"]
    communicator = WebsocketCommunicator(
        application, "/ws/v1/other/", headers=[(b"origin", b"https://evil.example.net")]
    )
    connected, _ = await communicator.connect()
    assert connected is False


# --- deactivation, password, deletion outside the services ----------------------------------


def deactivate(user: User) -> None:
    """As the admin's change form does: a full save."""
    user.is_active = False
    user.save()


def set_password_outside_the_api(user: User) -> None:
    """As `manage.py changepassword` and the admin's password form do."""
    user.set_password("another-long-passphrase-93")
    user.save()


def delete_user(user: User) -> None:
    """Owners' projects are protected: the operator deletes them first, then the user."""
    with transaction.atomic():
        Project.objects.filter(owner=user).delete()
        user.delete()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (deactivate, CLOSE_DEACTIVATED),
        (set_password_outside_the_api, CLOSE_UNAUTHORIZED),
        (delete_user, CLOSE_UNAUTHORIZED),
    ],
    ids=["deactivated", "password_set", "deleted"],
)
@run_async
async def test_a_user_changed_outside_the_api_loses_every_open_socket(
    team, change, code, open_socket
):
    first = await open_socket(team.member.access)
    second = await open_socket(team.member.access)
    owner = await open_socket(team.owner.access)

    await call(change, team.member.user)

    await first.assert_closed(code, timeout=WITHIN_A_SECOND)
    await second.assert_closed(code, timeout=WITHIN_A_SECOND)
    await assert_open(owner)


@run_async
async def test_saving_a_user_without_changing_access_keeps_their_sockets(team, open_socket):
    socket = await open_socket(team.member.access)

    await call(team.member.user.save)  # a full save, as the admin does for a new name
    await call(lambda: User.objects.get(pk=team.member.id).save(update_fields=["name"]))

    await socket.assert_silent()
    await assert_open(socket)


@run_async
async def test_a_rolled_back_deactivation_keeps_the_socket(team, open_socket):
    def deactivate_then_fail():
        with transaction.atomic():
            deactivate(team.member.user)
            transaction.set_rollback(True)

    socket = await open_socket(team.member.access)

    await call(deactivate_then_fail)

    await socket.assert_silent()
    await assert_open(socket)


# --- memberships changed outside the services -----------------------------------------------


def delete_membership_with_the_orm(project: Project, user: User) -> None:
    Membership.objects.filter(project=project, user=user).delete()


@run_async
async def test_a_membership_deleted_outside_the_services_stops_the_projects_events(
    team, open_socket
):
    elsewhere = await call(lambda: person(MembershipFactory(user=team.member.user).project.owner))
    other_project = (await call(lambda: elsewhere.user.owned_projects.get(is_inbox=False))).pk
    member = await open_socket(team.member.access)
    owner = await open_socket(team.owner.access)
    assert team.project.pk in member.ready["project_ids"]

    await call(delete_membership_with_the_orm, team.project, team.member.user)
    await member.assert_silent(timeout=WITHIN_A_SECOND)

    await create_task(team.owner, team.project.pk)
    assert (await owner.receive_event("task.created"))["project_id"] == team.project.pk
    await member.assert_silent()
    # Still open, and still receiving the projects it has.
    await assert_open(member)
    await create_task(elsewhere, other_project)
    assert (await member.receive_event("task.created"))["project_id"] == other_project


@run_async
async def test_a_membership_created_outside_the_services_brings_the_projects_events(
    team, open_socket
):
    newcomer = await open_socket(team.newcomer.access)

    await call(MembershipFactory, project=team.project, user=team.newcomer.user)
    await newcomer.assert_silent(timeout=0.3)  # no contract event: the admin sent none
    await create_task(team.owner, team.project.pk)

    event = await newcomer.receive_event("task.created", timeout=WITHIN_A_SECOND)
    assert event["project_id"] == team.project.pk


# --- sockets per user -----------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def slots(request, settings):
    """The slot registry in memory (one process) and in Redis (several)."""
    settings.WS_MAX_SOCKETS_PER_USER = 2
    if request.param == "redis":
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("needs REDIS_URL")
        settings.REDIS_URL = url
    return request.param


@run_async
async def test_sockets_over_the_per_user_cap_are_closed_with_4429(team, slots, open_socket):
    first = await open_socket(team.member.access)
    await open_socket(team.member.access)

    connected, third = await open_socket.raw(team.member.access)
    assert connected is True
    await third.assert_closed(CLOSE_TOO_MANY)

    await open_socket(team.owner.access)  # the cap is per user
    await assert_open(first)

    await first.communicator.disconnect()  # closing one frees its slot
    await open_socket(team.member.access)


@run_async
async def test_a_socket_refused_by_the_cap_holds_no_slot(team, slots, open_socket):
    held = [await open_socket(team.member.access) for _ in range(2)]
    for _ in range(3):
        _, refused = await open_socket.raw(team.member.access)
        await refused.assert_closed(CLOSE_TOO_MANY)
        await refused.communicator.wait(2)
    await held[0].communicator.disconnect()

    await open_socket(team.member.access)


@pytest.fixture
def redis_slots(settings):
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL")
    settings.REDIS_URL = url
    settings.WS_MAX_SOCKETS_PER_USER = 2
    client = redis.Redis.from_url(url)
    yield client
    client.close()


@run_async
async def test_slots_left_by_a_crashed_process_expire(team, redis_slots):
    """A process that dies never releases its sockets' slots; their leases run out."""
    key = socket_slots._key(team.member.id)
    seconds, micros = redis_slots.time()
    now_ms = seconds * 1000 + micros // 1000
    redis_slots.zadd(
        key, {"dead-process-socket-1": now_ms - 1, "dead-process-socket-2": now_ms - 1}
    )
    redis_slots.zadd(key, {"live-elsewhere": now_ms + 60_000})

    async with sockets() as open_socket:
        await open_socket(team.member.access)  # the two expired leases do not count
        _, refused = await open_socket.raw(team.member.access)  # the live one does
        await refused.assert_closed(CLOSE_TOO_MANY)

    assert redis_slots.zrange(key, 0, -1) == [b"live-elsewhere"]
    assert 0 < redis_slots.pttl(key) <= socket_slots.LEASE_SECONDS * 1000
    redis_slots.delete(key)


@run_async
async def test_an_open_socket_renews_its_lease(team, redis_slots, monkeypatch):
    monkeypatch.setattr(socket_slots, "RENEW_SECONDS", 0.05)
    key = socket_slots._key(team.member.id)
    async with sockets() as open_socket:
        await open_socket(team.member.access)
        ((_, first_score),) = redis_slots.zrange(key, 0, -1, withscores=True)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            ((_, score),) = redis_slots.zrange(key, 0, -1, withscores=True)
            if score > first_score:
                break
            await call(time.sleep, 0.05)
        assert score > first_score
    assert redis_slots.exists(key) == 0  # released on close


def test_without_redis_the_registry_forgets_users_with_no_sockets(settings):
    settings.REDIS_URL = ""

    async_to_sync(socket_slots.claim)(user_id=-1, socket_id="a")
    async_to_sync(socket_slots.release)(user_id=-1, socket_id="a")
    assert -1 not in socket_slots._local
