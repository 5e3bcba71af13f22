"""Shared bench helpers: a fresh PostgreSQL database, a real server process, its memory."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
UVICORN = ROOT / ".venv" / "bin" / "uvicorn"
SECRET = "bench-secret-key-0123456789abcdef0123456789abcdefghijklmn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(database: str) -> dict:
    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{base}/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"),
        "THROTTLE_LOGIN": "off",
        "THROTTLE_REGISTER": "off",
        "THROTTLE_USER": "off",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def fresh_database(name: str) -> dict:
    """Drop and recreate `name`, migrate it, and return the environment that points at it."""
    for command in (["dropdb", "--if-exists", name], ["createdb", name]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres"], check=True)
    env = bench_env(name)
    manage(env, "migrate", "--noinput", "-v0")
    subprocess.run(
        ["redis-cli", "-u", env["REDIS_URL"], "FLUSHDB"], check=True, capture_output=True
    )
    return env


def start_server(env: dict, *extra: str, server: str = "uvicorn") -> tuple[subprocess.Popen, str]:
    port = free_port()
    if server == "daphne":
        command = [str(ROOT / ".venv" / "bin" / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
        command += [*extra, "config.asgi:application"]
    else:
        command = [
            str(UVICORN),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets-sansio",
            "--ws-per-message-deflate",  # as the Procfile's web line
            "false",
            "--lifespan",
            "off",
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "5",
            *extra,
        ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health/live/", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def django_setup(env: dict) -> None:
    os.environ.update({k: v for k, v in env.items() if k.isupper()})
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
