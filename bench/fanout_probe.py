"""Bench only: when each `task.created` (or `comment.created`) event's transaction committed,
and when its event was handed to the channel layer, for `ws_fanout.py`.

The server's PostgreSQL connections note the clock right after each COMMIT returns, and a
sink of core.events.publish (`record`, added to EVENT_SINKS by fanout_settings.py) writes
`commit <event type> <id> <time>` (the task's or the comment's id) to the file
BENCH_COMMIT_LOG once that transaction has committed; `published <event type> <id> <time>`
follows when core/realtime.py's `_send_logged` has returned (the
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


TIMED = ("task.created", "comment.created")


def _write(what: str, event_type: str, object_id: int, at: float) -> None:
    descriptor = os.open(os.environ["BENCH_COMMIT_LOG"], os.O_WRONLY | os.O_APPEND)
    try:
        line = f"{what} {event_type} {object_id} {at:.6f}\n"
        os.write(descriptor, line.encode())  # one short append
    finally:
        os.close(descriptor)


def record(events) -> None:
    for event in events:
        if event.type in TIMED:
            object_id = json.loads(event.text)["data"]["id"]
            transaction.on_commit(
                lambda event=event, object_id=object_id: _write(
                    "commit", event.type, object_id, connection.bench_committed_at
                )
            )


def _note_publish_time(realtime) -> None:
    send_logged = realtime._send_logged

    async def _send_logged(messages):
        await send_logged(messages)
        published = time.monotonic()
        for _group, message in messages:
            event_type = message.get("route", {}).get("type")
            if event_type in TIMED:
                object_id = json.loads(message["text"])["data"]["id"]
                _write("published", event_type, object_id, published)

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
