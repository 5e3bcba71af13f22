"""`make run` as CI's real server: a free port, production-like settings, the process in its
own group (so SIGTERM reaches uvicorn and the webhook worker), a wait until it answers
/health/live/, and a bounded stop."""

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(port: int, label: str, **extra: str) -> dict:
    """DEBUG off with a random secret, throttles off (one client sends many requests) and the
    fast password hasher (registration and login cost nothing the checks depend on)."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": f"{label}-" + secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PORT": str(port),
        "THROTTLE_LOGIN": "off",
        "THROTTLE_REGISTER": "off",
        "THROTTLE_USER": "off",
        "FAST_PASSWORD_HASHER": "1",
        **extra,
    }


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to the whole group, SIGKILL if it is still there 15 s later."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def start(env: dict, log_path: Path) -> subprocess.Popen:
    with open(log_path, "w") as log:
        return subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_live(base: str, server: subprocess.Popen, log_path: Path) -> None:
    for _ in range(120):
        try:
            with urllib.request.urlopen(base + "/health/live/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None:
            print(log_path.read_text())
            raise SystemExit("the server exited during start-up")
        time.sleep(0.5)
    raise SystemExit("the server did not answer /health/live/ within 60 s")
