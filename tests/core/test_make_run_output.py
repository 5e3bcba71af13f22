"""What `make run` prints from start to Ctrl-C: no deprecation warning, no ERROR.

uvicorn's `--ws websockets` printed a UvicornDeprecationWarning on every start (the legacy
implementation); the server line now names `websockets-sansio`, the maintained one. A
WebSocket closed right after its handshake (a bad token: accepted, then 4401) is the path on
which an older default implementation hung; it is exercised here before the stop, which must
then be prompt. The stop is SIGTERM to the whole process group, as a terminal's Ctrl-C or a
platform sends it, so the webhook worker's pool gets it too.
"""

import asyncio
import re
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.make_run import start_make_run

pytestmark = pytest.mark.server

STOP_SECONDS = 20


async def bad_token_closes(port: int) -> list[int]:
    async def one() -> int:
        url = f"ws://127.0.0.1:{port}/ws/v1/events/?token=not.a.token"
        async with connect(url, open_timeout=10) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
            return closed.value.rcvd.code

    return await asyncio.gather(*(one() for _ in range(10)))


def test_make_run_starts_and_stops_without_a_deprecation_warning_or_an_error(tmp_path):
    server = start_make_run(tmp_path)
    try:
        assert asyncio.run(bad_token_closes(server.port)) == [4401] * 10
        time.sleep(1)
        started = time.monotonic()
        server.stop()
        stopped_after = time.monotonic() - started
    finally:
        server.stop()

    logs = re.sub(r"\x1b\[[0-9;]*m", "", server.logs())  # the console format's colours
    assert "Application startup complete" in logs or "Uvicorn running" in logs, logs
    assert not re.search(r"deprecat", logs, re.I), logs
    assert not re.search(r'"level": "error"|\bERROR\b|\[error\s*\]', logs), logs
    assert stopped_after < STOP_SECONDS, logs
