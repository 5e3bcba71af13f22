"""`make run` itself as a real server, with its own defaults: SQLite, no Redis (the in-memory
channel layer, the folder broker for its webhook worker), the Makefile's uvicorn line.

What a test cannot share with a developer's checkout is made throwaway: the SQLite file and
the broker folder live in the test's temporary directory, and no `.env` is read or written.
Needs nothing but the virtualenv, so it runs on CI (where DATABASE_URL and REDIS_URL are set
for the suite: they are removed here) and on a bare machine alike.
"""

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.parallel import exclusive
from tests.support.server import free_port, wait_until_live

ROOT = Path(__file__).resolve().parents[2]
# Set for the test suite, never by `make run`'s defaults.
NOT_MAKE_RUN = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "WEBHOOKS_WAKE_WORKER")


class MakeRun:
    def __init__(self, tmp_path: Path, **env: str):
        self.port = free_port()
        self.database = tmp_path / "db.sqlite3"
        self.log_path = tmp_path / "make-run.log"
        environment = {k: v for k, v in os.environ.items() if k not in NOT_MAKE_RUN}
        environment |= {
            # What the `.env` that `make run` writes says; no `.env` file is read.
            "DJANGO_DEBUG": "1",
            "DJANGO_ENV_FILE": "",
            # The default SQLite database, in a throwaway file.
            "DATABASE_URL": f"sqlite:///{self.database}",
            "CELERY_BROKER_DIR": str(tmp_path / "celery-broker"),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.env = environment
        with self.log_path.open("wb") as log:
            # -o: neither reinstall the virtualenv nor write a `.env` into the checkout.
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".env", "run"],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_live(self, timeout: float = 180) -> None:
        """Migrating a new SQLite file and seeding the demo take a while on a loaded machine."""
        wait_until_live(self.http, self.process, self.logs, timeout=timeout, interval=0.3)

    def stop(self) -> None:
        """SIGTERM to the whole group (make, uvicorn and the worker), as Ctrl-C stops it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_make_run(tmp_path: Path, **env: str) -> MakeRun:
    """Started one at a time across a parallel run's workers: each `make run` collects the
    static files into the checkout's staticfiles/ before its server starts."""
    with exclusive("make-run"):
        server = MakeRun(tmp_path, **env)
        try:
            server.wait_until_live()
        except BaseException:
            server.stop()
            raise
    return server


def call(method: str, url: str, body=None, token: str | None = None) -> tuple[int, object]:
    """(status, body) of one request; the body is JSON when it parses, else text."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")[:500]
