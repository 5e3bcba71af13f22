"""Fan-out latency and memory per socket, on one or more server processes with Redis.

N users share one project and each holds an open events socket; the owner creates tasks over
HTTP, and every socket's receipt of each `task.created` is timed against the HTTP request and
response (the write commits, and its event is published, between the two).

    .venv/bin/python bench/ws_fanout.py --sockets 100 1000 --writes 20 [--processes 2]
        [--layer core|pubsub] [--database tasklane_bench]

--processes: uvicorn worker processes (WEB_CONCURRENCY); the kernel spreads the sockets.
--layer pubsub: channels-redis's pub/sub layer instead of the product's (bench/pubsub_settings.py).
Needs PostgreSQL and Redis (BENCH_PG, REDIS_URL); it drops and recreates the database.
"""

import argparse
import asyncio
import json
import time
import urllib.request
from pathlib import Path

import websockets
from common import (
    django_setup,
    fresh_database,
    manage,
    percentile,
    rss_kib,
    start_server,
    stop_server,
)


def post_json(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def server_rss_kib(pid: int) -> int:
    """The server's memory: its own, or its workers' when it supervises several."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = [int(child) for child in children if "resource_tracker" not in cmdline(child)]
    return sum(rss_kib(worker) for worker in workers) if workers else rss_kib(pid)


def cmdline(pid: str) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def prepare(sockets: int, database: str) -> tuple[dict, list[str], int]:
    """A fresh database with `sockets` users in one project, and an access token for each."""
    env = fresh_database(database)
    manage(
        env,
        "seed_demo",
        "--tasks=0",
        f"--users={sockets}",
        "--projects=1",
        f"--members={sockets}",
        "--bench-users=none",
    )
    django_setup(env)
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from projects.models import Project

    tokens = [str(AccessToken.for_user(user)) for user in User.objects.order_by("id")]
    project_id = Project.objects.get(is_inbox=False).pk
    connection.close()
    return env, tokens, project_id


async def run(env: dict, tokens: list[str], project_id: int, writes: int) -> dict:
    sockets = len(tokens)
    server, base = start_server(env)
    await asyncio.sleep(2)  # workers up
    ws_base = base.replace("http", "ws") + "/ws/v1/events/?token="
    try:
        await asyncio.sleep(1)
        idle_rss = server_rss_kib(server.pid)
        connections = []
        for start in range(0, sockets, 100):  # open in batches to avoid a handshake storm
            batch = tokens[start : start + 100]
            opened = await asyncio.gather(
                *(websockets.connect(ws_base + token, max_queue=None) for token in batch)
            )
            for ws in opened:
                ready = json.loads(await ws.recv())
                assert ready["type"] == "connection.ready", ready
            connections += opened
        await asyncio.sleep(1)
        open_rss = server_rss_kib(server.pid)

        received: dict[int, list[float]] = {}

        async def listen(ws):
            async for message in ws:
                event = json.loads(message)
                if event["type"] == "task.created":
                    received.setdefault(event["data"]["id"], []).append(time.perf_counter())

        listeners = [asyncio.create_task(listen(ws)) for ws in connections]
        from_response, from_request = [], []
        for i in range(writes):
            sent = time.perf_counter()
            task = await asyncio.to_thread(
                post_json,
                f"{base}/api/v1/tasks/",
                tokens[0],
                {"title": f"fan-out {i}", "project_id": project_id},
            )
            answered = time.perf_counter()
            deadline = time.monotonic() + 30
            while len(received.get(task["id"], [])) < sockets and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            arrivals = received.get(task["id"], [])
            assert len(arrivals) == sockets, f"{len(arrivals)} of {sockets} sockets got task {i}"
            from_response += [(t - answered) * 1000 for t in arrivals]
            from_request += [(t - sent) * 1000 for t in arrivals]
        for listener in listeners:
            listener.cancel()
        for ws in connections:
            await ws.close()
        return {
            "sockets": sockets,
            "processes": int(env.get("WEB_CONCURRENCY") or 1),
            "layer": env["CHANNEL_LAYER_UNDER_TEST"],
            "writes": writes,
            "p50_ms_after_response": round(percentile(from_response, 50), 1),
            "p99_ms_after_response": round(percentile(from_response, 99), 1),
            "p50_ms_after_request": round(percentile(from_request, 50), 1),
            "p99_ms_after_request": round(percentile(from_request, 99), 1),
            "rss_idle_mib": round(idle_rss / 1024, 1),
            "rss_with_sockets_mib": round(open_rss / 1024, 1),
            "kib_per_socket": round((open_rss - idle_rss) / sockets, 1),
        }
    finally:
        stop_server(server)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--layer", choices=["core", "pubsub"], default="core")
    parser.add_argument("--database", default="tasklane_bench")
    args = parser.parse_args()
    for sockets in args.sockets:
        env, tokens, project_id = prepare(sockets, args.database)
        env = {
            **env,
            "WEB_CONCURRENCY": str(args.processes),
            "CHANNEL_LAYER_UNDER_TEST": args.layer,
        }
        if args.layer == "pubsub":
            env["DJANGO_SETTINGS_MODULE"] = "bench.pubsub_settings"
        print(json.dumps(asyncio.run(run(env, tokens, project_id, args.writes))))


if __name__ == "__main__":
    main()
