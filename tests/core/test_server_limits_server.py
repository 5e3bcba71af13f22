"""The server's own limits, against a real server process started as the Procfile starts it.

Issue 20, point 13: a client that opens connections and never finishes a request head
(slowloris) kept each one open for as long as it liked; uvicorn has no header timeout of its
own. The server command line adds one (config/server.py).
"""

import asyncio
import json
import socket
import time
import uuid

import pytest
from websockets.asyncio.client import connect

from tests.support.server import request, require_services, start_server

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

HEADER_TIMEOUT = 2
SLACK = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        require_services()
        started = start_server(
            tmp_path_factory.mktemp("limits"), REQUEST_HEADER_TIMEOUT=str(HEADER_TIMEOUT)
        )
    yield started
    started.stop()


def seconds_until_closed(sock: socket.socket, trickle: bytes = b"", limit: float = 30) -> float:
    """Send `trickle` a byte a second (or nothing) until the server closes the connection."""
    started = time.monotonic()
    sock.settimeout(1)
    while time.monotonic() - started < limit:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if trickle:
            try:
                sock.sendall(trickle[:1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            trickle = trickle[1:] or b"x"
    return float("inf")


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(server):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        assert seconds_until_closed(sock) < HEADER_TIMEOUT + SLACK


def test_a_request_head_trickled_a_byte_a_second_is_cut_off(server):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert seconds_until_closed(sock, trickle=b"X-Slow: " + b"a" * 100) < HEADER_TIMEOUT + SLACK


def test_a_stalled_head_after_a_kept_alive_request_is_cut_off_too(server):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b" 200 " in sock.recv(65536)
        sock.sendall(b"GET /health/live/ HTTP/1.1\r\n")
        assert seconds_until_closed(sock, trickle=b"X-Slow: " + b"a" * 100) < HEADER_TIMEOUT + SLACK


def test_many_stalled_clients_do_not_stop_others(server):
    stalled = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
    try:
        for sock in stalled:
            sock.sendall(b"GET / HTTP/1.1\r\n")
        assert request("GET", f"{server.http}/health/live/")[0] == 200
        time.sleep(HEADER_TIMEOUT + SLACK)
        closed = 0
        for sock in stalled:
            sock.settimeout(1)
            try:
                closed += sock.recv(1) == b""
            except (TimeoutError, ConnectionResetError):
                closed += 0
        assert closed == len(stalled)
    finally:
        for sock in stalled:
            sock.close()


def test_a_socket_outlives_the_header_timeout(server):
    body = {"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": "correct-horse-battery-9"}
    assert request("POST", f"{server.http}/api/v1/auth/register/", body)[0] == 201
    access = request("POST", f"{server.http}/api/v1/auth/login/", body)[1]["access"]

    async def idle_socket() -> str:
        async with connect(server.events_url(access), open_timeout=5) as ws:
            ready = json.loads(await ws.recv())["type"]
            await asyncio.sleep(HEADER_TIMEOUT + SLACK)
            await ws.send(json.dumps({"type": "ping"}))
            return ready + " " + json.loads(await asyncio.wait_for(ws.recv(), 5))["type"]

    assert asyncio.run(idle_socket()) == "connection.ready pong"


def test_a_request_head_larger_than_64_kib_is_a_431(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            for n in range(200):  # 200 KB of headers, sent at once
                sock.sendall(b"X-Big-%d: " % n + b"a" * 1000 + b"\r\n")
            sock.sendall(b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking the rest
        answer = sock.recv(65536)

    assert answer.startswith(b"HTTP/1.1 431 ")


def test_a_head_of_60_kib_is_still_served(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        head += b"".join(b"X-Big-%d: " % n + b"a" * 1000 + b"\r\n" for n in range(60))
        sock.sendall(head + b"Connection: close\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


# --- At most HTTP_MAX_CONCURRENCY requests in a process -----------------------------------------

CONCURRENCY = 3


@pytest.fixture(scope="module")
def small_server(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        require_services()
        started = start_server(
            tmp_path_factory.mktemp("concurrency"),
            HTTP_MAX_CONCURRENCY=str(CONCURRENCY),
            REQUEST_BODY_TIMEOUT="30",
        )
    yield started
    started.stop()


def stalled_upload(server) -> socket.socket:
    """A request whose body never arrives: it stays in the process until its client leaves."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        b"POST /api/v1/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    return sock


def test_beyond_the_concurrency_limit_a_request_is_a_json_503_at_once(small_server):
    stalled = [stalled_upload(small_server) for _ in range(CONCURRENCY)]
    try:
        time.sleep(0.5)  # every head has arrived
        started = time.monotonic()
        status, body = request("GET", f"{small_server.http}/api/v1/auth/me/")
        elapsed = time.monotonic() - started

        assert status == 503
        assert body["errors"][0]["code"] == "server_busy"
        assert elapsed < 5
        assert request("GET", f"{small_server.http}/health/live/")[0] == 200
    finally:
        for sock in stalled:
            sock.close()

    deadline = time.monotonic() + 10
    while request("GET", f"{small_server.http}/api/v1/auth/me/")[0] != 401:
        assert time.monotonic() < deadline, "the slots were not given back"
        time.sleep(0.2)
