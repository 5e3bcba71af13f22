"""Bench only: when each `task.created` event's transaction committed, and when its event was
handed to the channel layer, for `ws_fanout.py`.

The server's PostgreSQL connections note the clock right after each COMMIT returns, and a
sink of core.events.publish (`record`, added to EVENT_SINKS by fanout_settings.py) writes
`commit <task id> <time>` to the file BENCH_COMMIT_LOG once that transaction has committed;
`published <task id> <time>` follows when core/realtime.py's `_send_logged` has returned (the
event is in Redis; the request handed it over before that). The clock is CLOCK_MONOTONIC
(`time.monotonic()`), which every process on one Linux machine shares, so the harness
compares it with its own receipt times.

BENCH_CHANNELS_DISPATCH=1 puts back channels' own `dispatch` on the events consumer (a hop to
the sync thread before every message), to measure the consumer's forward path against it.
"""

import json
import os
import time

from django.apps import AppConfig
from django.db import connection, transaction


def _note_commit_time() -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper

    commit = DatabaseWrapper._commit

    def _commit(self):
        commit(self)
        self.bench_committed_at = time.monotonic()

    DatabaseWrapper._commit = _commit


def _write(what: str, task_id: int, at: float) -> None:
    descriptor = os.open(os.environ["BENCH_COMMIT_LOG"], os.O_WRONLY | os.O_APPEND)
    try:
        os.write(descriptor, f"{what} {task_id} {at:.6f}\n".encode())  # one short append
    finally:
        os.close(descriptor)


def record(events) -> None:
    for event in events:
        if event.type == "task.created":
            task_id = json.loads(event.text)["data"]["id"]
            transaction.on_commit(
                lambda task_id=task_id: _write("commit", task_id, connection.bench_committed_at)
            )


def _note_publish_time(realtime) -> None:
    send_logged = realtime._send_logged

    async def _send_logged(messages):
        await send_logged(messages)
        published = time.monotonic()
        for _group, message in messages:
            if message.get("route", {}).get("type") == "task.created":
                _write("published", json.loads(message["text"])["data"]["id"], published)

    realtime._send_logged = _send_logged


class FanoutProbeConfig(AppConfig):
    name = "bench.fanout_probe"
    label = "fanout_probe"

    def ready(self):
        from core import realtime

        _note_commit_time()
        _note_publish_time(realtime)
        if os.environ.get("BENCH_CHANNELS_DISPATCH") == "1":
            from channels.consumer import AsyncConsumer

            from projects.consumers import EventsConsumer

            EventsConsumer.dispatch = AsyncConsumer.dispatch
