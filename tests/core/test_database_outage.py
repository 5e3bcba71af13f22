"""PostgreSQL going away: a JSON 503 with Retry-After, quickly, then recovery on its own.

The in-process tests raise the errors psycopg raises when the database is down, wherever a
request can meet them (a view, a middleware). The server test restarts a real PostgreSQL
under a real server process while writes flow: it runs its own cluster on a free port, never
the shared one.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import psycopg
import pytest
from django.db import OperationalError
from psycopg_pool import PoolTimeout

from core.idempotency import IdempotencyMiddleware
from tasks import services as task_services
from tests.support.envelope import assert_error
from tests.support.server import BASE_DIR, Server, free_port, require_services, server_env
from tests.support.urls import TASKS


def as_django_error(cause: Exception) -> OperationalError:
    """What Django raises for a psycopg error: its own class, the driver's error as cause."""
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


UNAVAILABLE = {
    "connection_refused": psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        "Connection refused"
    ),
    "connection_lost": psycopg.OperationalError(
        "consuming input failed: server closed the connection unexpectedly"
    ),
    "pool_timeout": PoolTimeout("couldn't get a connection after 2.00 sec"),
    "admin_shutdown": psycopg.errors.lookup("57P01")(
        "terminating connection due to administrator command"
    ),
    "starting_up": psycopg.errors.lookup("57P03")("the database system is starting up"),
}


def assert_503(response) -> None:
    assert_error(response, 503, code="database_unavailable")
    assert response.json()["type"] == "server_error"
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("cause", UNAVAILABLE.values(), ids=UNAVAILABLE.keys())
def test_a_view_that_cannot_reach_the_database_answers_503(auth_client, monkeypatch, cause):
    def fail(**kwargs):
        raise as_django_error(cause)

    monkeypatch.setattr(task_services, "task_create", fail)
    auth_client.raise_request_exception = False

    assert_503(auth_client.post(TASKS, {"title": "Buy milk"}, format="json"))


def test_a_middleware_that_cannot_reach_the_database_answers_503(auth_client, monkeypatch):
    def fail(*args, **kwargs):
        raise as_django_error(UNAVAILABLE["connection_lost"])

    monkeypatch.setattr(IdempotencyMiddleware, "claim", staticmethod(fail))
    auth_client.raise_request_exception = False

    response = auth_client.post(
        TASKS, {"title": "Buy milk"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert_503(response)


def test_a_deadlock_is_still_a_500_not_an_outage(auth_client, monkeypatch):
    def fail(**kwargs):
        raise as_django_error(psycopg.errors.lookup("40P01")("deadlock detected"))

    monkeypatch.setattr(task_services, "task_create", fail)
    auth_client.raise_request_exception = False

    response = auth_client.post(TASKS, {"title": "Buy milk"}, format="json")

    assert_error(response, 500)
    assert "Retry-After" not in response


# --- A real restart under load ---------------------------------------------------------------

# The load: this many writers, each creating a task and then PATCHing it, one request at a time
# with a pause between, for LOAD_BEFORE s, then through the outage, then RECOVERY_WINDOW s more.
WRITERS = 4
PAUSE = 0.1
LOAD_BEFORE = 3.0
OUTAGE = 3.0
RECOVERY_WINDOW = 8.0
# What the issue asks for: an answer within about 2 s (the pool timeout), however things stand.
MAX_503_SECONDS = 2.5
MAX_RECOVERY_SECONDS = 5.0


def postgres_bin(name: str) -> str:
    candidates = sorted(
        glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda path: int(path.split("/")[4])
    )
    found = candidates[-1] if candidates else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: the PostgreSQL server binaries are needed, as on CI")
    return found


class PrivateCluster:
    """A throwaway PostgreSQL cluster in a temporary directory, on a free port.

    initdb and postgres refuse to run as root, so as root they run as `postgres`.
    """

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tasklane-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run(
            postgres_bin("initdb"),
            "-D",
            self.data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self.start()

    def run(self, *command) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*prefix, *map(str, command)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c max_connections=50 -c shared_buffers=16MB"
        )
        self.run(
            postgres_bin("pg_ctl"),
            "start",
            "-w",
            "-t",
            "30",
            "-D",
            self.data,
            "-l",
            self.log,
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        self.run(postgres_bin("pg_ctl"), "stop", "-w", "-t", "30", "-m", mode, "-D", self.data)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        with contextlib.suppress(AssertionError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Outcome:
    kind: str  # "create" or "patch"
    started: float
    seconds: float
    status: int  # 0: no HTTP answer at all
    content_type: str
    retry_after: str | None
    body: object
    description: str | None = None  # what a PATCH wrote


def send(url: str, method: str, body: dict, token: str) -> tuple[int, str, str | None, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, headers = error.read(), error.code, error.headers
    except OSError as error:  # refused, reset, timed out: the worst outcome
        return 0, "", None, repr(error)
    content_type = headers.get("Content-Type", "")
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw[:200]
    return status, content_type, headers.get("Retry-After"), parsed


def writer(server: Server, token: str, index: int, stop: threading.Event, out: list) -> None:
    """Create a task, PATCH it once, repeat: every answer is recorded with its timing."""
    sequence = 0
    while not stop.is_set() and sequence < 1000:
        sequence += 1
        started = time.monotonic()
        status, content_type, retry_after, body = send(
            f"{server.http}{TASKS}", "POST", {"title": f"w{index}-{sequence}"}, token
        )
        out.append(
            Outcome(
                "create",
                started,
                time.monotonic() - started,
                status,
                content_type,
                retry_after,
                body,
            )
        )
        if status == 201:
            description = f"patched w{index}-{sequence}"
            started = time.monotonic()
            status, content_type, retry_after, answer = send(
                f"{server.http}{TASKS}{body['id']}/", "PATCH", {"description": description}, token
            )
            out.append(
                Outcome(
                    "patch",
                    started,
                    time.monotonic() - started,
                    status,
                    content_type,
                    retry_after,
                    answer,
                    description,
                )
            )
        stop.wait(PAUSE)


@pytest.mark.server
def test_writes_through_a_postgresql_restart_get_503s_then_recover_and_none_is_lost(tmp_path):
    require_services()
    cluster = PrivateCluster()
    server = None
    try:
        cluster.run(
            postgres_bin("createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            cluster.port,
            "-U",
            "postgres",
            "tasklane",
        )
        env = server_env(DATABASE_URL=cluster.url("tasklane"))
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert migrate.returncode == 0, migrate.stderr
        server = Server("outage", tmp_path, env)
        server.wait_until_live()
        credentials = {"email": "outage@example.com", "password": "a-long-passphrase-for-outage"}
        status, _, _, _ = send(f"{server.http}/api/v1/auth/register/", "POST", credentials, "-")
        assert status == 201
        status, _, _, tokens = send(f"{server.http}/api/v1/auth/login/", "POST", credentials, "-")
        assert status == 200, tokens

        outcomes: list[Outcome] = []
        stop = threading.Event()
        writers = [
            threading.Thread(target=writer, args=(server, tokens["access"], index, stop, outcomes))
            for index in range(WRITERS)
        ]
        for thread in writers:
            thread.start()
        try:
            time.sleep(LOAD_BEFORE)
            down_at = time.monotonic()
            cluster.stop("immediate")  # a crash: only what was committed may survive
            time.sleep(OUTAGE)
            cluster.start()  # returns once PostgreSQL accepts connections
            back_at = time.monotonic()
            time.sleep(RECOVERY_WINDOW)
        finally:
            stop.set()
            for thread in writers:
                thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in writers), "a writer hung"
    finally:
        if server is not None:
            server.stop()
        survivors = None
        try:
            with psycopg.connect(cluster.url("tasklane"), connect_timeout=5) as db:
                survivors = dict(db.execute("SELECT id, description FROM tasks_task").fetchall())
        finally:
            cluster.destroy()

    during = [o for o in outcomes if down_at <= o.started < back_at]
    failed = [o for o in outcomes if not 200 <= o.status < 300]
    after_recovery = [o for o in outcomes if o.started >= back_at + MAX_RECOVERY_SECONDS]
    first_success_after = min(
        (o.started + o.seconds for o in outcomes if o.started >= back_at and o.status < 300),
        default=None,
    )
    report = {
        "requests": len(outcomes),
        "during_outage": len(during),
        "failed": len(failed),
        "failed_statuses": sorted({o.status for o in failed}),
        "failure_s": sorted(round(o.seconds, 3) for o in failed),
        "slowest_s": round(max(o.seconds for o in outcomes), 3),
        "recovered_after_s": round(first_success_after - back_at, 3)
        if first_success_after
        else None,
        "creates_2xx": sum(o.kind == "create" and o.status == 201 for o in outcomes),
        "patches_2xx": sum(o.kind == "patch" and o.status == 200 for o in outcomes),
        "rows_after": len(survivors),
    }
    print("database outage:", report)

    # No request hung, and those that met the outage got a JSON 503 with Retry-After.
    slow = [o for o in outcomes if o.seconds >= MAX_503_SECONDS]
    assert not slow, (slow, report)
    assert during, report
    assert failed, report
    for outcome in failed:
        assert outcome.status == 503, (outcome, report)
        assert outcome.content_type.startswith("application/json"), outcome
        assert outcome.body["type"] == "server_error", outcome
        assert [e["code"] for e in outcome.body["errors"]] == ["database_unavailable"], outcome
        assert outcome.body["errors"][0]["attr"] is None, outcome
        assert outcome.retry_after and int(outcome.retry_after) > 0, outcome
        assert outcome.seconds < MAX_503_SECONDS, (outcome, report)
    # Service came back by itself, soon after PostgreSQL did.
    assert first_success_after is not None, report
    assert first_success_after - back_at < MAX_RECOVERY_SECONDS, report
    assert after_recovery, report
    assert all(o.status < 300 for o in after_recovery), report
    # Every acknowledged write is there.
    for outcome in outcomes:
        if outcome.kind == "create" and outcome.status == 201:
            assert outcome.body["id"] in survivors, (outcome, report)
        if outcome.kind == "patch" and outcome.status == 200:
            assert survivors.get(outcome.body["id"]) == outcome.description, (outcome, report)
