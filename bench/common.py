"""Shared bench helpers: a fresh PostgreSQL database, a real server process, its memory."""

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
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


def seed(env: dict, *args: str) -> None:
    """The benchmarks' data at scale (bench/seed.py; `--help` for its options)."""
    subprocess.run([str(PYTHON), "bench/seed.py", *args], cwd=ROOT, env=env, check=True)


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


def procfile_command(port: int | str, *, host: str = "127.0.0.1", app: str | None = None):
    """The Procfile's web line, the server production runs: `$PORT` and `--host` filled in,
    its program from the venv, and optionally another ASGI app in place of Tasklane's (the
    floor, with the same flags). tests/test_blueprints.py checks it against the Procfile."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    words = shlex.split(
        line.removeprefix("web:").replace("${PORT}", str(port)).replace("$PORT", str(port))
    )
    words[words.index("--host") + 1] = host
    words[0] = shutil.which(words[0], path=str(VENV_BIN)) or words[0]
    if app is not None:
        position = next(i for i, word in enumerate(words[1:], 1) if not word.startswith("-"))
        words[position] = app
    return words


def start_server(env: dict, *extra: str) -> tuple[subprocess.Popen, str]:
    """The Procfile's server on a free port; `extra` options come after the Procfile's, and
    uvicorn takes the last value given, so a bench can vary one (ws_fanout.py: --ws and
    --ws-per-message-deflate)."""
    port = free_port()
    process = subprocess.Popen(
        [*procfile_command(port), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
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
