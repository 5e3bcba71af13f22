"""The contract holds with DJANGO_DEBUG=1 too (`make run`), against a real server process.

Issue 20, point 15: an unknown Host answered Django's HTML debug page (settings included) under
/api/, and a local front end's CORS preflight got no CORS headers while a socket from the same
origin was accepted. Browser origins follow one rule for both (core/origins.py).
"""

import asyncio
import http.client
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.server import require_services, start_server

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def debug_server(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        require_services()
        # ALLOWED_HOSTS as a developer's .env leaves it: DEBUG's default.
        server = start_server(tmp_path_factory.mktemp("debug"), DJANGO_DEBUG="1", ALLOWED_HOSTS="")
    yield server
    server.stop()


def call(server, method: str, path: str, headers: dict) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/api/v1/auth/me/", "/api/v1/tasks/?page=2", "/api/nowhere/"])
def test_an_unknown_host_is_the_json_400_in_debug(debug_server, path):
    status, headers, body = call(debug_server, "GET", path, {"Host": "evil.example"})

    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "type": "validation_error",
        "errors": [{"code": "bad_request", "detail": "Bad request.", "attr": None}],
    }
    assert b"SECRET_KEY" not in body and b"DATABASES" not in body


def preflight(server, origin: str) -> dict:
    status, headers, _ = call(
        server,
        "OPTIONS",
        "/api/v1/tasks/",
        {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert status == 200
    return headers


async def socket_accepted(server, origin: str) -> bool:
    try:
        async with connect(server.events_url("no-token"), origin=origin, open_timeout=5):
            return True
    except InvalidStatus:
        return False


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://127.0.0.1:5173", True),
        ("https://localhost", True),
        ("http://evil.example:3000", False),
        ("http://localhost.evil.example", False),
        ("null", False),
    ],
)
def test_cors_and_the_socket_follow_one_origin_rule(debug_server, origin, allowed):
    headers = preflight(debug_server, origin)

    if allowed:
        assert headers["access-control-allow-origin"] == origin
        assert "authorization" in headers["access-control-allow-headers"]
    else:
        assert "access-control-allow-origin" not in headers
    assert asyncio.run(socket_accepted(debug_server, origin)) is allowed
