"""`.env` files: what a developer's file fills in, and the defaults `.env.example` shows.

Settings are imported in a fresh interpreter with a clean environment, as a server process
would start, with DJANGO_ENV_FILE naming a temporary file (the repository's own `.env`, if a
developer has one, is never read here).
"""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.support.startup import (
    PROJECT_ROOT,
    start,
)

ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-real-secret-for-this-test-only-0123456789abcdefghijklmn",
    "ALLOWED_HOSTS": "api.example.com",
}
# Every setting, as text: two imports agree exactly when these agree.
DUMP_SETTINGS = (
    "import json; from django.conf import settings; "
    "print(json.dumps({name: repr(getattr(settings, name)) for name in dir(settings) "
    "if name.isupper()}))"
)
EXAMPLE_LINE = re.compile(r"^#\s?([A-Z][A-Z0-9_]*)=(.*)$")


def settings_in_subprocess(env_file: str, code: str = DUMP_SETTINGS, **variables: str):
    result = start(code, DJANGO_ENV_FILE=env_file, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def example_variables() -> dict[str, str]:
    """The variables `.env.example` shows (commented out) with their default values."""
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = EXAMPLE_LINE.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_a_value_in_the_env_file_is_read(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# development\nMAX_BODY_BYTES=2048\nLOG_LEVEL='warning'\n")
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.MAX_BODY_BYTES, settings.LOG_LEVEL]))"
    )

    assert settings_in_subprocess(str(env_file), code, **PRODUCTION) == [2048, "WARNING"]


def test_a_variable_set_in_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("MAX_BODY_BYTES=2048\nDJANGO_DEBUG=1\n")
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.MAX_BODY_BYTES, settings.DEBUG]))"
    )

    values = settings_in_subprocess(str(env_file), code, **PRODUCTION, MAX_BODY_BYTES="4096")

    assert values == [4096, False]  # DJANGO_DEBUG=0 from the environment, too


def test_the_development_env_file_lets_manage_py_start_without_a_secret_key(tmp_path):
    """What `make run` writes: DEBUG on, so `manage.py createsuperuser` run by hand starts
    (its key comes from .development-secret-key)."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "'DJANGO_DEBUG=1' > $@" in makefile
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=1\n")
    code = "import json; from django.conf import settings; print(json.dumps(settings.DEBUG))"

    assert settings_in_subprocess(str(env_file), code) is True


def test_a_missing_named_env_file_is_refused():
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.DEBUG"],
        cwd=PROJECT_ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(PROJECT_ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ENV_FILE": "/nonexistent/tasklane.env",
            **PRODUCTION,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "DJANGO_ENV_FILE" in result.stderr


@pytest.mark.parametrize("debug", ["0", "1"])
def test_env_example_shows_the_defaults(tmp_path, debug):
    """Uncommenting every line of `.env.example` changes no setting at all."""
    uncommented = tmp_path / "example.env"
    uncommented.write_text(
        "".join(f"{name}={value}\n" for name, value in example_variables().items())
    )
    environment = {**PRODUCTION, "DJANGO_DEBUG": debug}
    if debug == "1":
        del environment["ALLOWED_HOSTS"]

    with_example = settings_in_subprocess(str(uncommented), **environment)
    without = settings_in_subprocess("", **environment)

    assert with_example == without
