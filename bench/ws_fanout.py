"""Fan-out latency and memory per socket, on one or more server processes with Redis.

N users share one project and each holds an open events socket; the owner creates tasks over
HTTP (or, with `--event comment`, comments on one task, each mentioning another member), and
every socket's receipt of each `task.created` (`comment.created`) is timed from the write's
commit (the
time the server's COMMIT returned, written by `fanout_probe.py`; the server runs with
`fanout_settings.py`), and against the HTTP request and response (the write commits, and its
event is published, between the two). Times are CLOCK_MONOTONIC, shared by the processes of
one machine; a receipt is timed when the harness's own event loop reads the frame, so its
share of the two cores is part of every figure.

    .venv/bin/python bench/ws_fanout.py --sockets 100 1000 --writes 20 [--processes 2]
        [--layer core|channels-redis|pubsub] [--ws websockets-sansio] [--deflate on|off]
        [--dispatch product|channels] [--event task|comment] [--database tasklane_bench]

--processes: uvicorn worker processes (WEB_CONCURRENCY); the kernel spreads the sockets.
--layer: the product's channel layer (core), channels-redis's RedisChannelLayer as it ships
(channels-redis) or its pub/sub layer (pubsub, bench/pubsub_settings.py); fanout_settings.py.
--ws: uvicorn's WebSocket implementation (websockets, websockets-sansio, wsproto if installed).
--dispatch channels: the consumer with channels' own dispatch, for comparison (fanout_probe.py).
--deflate: whether the server accepts permessage-deflate (uvicorn --ws-per-message-deflate;
off as in the Procfile); the harness's client, like a browser, asks for it.
Needs PostgreSQL and Redis (BENCH_PG, REDIS_URL); it drops and recreates the database.
"""

import argparse
import asyncio
import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets
from common import (
    django_setup,
    fresh_database,
    percentile,
    rss_kib,
    seed,
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


def member_ids(base: str, token: str, project_id: int) -> list[int]:
    """The project's members (the first page), for the comments' mentions."""
    request = urllib.request.Request(
        f"{base}/api/v1/projects/{project_id}/members/?page_size=100",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        members = json.loads(response.read())["results"]
    return [member["user"]["id"] for member in members]


def server_workers(pid: int) -> list[int]:
    """The server's processes that serve: itself, or its workers when it supervises several."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = [int(child) for child in children if "resource_tracker" not in cmdline(child)]
    return workers or [pid]


def server_rss_kib(pid: int) -> int:
    return sum(rss_kib(worker) for worker in server_workers(pid))


def cpu_seconds(pid: int | str = "self") -> float:
    """User and system CPU time a process has used (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cmdline(pid: str) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def prepare(sockets: int, database: str) -> tuple[dict, list[str], int]:
    """A fresh database with `sockets` users in one project, and an access token for each."""
    env = fresh_database(database)
    seed(
        env,
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


def probe_times(path: str, event_type: str) -> dict[tuple[str, int], float]:
    """When each created task (comment) committed and when its event was published
    (`fanout_probe.py`), by ("commit" or "published", its id)."""
    times = {}
    for line in Path(path).read_text().splitlines():
        what, logged_type, object_id, at = line.split()
        if logged_type == event_type:
            times[what, int(object_id)] = float(at)
    return times


async def run(
    env: dict,
    tokens: list[str],
    project_id: int,
    writes: int,
    server_args: list[str],
    kind: str = "task",
) -> dict:
    sockets = len(tokens)
    server, base = start_server(env, *server_args)
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
        timed = f"{kind}.created"

        async def listen(ws):
            async for message in ws:
                event = json.loads(message)
                if event["type"] == timed:
                    received.setdefault(event["data"]["id"], []).append(time.monotonic())

        listeners = [asyncio.create_task(listen(ws)) for ws in connections]
        if kind == "comment":  # the comments go on one task, each mentioning another member
            task = await asyncio.to_thread(
                post_json,
                f"{base}/api/v1/tasks/",
                tokens[0],
                {"title": "fan-out thread", "project_id": project_id},
            )
            mentioned = await asyncio.to_thread(member_ids, base, tokens[0], project_id)
        workers = server_workers(server.pid)
        server_cpu = sum(cpu_seconds(worker) for worker in workers)
        harness_cpu = cpu_seconds()
        from_response, from_request, from_commit = [], [], []
        commit_to_publish, commit_to_response, last_from_commit = [], [], []
        for i in range(writes):
            sent = time.monotonic()
            if kind == "comment":
                created = await asyncio.to_thread(
                    post_json,
                    f"{base}/api/v1/tasks/{task['id']}/comments/",
                    tokens[0],
                    {"body": f"fan-out {i}", "mention_ids": [mentioned[i % len(mentioned)]]},
                )
            else:
                created = await asyncio.to_thread(
                    post_json,
                    f"{base}/api/v1/tasks/",
                    tokens[0],
                    {"title": f"fan-out {i}", "project_id": project_id},
                )
            answered = time.monotonic()
            deadline = time.monotonic() + 30
            while len(received.get(created["id"], [])) < sockets and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            arrivals = received.get(created["id"], [])
            assert len(arrivals) == sockets, f"{len(arrivals)} of {sockets} sockets got {kind} {i}"
            probed = probe_times(env["BENCH_COMMIT_LOG"], timed)
            committed = probed["commit", created["id"]]
            published = probed["published", created["id"]]
            # The request hands its event to the server's sender and does not wait for it: the
            # event may reach Redis after the response does.
            assert sent < committed < min(published, answered), (sent, committed, published)
            from_commit += [(t - committed) * 1000 for t in arrivals]
            commit_to_publish.append((published - committed) * 1000)
            commit_to_response.append((answered - committed) * 1000)
            last_from_commit.append((max(arrivals) - committed) * 1000)
            from_response += [(t - answered) * 1000 for t in arrivals]
            from_request += [(t - sent) * 1000 for t in arrivals]
        server_cpu = sum(cpu_seconds(worker) for worker in workers) - server_cpu
        harness_cpu = cpu_seconds() - harness_cpu
        for listener in listeners:
            listener.cancel()
        for ws in connections:
            await ws.close()
        return {
            "event": timed,
            "sockets": sockets,
            "processes": int(env.get("WEB_CONCURRENCY") or 1),
            "layer": env["BENCH_CHANNEL_LAYER"],
            "server_args": " ".join(server_args),
            "dispatch": "channels" if env["BENCH_CHANNELS_DISPATCH"] == "1" else "product",
            "writes": writes,
            "p50_ms_after_commit": round(percentile(from_commit, 50), 1),
            "p99_ms_after_commit": round(percentile(from_commit, 99), 1),
            "max_ms_after_commit": round(max(from_commit), 1),
            # Per write: the event in Redis, the response read, the last socket's receipt.
            "median_ms_commit_to_published": round(percentile(commit_to_publish, 50), 1),
            "median_ms_commit_to_response": round(percentile(commit_to_response, 50), 1),
            "median_ms_commit_to_last_socket": round(percentile(last_from_commit, 50), 1),
            "ms_commit_to_last_socket_each_write": [round(ms) for ms in last_from_commit],
            "p50_ms_after_response": round(percentile(from_response, 50), 1),
            "p99_ms_after_response": round(percentile(from_response, 99), 1),
            "p50_ms_after_request": round(percentile(from_request, 50), 1),
            "p99_ms_after_request": round(percentile(from_request, 99), 1),
            "rss_idle_mib": round(idle_rss / 1024, 1),
            "rss_with_sockets_mib": round(open_rss / 1024, 1),
            "kib_per_socket": round((open_rss - idle_rss) / sockets, 1),
            # CPU per write (its request and its event to every socket), which sharing the
            # machine with other work changes far less than it changes the latencies.
            "server_cpu_ms_per_write": round(server_cpu / writes * 1000, 1),
            "harness_cpu_ms_per_write": round(harness_cpu / writes * 1000, 1),
        }
    finally:
        stop_server(server)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--layer", choices=["core", "channels-redis", "pubsub"], default="core")
    parser.add_argument("--ws", default="websockets-sansio")
    parser.add_argument("--deflate", choices=["on", "off"], default="off")
    parser.add_argument(
        "--dispatch",
        choices=["product", "channels"],
        default="product",
        help="channels: the events consumer with channels' own dispatch (fanout_probe.py)",
    )
    parser.add_argument(
        "--event",
        choices=["task", "comment"],
        default="task",
        help="comment: time comment.created (a comment with a mention) instead of task.created",
    )
    parser.add_argument("--database", default="tasklane_bench")
    args = parser.parse_args()
    server_args = ["--ws", args.ws, "--ws-per-message-deflate", str(args.deflate == "on")]
    for sockets in args.sockets:
        env, tokens, project_id = prepare(sockets, args.database)
        with tempfile.NamedTemporaryFile(prefix="ws_fanout_commits_") as commit_log:
            env = {
                **env,
                "WEB_CONCURRENCY": str(args.processes),
                "BENCH_CHANNEL_LAYER": args.layer,
                "DJANGO_SETTINGS_MODULE": "bench.fanout_settings",
                "BENCH_COMMIT_LOG": commit_log.name,
                "BENCH_CHANNELS_DISPATCH": "1" if args.dispatch == "channels" else "0",
            }
            result = asyncio.run(run(env, tokens, project_id, args.writes, server_args, args.event))
            print(json.dumps(result))


if __name__ == "__main__":
    main()
