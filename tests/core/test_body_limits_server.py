"""The request body limit at the network layer, against a real server process.

MAX_BODY_BYTES is enforced before a body is read into the application: a declared length over
the limit is answered at once, a streamed (chunked) body is cut off at the limit, and a body
that stops arriving is answered within a few seconds without holding a thread that serves
requests.
"""

import http.client
import json
import socket
import threading
import time

import pytest

from tests.support.server import require_services, start_server

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

LIMIT = 4096
STALL_SECONDS = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        require_services()
        started = start_server(
            tmp_path_factory.mktemp("body"),
            MAX_BODY_BYTES=str(LIMIT),
            REQUEST_BODY_TIMEOUT=str(STALL_SECONDS),
            HTTP_THREADS="2",
        )
    yield started
    started.stop()


def raw_request(server, head: str, body_parts=(), timeout: float = 15):
    """Send a request head and body parts over a raw socket; (status, JSON body, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        for part in body_parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before taking the rest
        response = http.client.HTTPResponse(sock)
        response.begin()
        payload = response.read()
    return response.status, json.loads(payload or b"null"), time.monotonic() - started


def head_for(path: str, **headers: str) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


def chunked(data: bytes, size: int = 1024):
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(server):
    status, body, elapsed = raw_request(
        server, head_for("/api/v1/auth/register/", Content_Length=str(64 * 1024 * 1024))
    )
    assert status == 413
    assert body["errors"][0]["code"] == "request_too_large"
    assert elapsed < 2


def test_a_declared_length_larger_than_what_is_sent_is_refused_at_once(server):
    status, body, elapsed = raw_request(
        server, head_for("/api/v1/tasks/", Content_Length="2097152"), [b'{"title": 1}']
    )
    assert status == 413
    assert body["errors"][0]["code"] == "request_too_large"
    assert elapsed < 2


def test_a_chunked_body_over_the_limit_is_cut_off_with_a_413(server):
    payload = json.dumps({"email": "a@example.com", "name": "x" * (LIMIT * 4)}).encode()
    status, body, _ = raw_request(
        server,
        head_for("/api/v1/auth/register/", Transfer_Encoding="chunked"),
        chunked(payload),
    )
    assert status == 413, body
    assert body == {
        "type": "client_error",
        "errors": [
            {
                "code": "request_too_large",
                "detail": f"Request body is larger than {LIMIT} bytes.",
                "attr": None,
            }
        ],
    }


def test_a_chunked_body_under_the_limit_reaches_the_view(server):
    payload = json.dumps({"email": "chunked@example.com", "password": "x"}).encode()
    status, body, _ = raw_request(
        server,
        head_for("/api/v1/auth/register/", Transfer_Encoding="chunked"),
        chunked(payload, size=7),
    )
    # The view saw the body: the password is refused, not the email found missing.
    assert status == 400
    assert {error["attr"] for error in body["errors"]} == {"password"}


def test_a_body_that_stops_arriving_is_answered_within_seconds(server):
    status, body, elapsed = raw_request(
        server, head_for("/api/v1/auth/login/", Content_Length="100"), [b'{"email": ']
    )
    assert status == 408
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] == "request_timeout"
    assert STALL_SECONDS <= elapsed < STALL_SECONDS + 3


def test_stalled_bodies_do_not_hold_the_threads_that_serve_requests(server):
    """More stalled uploads than the server has HTTP threads; a normal request still passes."""
    stalled = [
        threading.Thread(
            target=raw_request,
            args=(server, head_for("/api/v1/auth/login/", Content_Length="100"), [b"{"]),
        )
        for _ in range(6)
    ]
    for thread in stalled:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    assert time.monotonic() - started < 1
    for thread in stalled:
        thread.join(10)
