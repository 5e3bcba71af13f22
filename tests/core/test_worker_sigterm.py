"""The webhook worker stops on SIGTERM without logging an ERROR.

A platform (and `make run`'s Ctrl-C) sends SIGTERM to every process of the worker, its pool's
children included. Celery's children died of it, and the main process logged "Process
'ForkPoolWorker-1' ... exited with 'signal 15 (SIGTERM)'" at ERROR for each: an alert for a
normal stop. Run as the Procfile's `worker:` line, signalled as a platform signals it (the
whole process group), on a throwaway SQLite file and the folder broker (the pool does not
depend on the broker, and no other test's tasks can reach this worker).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent.parent
READY = " ready."


def worker_line() -> list[str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    words = next(line for line in lines if line.startswith("worker:")).split()[1:]
    assert words[0] == "celery"
    return [sys.executable, "-m", *words]


@pytest.fixture
def environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_DIR": str(tmp_path / "broker"),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return env


def test_a_sigtermed_worker_stops_without_logging_an_error(environment, tmp_path):
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            worker_line(),
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while READY not in log_path.read_text(errors="replace"):
            assert worker.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not start within 120 s"
            time.sleep(0.2)
        time.sleep(1)  # the pool's children are up and waiting

        os.killpg(worker.pid, signal.SIGTERM)
        exit_code = worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()

    logs = log_path.read_text(errors="replace")
    assert "Warm shutdown" in logs, logs
    error_lines = [
        line for line in logs.splitlines() if '"level": "error"' in line or "ERROR/" in line
    ]
    assert error_lines == []
    assert exit_code == 0
