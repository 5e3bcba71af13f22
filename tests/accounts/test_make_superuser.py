"""`make superuser` runs without a terminal when DJANGO_SUPERUSER_EMAIL is set (a script, a
container's entry point, CI): it passes `--noinput`, and Django's command takes the email
and DJANGO_SUPERUSER_PASSWORD from the environment. The new admin gets an Inbox like every
user. Run as `make superuser` itself, with no standard input, on a throwaway SQLite file."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SHOW_USER = (
    "import django; django.setup(); from accounts.models import User; "
    "from projects.models import Project; u = User.objects.get(); "
    "print(u.email, u.is_superuser, u.check_password('an-operator-passphrase-1'), "
    "list(Project.objects.filter(owner=u).values_list('name', flat=True)))"
)


def environment(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return env | {
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    }


def run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_superuser_with_the_email_in_the_environment_needs_no_terminal(tmp_path):
    env = environment(tmp_path)
    migrated = run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    assert migrated.returncode == 0, migrated.stderr

    made = run(
        # -o: neither reinstall the virtualenv nor write a `.env` into the checkout.
        ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".env", "superuser"],
        env
        | {
            "DJANGO_SUPERUSER_EMAIL": "Ops@Example.com",
            "DJANGO_SUPERUSER_PASSWORD": "an-operator-passphrase-1",
        },
    )
    assert made.returncode == 0, made.stdout + made.stderr

    shown = run(
        [sys.executable, "-c", SHOW_USER], env | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "ops@example.com True True ['Inbox']"
