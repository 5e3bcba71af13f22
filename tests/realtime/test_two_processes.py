"""End to end across processes: two real servers share PostgreSQL and Redis; a write through
one reaches a socket held by the other, idle sockets survive, shutdown is prompt, and the
access token never reaches the logs.

Runs where CI runs it: PostgreSQL (so the servers can see the test database) and REDIS_URL.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
PASSWORD = "a-long-test-passphrase-42"
EVENT_TIMEOUT = 5
IDLE_SECONDS = 10
SHUTDOWN_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url_of_this_run() -> str:
    """The database this test run uses (test_<name>), where its committed rows live."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


class Server:
    def __init__(self, name: str, log_dir: Path, env: dict):
        self.port = free_port()
        self.log_path = log_dir / f"server-{name}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ws",
                "websockets",
                "--lifespan",
                "off",
                "--timeout-graceful-shutdown",
                "5",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events_url(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/events/?token={token}"

    def wait_until_live(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.logs()
            try:
                with urllib.request.urlopen(f"{self.http}/health/live/", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"server did not come up within {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def request(method: str, url: str, body: dict | None = None, token: str | None = None):
    """(status, JSON body) of one HTTP request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


async def api(method: str, url: str, body: dict | None = None, token: str | None = None):
    return await asyncio.to_thread(request, method, url, body, token)


async def receive(ws, timeout: float = EVENT_TIMEOUT) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def receive_event(ws, event_type: str) -> dict:
    event = await receive(ws)
    assert event["type"] == event_type, event
    return event


@pytest.fixture
def servers(tmp_path):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL (DATABASE_URL) and REDIS_URL, as on CI")
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url_of_this_run(),
        "THROTTLE_LOGIN": "off",
        "THROTTLE_REGISTER": "off",
        "THROTTLE_USER": "off",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
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
