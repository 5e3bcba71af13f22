"""No credential reaches a real server's log, whatever the query parameter is called.

Issue 20, point 11: a token sent as `?access_token=`, `?%74oken=` or `?x=1;token=` was logged in
full, in the request line and in uvicorn's own lines about WebSocket handshakes.
"""

import asyncio
import http.client
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.server import Server, request, require_services, server_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def get(server: Server, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


async def open_socket(server: Server, query: str, origin: str | None = None) -> None:
    try:
        async with connect(
            f"ws://127.0.0.1:{server.port}/ws/v1/events/?{query}", origin=origin, open_timeout=5
        ) as ws:
            await asyncio.wait_for(ws.recv(), 5)
    except (ConnectionClosed, InvalidStatus, TimeoutError):
        pass


def test_a_token_under_any_name_never_reaches_the_log(tmp_path):
    require_services()
    server = Server("redaction", tmp_path, server_env(), separate_stderr=True)
    try:
        server.wait_until_live()
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        password = "correct-horse-battery-9"
        assert (
            request(
                "POST",
                f"{server.http}/api/v1/auth/register/",
                {"email": email, "password": password},
            )[0]
            == 201
        )
        status, tokens = request(
            "POST", f"{server.http}/api/v1/auth/login/", {"email": email, "password": password}
        )
        assert status == 200
        access, refresh = tokens["access"], tokens["refresh"]
        status, created = request(
            "POST",
            f"{server.http}/api/v1/auth/tokens/",
            {"name": "ci", "scopes": ["read"]},
            token=access,
        )
        assert status == 201
        personal = created["token"]

        queries = [
            f"access_token={access}",
            f"%74oken={access}",
            f"x=1;token={access}",
            f"x=1&refresh={refresh}",
            f"key={personal}",
            f"q=%65{access[1:]}",
        ]
        for query in queries:
            assert get(server, f"/api/v1/auth/me/?{query}") == 401
            asyncio.run(open_socket(server, query))
            # A refused handshake (a foreign origin) is logged by uvicorn too, with its 403.
            asyncio.run(open_socket(server, query, origin="https://evil.example"))
        logs = server.logs() + server.stderr_path.read_text(errors="replace")
    finally:
        server.stop()

    assert "WebSocket /ws/v1/events/?" in logs  # uvicorn's handshake lines are there...
    assert "403" in logs
    for secret in (access, refresh):
        payload, signature = secret.split(".")[1:]
        assert payload not in logs and signature not in logs  # ... without the tokens
    assert personal not in logs and personal[len("tl_pat_") :] not in logs
    assert logs.count("[redacted]") >= 3 * len(queries)
