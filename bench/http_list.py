"""Task list throughput: one user who sees 10,000 tasks, measured with wrk.

    .venv/bin/python bench/http_list.py [--server uvicorn|daphne] [--workers 1] [--seconds 15]

Needs PostgreSQL, Redis and wrk (Debian package `wrk`). Drops and recreates `tasklane_bench`.
"""

import argparse
import json
import re
import subprocess

from common import django_setup, fresh_database, manage, start_server, stop_server

QUERIES = {
    "default page (20)": "/api/v1/tasks/",
    "page_size=100": "/api/v1/tasks/?page_size=100",
    "filtered + ordered": "/api/v1/tasks/?status=pending,in-progress&due=overdue&ordering=due_date",
    "search": "/api/v1/tasks/?search=gamma",
    "detail": None,  # filled in with a real task id
}


def token_and_task(env: dict) -> tuple[str, int]:
    django_setup(env)
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from tasks.models import Task

    user = User.objects.get(email="bench0@example.com")
    task_id = Task.objects.order_by("id").values_list("id", flat=True).first()
    token = str(AccessToken.for_user(user))
    connection.close()
    return token, task_id


def wrk(url: str, token: str, seconds: int, connections: int) -> dict:
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", output))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tasks", type=int, default=10_000)
    args = parser.parse_args()

    env = fresh_database("tasklane_bench")
    manage(env, "seed_bulk", "--users", "10", "--projects", "5", "--tasks", str(args.tasks))
    # A database in steady state: statistics and the visibility map (index-only counts).
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "tasklane_bench",
            "-qc",
            "VACUUM ANALYZE",
        ],
        check=True,
    )
    token, task_id = token_and_task(env)
    extra = (
        ["--workers", str(args.workers)] if args.server == "uvicorn" and args.workers > 1 else []
    )
    server, base = start_server(env, *extra, server=args.server)
    try:
        for name, path in QUERIES.items():
            path = path or f"/api/v1/tasks/{task_id}/"
            wrk(base + path, token, 2, args.connections)  # warm-up
            result = wrk(base + path, token, args.seconds, args.connections)
            print(
                json.dumps(
                    {
                        "server": args.server,
                        "workers": args.workers,
                        "query": name,
                        "visible_tasks": args.tasks,
                        **result,
                    }
                )
            )
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
