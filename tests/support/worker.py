"""Celery worker processes beside a real server, and the API calls that set a webhook up."""

import os
import signal
import subprocess
import sys
import time

from tests.support.server import BASE_DIR, request, server_env


def worker_env(**overrides) -> dict:
    settings = {
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "WEBHOOKS_ALLOW_INSECURE": "1",
        "WEBHOOKS_WAKE_WORKER": "1",
        "WEBHOOKS_RETRY_BASE": "0.2",
        "WEBHOOKS_RETRY_MAX": "0.5",
        "WEBHOOKS_TIMEOUT": "1",
        "WEBHOOKS_SWEEP_INTERVAL": "0.5",
    }
    return server_env(**{**settings, **overrides})


class Worker:
    def __init__(self, tmp_path, env, name="worker", beat=True, concurrency=2):
        self.log_path = tmp_path / f"{name}.log"
        self.log = self.log_path.open("wb")
        args = ["--concurrency", str(concurrency), "--loglevel", "INFO", "-n", f"{name}@%h"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", *args]
            + (["--beat"] if beat else []),
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: killing it kills its pool too
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


def owner_with_project(server) -> tuple[str, int]:
    email = f"hooks-{time.monotonic_ns()}@example.com"
    password = "a-long-test-passphrase-42"
    status, _ = request(
        "POST", f"{server.http}/api/v1/auth/register/", {"email": email, "password": password}
    )
    assert status == 201
    _, tokens = request(
        "POST", f"{server.http}/api/v1/auth/login/", {"email": email, "password": password}
    )
    token = tokens["access"]
    _, project = request("POST", f"{server.http}/api/v1/projects/", {"name": "Hooks"}, token)
    return token, project["id"]


def add_webhook(server, token, project_id, url) -> dict:
    status, hook = request(
        "POST",
        f"{server.http}/api/v1/projects/{project_id}/webhooks/",
        {"url": url, "events": ["task.created"]},
        token,
    )
    assert status == 201, hook
    return hook


def create_task(server, token, project_id, title) -> dict:
    status, task = request(
        "POST", f"{server.http}/api/v1/tasks/", {"title": title, "project_id": project_id}, token
    )
    assert status == 201, task
    return task
