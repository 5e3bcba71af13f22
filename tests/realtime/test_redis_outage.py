"""Redis stops and starts under a real server with open sockets (issue 9, point 18), and the
per-user socket cap holds across server processes (point 7).

Each test runs its own redis-server on a free port: stopping the system Redis would break
every other test using it. Every wait is bounded.
"""

import asyncio
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.server import (
    EVENT_TIMEOUT,
    Server,
    api,
    free_port,
    receive,
    require_services,
    server_env,
)

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-passphrase-42"
# docs/realtime.md: 1012 means "the server lost its channel layer; reconnect after a short delay".
CLOSE_SERVICE_RESTART = 1012
CLOSE_TOO_MANY = 4429
# How soon after Redis stops an open socket must be told (measured: well under a second).
CLOSED_WITHIN_SECONDS = 3
# A REST write while Redis is down must not stall on the lost broker.
REST_WITHIN_SECONDS = 2


class PrivateRedis:
    """A throwaway redis-server on its own port, stopped and started by the test."""

    def __init__(self, log_dir: Path):
        if shutil.which("redis-server") is None:
            pytest.skip("needs redis-server on PATH")
        self.port = free_port()
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log_path.read_text()
                try:
                    if client.ping():
                        return
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
            pytest.fail("redis-server did not start within 10 s")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def private_redis(tmp_path):
    require_services()
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_servers(tmp_path, private_redis):
    started: list[Server] = []

    def start(*names: str, **env: str) -> list[Server]:
        environment = server_env(REDIS_URL=private_redis.url, **env)
        servers = [Server(name, tmp_path, environment) for name in names]
        started.extend(servers)
        for server in servers:
            server.wait_until_live()
        return servers

    yield start
    for server in started:
        server.stop()


async def sign_up(server: Server, email: str) -> str:
    """Registers and logs in; the access token."""
    body = {"email": email, "password": PASSWORD}
    status, user = await api("POST", f"{server.http}/api/v1/auth/register/", body)
    assert status == 201, user
    status, tokens = await api("POST", f"{server.http}/api/v1/auth/login/", body)
    assert status == 200, tokens
    return tokens["access"]


async def close_code(ws, timeout: float) -> int:
    """The code the server closes this socket with, within `timeout`."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:  # anything still queued before the close is skipped
            await asyncio.wait_for(ws.recv(), timeout)
    assert closed.value.rcvd is not None, "closed without a close frame (1006)"
    return closed.value.rcvd.code


async def create_task(server: Server, token: str, project_id: int) -> tuple[dict, float]:
    started = time.monotonic()
    status, task = await api(
        "POST",
        f"{server.http}/api/v1/tasks/",
        {"title": "During", "project_id": project_id},
        token,
    )
    assert status == 201, task
    return task, time.monotonic() - started


async def outage(server: Server, private_redis: PrivateRedis) -> dict:
    token = await sign_up(server, "alice@example.com")
    status, project = await api("POST", f"{server.http}/api/v1/projects/", {"name": "Ops"}, token)
    assert status == 201, project
    figures = {}

    async with connect(server.events_url(token), open_timeout=5) as ws:
        assert (await receive(ws))["type"] == "connection.ready"
        await create_task(server, token, project["id"])
        assert (await receive(ws))["type"] == "task.created"

        stopped = time.monotonic()
        await asyncio.to_thread(private_redis.stop)
        assert await close_code(ws, CLOSED_WITHIN_SECONDS) == CLOSE_SERVICE_RESTART
        figures["open_socket_closed_after"] = time.monotonic() - stopped

    # Redis is down: REST reads and writes go on, promptly.
    task, figures["write_while_down"] = await create_task(server, token, project["id"])
    status, page = await api("GET", f"{server.http}/api/v1/tasks/", token=token)
    assert status == 200, page
    assert task["id"] in [row["id"] for row in page["results"]]
    assert figures["write_while_down"] < REST_WITHIN_SECONDS, figures

    # A socket opened now is accepted and told to come back later.
    opened = time.monotonic()
    async with connect(server.events_url(token), open_timeout=5) as ws:
        assert await close_code(ws, CLOSED_WITHIN_SECONDS) == CLOSE_SERVICE_RESTART
    figures["new_socket_closed_after"] = time.monotonic() - opened

    # Redis is back: new sockets work and events flow.
    await asyncio.to_thread(private_redis.start)
    back = time.monotonic()
    async with connect(server.events_url(token), open_timeout=5) as ws:
        ready = await receive(ws)
        assert ready["type"] == "connection.ready", ready
        assert project["id"] in ready["project_ids"]
        task, _ = await create_task(server, token, project["id"])
        event = await receive(ws)
        assert (event["type"], event["data"]["id"]) == ("task.created", task["id"])
        await ws.send(json.dumps({"type": "ping"}))
        assert await receive(ws) == {"type": "pong"}
    figures["events_again_after"] = time.monotonic() - back
    return figures


def test_a_redis_outage_closes_sockets_with_1012_and_rest_goes_on(start_servers, private_redis):
    (server,) = start_servers("outage")

    figures = asyncio.run(outage(server, private_redis))

    print("redis outage figures (s):", {k: round(v, 3) for k, v in figures.items()})
    logs = server.logs()
    assert "Exception in ASGI application" not in logs, logs
    assert "Closing a socket with 1012" in logs, logs
    assert "Could not publish ['task.created']" in logs, logs  # the write during the outage


async def cap_across(a: Server, b: Server) -> None:
    token = await sign_up(a, "bob@example.com")
    first = await connect(a.events_url(token), open_timeout=5)
    second = await connect(b.events_url(token), open_timeout=5)
    try:
        for ws in (first, second):
            assert (await receive(ws))["type"] == "connection.ready"
        for server in (a, b):
            async with connect(server.events_url(token), open_timeout=5) as extra:
                assert await close_code(extra, EVENT_TIMEOUT) == CLOSE_TOO_MANY
        await second.close()
        # Its slot is released once server b has handled the close: retry for a moment.
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            async with connect(a.events_url(token), open_timeout=5) as again:
                try:
                    if (await receive(again))["type"] == "connection.ready":
                        break
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None and closed.rcvd.code == CLOSE_TOO_MANY
                    assert time.monotonic() < deadline, "the closed socket's slot stayed taken"
                    await asyncio.sleep(0.1)
    finally:
        await first.close()
        await second.close()


def test_the_socket_cap_holds_across_server_processes(start_servers):
    a, b = start_servers("cap-a", "cap-b", WS_MAX_SOCKETS_PER_USER="2")

    asyncio.run(cap_across(a, b))
