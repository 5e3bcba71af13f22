"""End to end across processes: two real servers share PostgreSQL and Redis; a write through
one reaches a socket held by the other, idle sockets survive, shutdown is prompt, and the
access token never reaches the logs.

Runs where CI runs it: PostgreSQL (so the servers can see the test database) and REDIS_URL.
"""

import asyncio
import json
import signal
import subprocess
import time
from contextlib import AsyncExitStack

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.server import (
    EVENT_TIMEOUT,
    Server,
    api,
    receive,
    receive_event,
    require_services,
    server_env,
)

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-passphrase-42"
IDLE_SECONDS = 10
SHUTDOWN_SECONDS = 10


@pytest.fixture
def servers(tmp_path):
    require_services()
    env = server_env()
    started = [Server("a", tmp_path, env), Server("b", tmp_path, env)]
    try:
        for server in started:
            server.wait_until_live()
        yield started
    finally:
        for server in started:
            server.stop()


async def register_and_login(server: Server, email: str) -> tuple[dict, dict]:
    status, user = await api(
        "POST",
        f"{server.http}/api/v1/auth/register/",
        {"email": email, "password": PASSWORD, "name": email.split("@")[0]},
    )
    assert status == 201, user
    status, tokens = await api(
        "POST", f"{server.http}/api/v1/auth/login/", {"email": email, "password": PASSWORD}
    )
    assert status == 200, tokens
    return user, tokens


async def scenario(a: Server, b: Server) -> list[str]:
    """Returns every token issued, to look for in the logs."""
    alice, alice_tokens = await register_and_login(b, "alice@example.com")
    bob, bob_tokens = await register_and_login(b, "bob@example.com")
    alice_token, bob_token = alice_tokens["access"], bob_tokens["access"]
    status, page = await api("GET", f"{b.http}/api/v1/projects/", token=bob_token)
    assert status == 200, page
    (bob_inbox,) = [project["id"] for project in page["results"]]

    # A bad token on the real server: accepted, then closed with 4401.
    async with connect(a.events_url("not.a.token"), open_timeout=5) as bad:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(bad.recv(), EVENT_TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    async with AsyncExitStack() as stack:
        ws = await stack.enter_async_context(connect(a.events_url(bob_token), open_timeout=5))
        # The client offers per-message compression (as browsers do) and the server declines
        # it (the Procfile's --ws-per-message-deflate false): an event's frame carries the
        # text its publisher encoded once, the same for every socket, with no compressor kept
        # per socket.
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        ready = await receive(ws)
        assert ready == {
            "type": "connection.ready",
            "user_id": bob["id"],
            "project_ids": [bob_inbox],
        }
        await ws.send(json.dumps({"type": "ping"}))
        assert await receive(ws) == {"type": "pong"}

        status, project = await api(
            "POST", f"{b.http}/api/v1/projects/", {"name": "Launch"}, token=alice_token
        )
        assert status == 201, project
        # The owner's socket is held by the server that takes the writes.
        owner_ws = await stack.enter_async_context(connect(b.events_url(alice_token)))
        owner_ready = await receive(owner_ws)
        assert project["id"] in owner_ready["project_ids"]
        status, member = await api(
            "POST",
            f"{b.http}/api/v1/projects/{project['id']}/members/",
            {"email": "bob@example.com", "role": "member"},
            token=alice_token,
        )
        assert status == 201, member

        added = await receive_event(ws, "member.added")
        assert added["project_id"] == project["id"]
        assert added["actor_id"] == alice["id"]
        assert added["data"] == member
        assert await receive(owner_ws) == added
        welcome = await receive_event(ws, "notification.created")
        assert (welcome["data"]["verb"], welcome["data"]["actor"]["id"]) == (
            "added_to_project",
            alice["id"],
        )

        status, task = await api(
            "POST",
            f"{b.http}/api/v1/tasks/",
            {"title": "Ship it", "project_id": project["id"], "assignee_id": bob["id"]},
            token=alice_token,
        )
        assert status == 201, task
        created = await receive_event(ws, "task.created")
        assert await receive(owner_ws) == created
        assigned = await receive_event(ws, "task.assigned")
        notified = await receive_event(ws, "notification.created")
        assert (notified["data"]["verb"], notified["data"]["task_id"]) == ("assigned", task["id"])
        expected = {key: value for key, value in task.items() if key != "is_overdue"}
        assert created["data"] == expected
        assert {key: value for key, value in assigned["data"].items() if key != "changes"} == (
            expected
        )

        # Idle longer than redis-py 8's default socket timeout: nothing arrives, nothing dies.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), IDLE_SECONDS)

        status, updated = await api(
            "PATCH",
            f"{b.http}/api/v1/tasks/{task['id']}/",
            {"status": "completed"},
            token=alice_token,
        )
        assert status == 200, updated
        event = await receive_event(ws, "task.updated")
        assert event["data"]["changes"] == ["status"]
        assert event["data"]["status"] == "completed"
        assert await receive(owner_ws) == event

        # Shut both servers down with their sockets still open.
        for server in (a, b):
            server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        for server in (a, b):
            remaining = max(deadline - time.monotonic(), 0)
            try:
                await asyncio.to_thread(server.process.wait, remaining)
            except subprocess.TimeoutExpired:
                pytest.fail(f"server did not stop within {SHUTDOWN_SECONDS} s of SIGTERM")

    return [
        alice_token,
        bob_token,
        alice_tokens["refresh"],
        bob_tokens["refresh"],
    ]


def test_events_cross_processes_and_servers_stop_promptly_without_logging_tokens(servers):
    a, b = servers

    tokens = asyncio.run(scenario(a, b))

    logs = {server.log_path.name: server.logs() for server in servers}
    assert "/ws/v1/events/?token=[redacted]" in logs["server-a.log"], logs["server-a.log"]
    for name, text in logs.items():
        for token in tokens:
            assert token not in text, f"a token is in {name}"
            assert token.split(".")[2] not in text, f"a token signature is in {name}"
