"""A deployment that cannot reach its database says so in one sentence, naming it."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.support.startup import PROJECT_ROOT


@pytest.fixture
def postgres_url(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL), as on CI")
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


def migrate(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_database_is_named_with_how_to_create_it(postgres_url):
    result = migrate(f"{postgres_url}/tasklane_no_such_database")

    assert result.returncode != 0
    assert "Cannot use PostgreSQL database 'tasklane_no_such_database'" in result.stderr
    assert "createdb" in result.stderr
    assert "Traceback" not in result.stderr
    assert "couldn't get a connection" not in result.stderr
