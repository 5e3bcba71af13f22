"""`make run` as CI's real server: a free port, the process in its own group (so SIGTERM
reaches uvicorn), and a wait until it answers /health/live/."""

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
