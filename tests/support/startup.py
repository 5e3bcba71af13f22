"""Importing the settings in a fresh interpreter with a clean environment, as a server process
would start: what start-up accepts and what it refuses."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A full start-up; the refusals happen while the settings module is imported, which the
# lighter IMPORT (a quarter of the time) reaches as well.
SETUP = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
IMPORT = "from django.conf import settings; print(settings.DEBUG)"
SAFE_PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-real-secret-for-this-test-only-0123456789abcdefghijklmn",
    "ALLOWED_HOSTS": "api.example.com",
}


def start(code: str = SETUP, **variables: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": "",  # a developer's .env must not change the outcome
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def refused(**variables: str) -> subprocess.CompletedProcess:
    return start(IMPORT, **variables)


def assert_refused(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
