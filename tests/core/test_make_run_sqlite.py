"""`make run` on its own defaults (SQLite) takes parallel writes without a 500.

SQLite allows one writer at a time. With Django's default deferred transactions two writers
each begin reading, then both try to write and one fails at once with `database is locked`:
40 parallel PATCHes gave 17 x 500. The settings open SQLite in WAL mode (readers run beside
the writer), wait for the lock (a busy timeout) and take the write lock when a transaction
begins (`BEGIN IMMEDIATE`), so writers queue instead of failing.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.make_run import call, start_make_run
from tests.support.startup import start

PARALLEL = 40
SECRET = "sqlite-settings-test-0123456789abcdefghijklmnopqrstuvwxyz"
DEMO = {"email": "alice@example.com", "password": "tasklane-demo-password"}


@pytest.fixture
def make_run(tmp_path):
    # Throttles off: 120 writes from one user in seconds are the point here, not abuse.
    server = start_make_run(tmp_path, THROTTLE_USER="off", THROTTLE_LOGIN="off")
    yield server
    server.stop()


def in_parallel(requests) -> list[tuple[int, object]]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda args: call(*args), requests))


def errors(results) -> list:
    return [(status, body) for status, body in results if status >= 500]


@pytest.mark.server
def test_forty_parallel_creates_patches_and_deletes_on_make_runs_sqlite(make_run):
    status, body = call("POST", f"{make_run.http}/api/v1/auth/login/", DEMO)
    assert status == 200, body
    token = body["access"]
    status, body = call("GET", f"{make_run.http}/api/v1/projects/", token=token)
    assert status == 200, body
    project = next(p for p in body["results"] if p["name"] == "Website launch")
    tasks_url = f"{make_run.http}/api/v1/tasks/"

    created = in_parallel(
        [
            ("POST", tasks_url, {"project": project["id"], "title": f"t{i}"}, token)
            for i in range(PARALLEL)
        ]
    )
    assert errors(created) == []
    assert [status for status, _ in created] == [201] * PARALLEL, created[:3]

    patched = in_parallel(
        [
            ("PATCH", f"{tasks_url}{body['id']}/", {"title": f"renamed {i}"}, token)
            for i, (_, body) in enumerate(created)
        ]
    )
    assert errors(patched) == []
    assert [status for status, _ in patched] == [200] * PARALLEL, patched[:3]

    deleted = in_parallel(
        [("DELETE", f"{tasks_url}{body['id']}/", None, token) for _, body in created]
    )
    assert errors(deleted) == []
    assert [status for status, _ in deleted] == [204] * PARALLEL, deleted[:3]
    assert "database is locked" not in make_run.logs()


SHOW_DATABASE = (
    "import json; from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default']))"
)
SHOW_PRAGMAS = (
    "import django; django.setup(); from django.db import connection; "
    "cursor = connection.cursor(); "
    "print(cursor.execute('PRAGMA journal_mode').fetchone()[0], "
    "cursor.execute('PRAGMA busy_timeout').fetchone()[0])"
)


def test_the_default_database_is_sqlite_with_immediate_transactions_wal_and_a_busy_timeout():
    """With no DATABASE_URL at all, as `make run` starts on a bare machine."""
    result = start(SHOW_DATABASE, DJANGO_DEBUG="1", DJANGO_SECRET_KEY=SECRET)
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"].endswith("db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] >= 5
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_a_sqlite_connection_is_in_wal_mode_with_the_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = start(SHOW_PRAGMAS, DJANGO_DEBUG="1", DJANGO_SECRET_KEY=SECRET, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr

    assert result.stdout.split() == ["wal", "20000"]
