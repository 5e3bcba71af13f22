"""The real-time transport: the events a write published (core/events.py), sent to the
channel layer after commit.

Each event goes, as the one text it was rendered to, to groups: `project.<id>` (every
member's sockets) and `user.<id>` (one user's sockets: their own membership changes, tasks
assigned to them, and revocation). A socket that is in two groups receiving one event sees
it once (`event_id`).

Sending happens in `transaction.on_commit`, so a rolled-back write sends nothing, and a
channel layer that is down is logged and never fails the HTTP request. In the server, events
are handed to the server's own event loop (`serving_loop`), where the channel layer's Redis
connections already are, and the request does not wait for them: one sender there sends them
in commit order, and drops (with a log line) what cannot be sent within SEND_TIMEOUT or does
not fit its queue. Elsewhere (Celery, commands, tests) they are sent from a short-lived loop
before the write returns, within SEND_TIMEOUT.
"""

import asyncio
import logging
import threading
import weakref

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core.breaker import RedisUnavailable

logger = logging.getLogger("tasklane.events")

FORWARD = "event.forward"
REVOKE = "auth.revoked"
# Transport-level messages to a user's sockets (projects/socket_access.py); never forwarded.
RECHECK = "auth.recheck"
MEMBERSHIP_GRANTED = "membership.granted"
MEMBERSHIP_REVOKED = "membership.revoked"
MEMBERSHIP_CHANGED = "membership.changed"


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


SEND_TIMEOUT = 5  # seconds one write's events may take to reach the channel layer
# Writes whose events wait for the channel layer, per server process; beyond, they are dropped.
QUEUE_SIZE = 1000

_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: int | None = None
# On the serving loop, with its one sender: {loop: queue}.
_queues: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue]" = (
    weakref.WeakKeyDictionary()
)


def serving_loop(app):
    """The ASGI app `app`, noting the event loop it is served on (config/asgi.py).

    Views run in worker threads (a2wsgi). From there asgiref's `async_to_sync` would start a
    new event loop in a new thread for every event, and channels-redis new connections for
    that loop, every time (bench/README.md, fan-out).
    Handing the sends to the server's loop instead reuses its connections, and keeps the
    in-memory layer's queues on the loop their consumers wait on.
    """

    async def noted(scope, receive, send):
        global _loop, _loop_thread
        _loop, _loop_thread = asyncio.get_running_loop(), threading.get_ident()
        await app(scope, receive, send)

    return noted


def _names(messages: list[tuple[str, dict]]) -> list[str]:
    return [message.get("route", message)["type"] for _, message in messages]


async def _send_logged(messages: list[tuple[str, dict]]) -> None:
    """Send one write's events in order; a failure is logged, never raised (the write has
    committed: a broker outage must not turn it into a 500)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async with asyncio.timeout(SEND_TIMEOUT):  # not sent late, after the log said not
            for group, message in messages:
                await layer.group_send(group, message)
    except RedisUnavailable as error:  # the breaker has logged why: one line per write
        logger.error("Could not publish %s to the channel layer: %s", _names(messages), error)
    except Exception:
        logger.exception("Could not publish %s to the channel layer", _names(messages))


async def _sender(queue: asyncio.Queue) -> None:
    while True:
        messages = await queue.get()
        try:
            await _send_logged(messages)
        finally:
            queue.task_done()


def _hand_over(messages: list[tuple[str, dict]]) -> None:
    """On the serving loop: queue the write's events for its one sender (started on first
    use), which sends them in the order the writes committed."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = asyncio.Queue(QUEUE_SIZE)
        queue.sender = loop.create_task(_sender(queue))  # kept: a task only weakly held dies
    try:
        queue.put_nowait(messages)
    except asyncio.QueueFull:
        logger.error(
            "Could not publish %s: %d writes are already waiting for the channel layer",
            _names(messages),
            QUEUE_SIZE,
        )


def _send_now(messages: list[tuple[str, dict]]) -> None:
    """Send a committed write's events. In the server, they are handed to the serving loop
    and the request thread goes on at once: a channel layer that is slow or down never holds
    a request (delivery over sockets is at most once). Elsewhere (Celery, commands, tests)
    they are sent before this returns, within SEND_TIMEOUT."""
    loop = _loop
    if loop is not None and loop.is_running():
        try:
            loop.call_soon_threadsafe(_hand_over, messages)
            return
        except RuntimeError:  # the loop closed meanwhile: send from here
            pass
    async_to_sync(_send_logged)(messages)


def flush(timeout: float) -> bool:
    """Wait until every event handed to the serving loop so far has been sent (or dropped);
    False if that took longer than `timeout`."""
    loop = _loop
    if loop is None or not loop.is_running() or threading.get_ident() == _loop_thread:
        return True

    async def drained():
        queue = _queues.get(asyncio.get_running_loop())
        if queue is not None:
            await queue.join()

    try:
        asyncio.run_coroutine_threadsafe(drained(), loop).result(timeout)
    except TimeoutError:
        return False
    return True


def _on_commit(messages: list[tuple[str, dict]]) -> None:
    transaction.on_commit(lambda: _send_now(messages))


def send(events) -> None:
    """The sink of core.events.publish for sockets: each event to its groups once the
    transaction commits, as the one JSON text it was rendered to. `route` carries what a
    socket needs to decide (the event's type and project, and the member it concerns)."""
    _on_commit(
        [
            (
                group,
                {
                    "type": FORWARD,
                    "event_id": event.id,
                    "route": {
                        "type": event.type,
                        "project_id": event.project_id,
                        "user_id": event.user_id,
                    },
                    "text": event.text,
                },
            )
            for event in events
            for group in event.groups
        ]
    )


def revoke_sockets(*, user_id: int) -> None:
    """Close every open socket of the user with 4401 (their password changed, or the user
    was deleted)."""
    _on_commit([(user_group(user_id), {"type": REVOKE})])


def recheck_sockets(*, user_id: int) -> None:
    """Each open socket of the user checks its token again: 4403 if the user is now
    inactive, 4401 if the token no longer holds (a new password)."""
    _on_commit([(user_group(user_id), {"type": RECHECK})])


def membership_sockets(*, user_id: int, project_id: int, change: str) -> None:
    """The user's sockets join (`MEMBERSHIP_GRANTED`) or leave (`MEMBERSHIP_REVOKED`) the
    project's group, or re-read their memberships (`MEMBERSHIP_CHANGED`)."""
    _on_commit([(user_group(user_id), {"type": change, "project_id": project_id})])
