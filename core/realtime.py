"""The real-time transport: events built by the services, sent to the channel layer after
commit.

Each event is rendered once and sent to groups: `project.<id>` (every member's sockets) and
`user.<id>` (one user's sockets: their own membership changes, tasks assigned to them, and
revocation). A socket that is in two groups receiving one event sees it once (`event_id`).

Sending happens in `transaction.on_commit`, so a rolled-back write sends nothing, and a
channel layer that is down is logged and never fails the HTTP request. In the server, events
are sent from the server's own event loop (`serving_loop`), where the channel layer's Redis
connections already are; elsewhere (Celery, commands, tests) from a short-lived one.

Other transports register an *outbox* (`add_outbox`): it is called inside the write's
transaction with every event, so what it stores commits or rolls back with the change
(webhooks keep their deliveries that way).
"""

import asyncio
import json
import logging
import threading
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from core.render import utc_timestamp

logger = logging.getLogger("tasklane.events")

FORWARD = "event.forward"
REVOKE = "auth.revoked"
# Transport-level messages to a user's sockets (projects/socket_access.py); never forwarded.
RECHECK = "auth.recheck"
MEMBERSHIP_GRANTED = "membership.granted"
MEMBERSHIP_REVOKED = "membership.revoked"
MEMBERSHIP_CHANGED = "membership.changed"


_outboxes: list = []


def add_outbox(record) -> None:
    """`record(event_id=, event_type=, project_id=, text=, to_project=)` is called inside the
    transaction of every write that publishes an event; `to_project` tells an event for the
    project's sockets from one for a single user (`task.assigned`)."""
    if record not in _outboxes:
        _outboxes.append(record)


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def timestamp() -> str:
    return utc_timestamp(timezone.now())


SEND_TIMEOUT = 5  # seconds a write waits for its events to reach the channel layer

_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: int | None = None


def serving_loop(app):
    """The ASGI app `app`, noting the event loop it is served on (config/asgi.py).

    Views run in worker threads (a2wsgi). From there asgiref's `async_to_sync` would start a
    new event loop in a new thread for every event, and channels-redis new connections for
    that loop: about 6 ms per event, far more on a busy server (bench/README.md, fan-out).
    Handing the sends to the server's loop instead reuses its connections, and keeps the
    in-memory layer's queues on the loop their consumers wait on.
    """

    async def noted(scope, receive, send):
        global _loop, _loop_thread
        _loop, _loop_thread = asyncio.get_running_loop(), threading.get_ident()
        await app(scope, receive, send)

    return noted


def _send_now(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all():
        for group, message in messages:
            await layer.group_send(group, message)

    loop = _loop
    try:
        if loop is not None and loop.is_running() and threading.get_ident() != _loop_thread:
            # Waited for, so one write's events keep their order, and errors are logged here.
            future = asyncio.run_coroutine_threadsafe(send_all(), loop)
            try:
                future.result(timeout=SEND_TIMEOUT)
            except TimeoutError:
                future.cancel()  # not sent late, after the log said it was not sent
                raise
        else:
            async_to_sync(send_all)()
    except Exception:  # the write has committed; a broker outage must not turn it into a 500
        logger.exception(
            "Could not publish %s to the channel layer",
            [message.get("route", message)["type"] for _, message in messages],
        )


def _on_commit(messages: list[tuple[str, dict]]) -> None:
    transaction.on_commit(lambda: _send_now(messages))


def broadcast(
    *, event_type: str, project_id: int, actor_id: int | None, data: dict, groups: list[str]
) -> None:
    """Send one event to `groups` once the current transaction commits.

    The event is encoded to its JSON frame once, here: every socket that forwards it sends
    that text as it is, however many sockets there are. `route` carries what a socket needs
    to decide (the event's type and project, and the member it concerns).
    """
    event = {
        "type": event_type,
        "project_id": project_id,
        "actor_id": actor_id,
        "occurred_at": timestamp(),
        "data": data,
    }
    user = data.get("user") if isinstance(data, dict) else None
    event_id = uuid.uuid4().hex
    text = json.dumps(event, separators=(",", ":"))
    message = {
        "type": FORWARD,
        "event_id": event_id,
        "route": {
            "type": event_type,
            "project_id": project_id,
            "user_id": user.get("id") if isinstance(user, dict) else None,
        },
        "text": text,
    }
    for record in _outboxes:
        record(
            event_id=event_id,
            event_type=event_type,
            project_id=project_id,
            text=text,
            to_project=project_group(project_id) in groups,
        )
    _on_commit([(group, message) for group in groups])


def event_of(message: dict) -> dict:
    """The event a forwarded message carries, decoded (for logs and tests)."""
    return json.loads(message["text"])


def to_project(*, event_type: str, project_id: int, actor_id: int | None, data: dict) -> None:
    broadcast(
        event_type=event_type,
        project_id=project_id,
        actor_id=actor_id,
        data=data,
        groups=[project_group(project_id)],
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
