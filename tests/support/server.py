"""Real server processes for tests that live at the ASGI or network layer.

`Server` starts the production ASGI app under uvicorn on a free port, against the database of
this test run (its committed rows are visible to the server), and `server_env()` is the
environment it runs with. Tests using it need PostgreSQL and Redis, as on CI.
"""

import asyncio
import contextlib
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.support.parallel import worker_count, worker_index

BASE_DIR = Path(settings.BASE_DIR)


def procfile_web_command(host: str, port: int) -> list[str]:
    """The Procfile's web line, the server production runs, listening on `host`:`port`, its
    uvicorn from this interpreter (tests/test_blueprints.py checks it against the Procfile)."""
    line = next(
        line for line in (BASE_DIR / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    words = shlex.split(line.removeprefix("web:").replace("$PORT", str(port)))
    words[words.index("--host") + 1] = host
    assert words[0] == "uvicorn", words
    return [sys.executable, "-m", *words]


def wait_until_live(base: str, process, logs, *, timeout: float, interval: float) -> None:
    """Until `base`'s /health/live/ answers 200; fails with the server's log if the process
    exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited:\n{logs()}"
        try:
            with urllib.request.urlopen(f"{base}/health/live/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(interval)
    pytest.fail(f"the server did not answer /health/live/ within {timeout} s:\n{logs()}")


def free_port() -> int:
    """A port free now, for a server about to start. Of the ports the system hands out, only
    those of this worker (of a parallel run, tests/support/parallel.py): two workers never
    pick the same port in the moment between the probe and the server's bind. The system's
    choices for outgoing connections (even ports) stay clear of its choices for bind (odd
    ones), hence `port // 2`."""
    rejected = []
    try:
        while True:
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            if (port // 2) % worker_count() == worker_index():
                probe.close()
                return port
            rejected.append(probe)  # kept bound until one is found: the system picks another
    finally:
        for probe in rejected:
            probe.close()


class Blackhole:
    """A listener on a free loopback port that accepts every connection and never answers:
    a Redis that hangs (every client timeout is paid in full)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(512)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while True:
            try:
                accepted, _ = self.listener.accept()
            except OSError:  # closed
                return
            self.accepted.append(accepted)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(5)
        for accepted in self.accepted:
            accepted.close()


def database_url_of_this_run() -> str:
    """The database this test run uses (test_<name>), where its committed rows live."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def require_services() -> None:
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL (DATABASE_URL) and REDIS_URL, as on CI")


def server_env(**overrides: str) -> dict:
    """The environment of a production-like server process (DEBUG off, throttles off)."""
    return {
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
        **overrides,
    }


class Server:
    def __init__(
        self,
        name: str,
        log_dir: Path,
        env: dict,
        extra_args: tuple[str, ...] = (),
        separate_stderr: bool = False,
    ):
        """The server's stdout and stderr go to `log_path`, or stderr to `stderr_path` with
        `separate_stderr` (to check what stdout alone carries)."""
        self.port = free_port()
        self.log_path = log_dir / f"server-{name}.log"
        self.log = self.log_path.open("wb")
        self.stderr_path = log_dir / f"server-{name}.stderr.log"
        self.stderr = self.stderr_path.open("wb") if separate_stderr else None
        self.process = subprocess.Popen(
            [*procfile_web_command("127.0.0.1", self.port), *extra_args],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=self.stderr or subprocess.STDOUT,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events_url(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/events/?token={token}"

    def wait_until_live(self, timeout: float = 60) -> None:
        wait_until_live(self.http, self.process, self.logs, timeout=timeout, interval=0.1)

    def logs(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()
        if self.stderr:
            self.stderr.close()


def start_server(tmp_path: Path, name: str = "server", **env_overrides: str) -> Server:
    server = Server(name, tmp_path, server_env(**env_overrides))
    try:
        server.wait_until_live()
    except BaseException:
        server.stop()
        raise
    return server


def request(
    method: str,
    url: str,
    body: dict | None = None,
    token: str | None = None,
    headers: dict | None = None,
):
    """(status, JSON body) of one HTTP request."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# --- A real client's side, for async tests ---------------------------------------------------

EVENT_TIMEOUT = 5


async def api(method: str, url: str, body: dict | None = None, token: str | None = None):
    """`request` from async test code (in a thread, so sockets keep being served)."""
    return await asyncio.to_thread(request, method, url, body, token)


async def receive(ws, timeout: float = EVENT_TIMEOUT) -> dict:
    """The next message of a real WebSocket client, as JSON."""
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def receive_event(ws, event_type: str) -> dict:
    event = await receive(ws)
    assert event["type"] == event_type, event
    return event
