"""The same ASGI app (config/asgi.py) under several servers, one process each, side by side:
`/health/live/` (no database) and the task list of the user who sees 10,000 tasks.

Run it after `make bench` on the database it seeded (this script does not seed); the servers
other than the Procfile's must be installed in the venv first (they are not requirements):

    .venv/bin/pip install granian gunicorn uvicorn-worker
    .venv/bin/python bench/serving.py [--connections 16] [--duration 10]
"""

import argparse
import shutil
import tempfile
from pathlib import Path

from run import (
    DEFAULT_DATABASE,
    SCALES,
    VENV_BIN,
    Case,
    Server,
    bench_data,
    measure,
    prepare_django,
    server_env,
    setting,
)

APP = "config.asgi:application"
SERVERS = {
    # The Procfile's web line (Server's default command).
    "uvicorn (Procfile)": None,
    # Rust HTTP server; asginl: ASGI without the lifespan protocol (as --lifespan off).
    # No access log and no forwarded headers unless asked for.
    "granian": [
        str(VENV_BIN / "granian"),
        "--interface",
        "asginl",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        "1",
        "--workers-kill-timeout",
        "5",
        APP,
    ],
    # gunicorn as the process manager, uvicorn's event loop and protocols in the worker.
    "gunicorn + uvicorn-worker": [
        str(VENV_BIN / "gunicorn"),
        APP,
        "-k",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        "1",
        "--bind",
        "127.0.0.1:{port}",
        "--graceful-timeout",
        "5",
        "--forwarded-allow-ips",
        "",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--servers", nargs="+", default=list(SERVERS))
    args = parser.parse_args()
    env = server_env(setting("DATABASE_URL", DEFAULT_DATABASE))
    prepare_django(env)
    scale = SCALES[setting("BENCH_SCALE", "full")]
    data = bench_data(scale)
    token = data["tokens"][scale["main"]]
    from django.db import connections

    connections.close_all()
    cases = [
        Case("/health/live/", "/health/live/", token=False),
        Case("list", "/api/v1/tasks/?page_size=50"),
    ]
    log_dir = Path(tempfile.mkdtemp(prefix="tasklane-serving-"))
    rows = []
    for name in args.servers:
        server = Server(name, env, log_dir, command=SERVERS[name])
        try:
            for case in cases:
                m = measure(
                    server,
                    case,
                    token,
                    args.connections,
                    scale["main"],
                    (args.duration, args.warmup),
                )
                rows.append((name, case.name, m))
        finally:
            stopped = server.stop()
        rows.append((name, "stopped in", stopped))
    print(f"| server | case | req/s | p50 ms | p99 ms |  (c={args.connections})")
    print("|---|---|---:|---:|---:|")
    for name, case, m in rows:
        if case == "stopped in":
            print(f"| {name} | SIGTERM to exit, idle | {m:.1f} s | | |")
        else:
            print(f"| {name} | {case} | {m.rps:,.1f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} |")
    shutil.rmtree(log_dir)


if __name__ == "__main__":
    main()
