"""`publish`: the one way a write's side effects happen.

A service that changes data describes the change as events (`event(...)`, built by the app's
`events.py`) and the notifications it makes for other users (`Notice`), and calls
`publish(*events_and_notices)` inside its transaction. `publish` hands the events, all at
once, to every sink that `settings.EVENT_SINKS` lists, in that order, and the notices to every
sink of `settings.NOTICE_SINKS`; each sink is a function `sink(items: list) -> None` called
inside the transaction. What a sink stores commits
or rolls back with the change; what it sends leaves after the commit. The list in
config/settings.py is the one place that names every side effect of a write, and the signals
that remain as safety nets for changes made outside the services.

An event is rendered once, here, to the JSON text that every socket and webhook receives as
it is, however many receivers there are.
"""

import json
import uuid
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.realtime import project_group
from core.render import utc_timestamp


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    project_id: int
    # The socket groups it goes to, in order: the project's, and single users'.
    groups: tuple[str, ...]
    # The member it concerns (`data.user.id`), for a socket deciding what to do with it.
    user_id: int | None
    text: str  # the JSON frame: {type, project_id, actor_id, occurred_at, data}

    @property
    def to_project(self) -> bool:
        """Whether the project's members receive it (`task.assigned` goes to one user)."""
        return project_group(self.project_id) in self.groups


@dataclass(frozen=True)
class Notice:
    """A notification a write makes for `user_ids` (the notifications app stores one per
    user, after the commit, never for the actor, at most one per user per `publish`: the
    first notice naming them wins, so a write lists the verb that matters most first)."""

    verb: str
    user_ids: tuple[int, ...]
    actor_id: int
    project_id: int
    task_id: int | None = None
    comment_id: int | None = None


def event(
    event_type: str,
    *,
    project_id: int,
    actor_id: int | None,
    data: dict,
    groups: tuple[str, ...] | None = None,
) -> Event:
    """An event to the project's sockets, or to `groups` when given."""
    user = data.get("user")
    body = {
        "type": event_type,
        "project_id": project_id,
        "actor_id": actor_id,
        "occurred_at": utc_timestamp(timezone.now()),
        "data": data,
    }
    return Event(
        id=uuid.uuid4().hex,
        type=event_type,
        project_id=project_id,
        groups=groups if groups is not None else (project_group(project_id),),
        user_id=user.get("id") if isinstance(user, dict) else None,
        text=json.dumps(body, separators=(",", ":")),
    )


@cache
def _sinks(paths: tuple[str, ...]) -> list:
    return [import_string(path) for path in paths]


def publish(*items: Event | Notice) -> None:
    """Hand one write's events to every sink in settings.EVENT_SINKS, and its notices to every
    sink in settings.NOTICE_SINKS, inside the write's transaction (a sink's stored rows must
    commit or roll back with the change)."""
    if not items:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() belongs inside the write's transaction")
    events = [item for item in items if isinstance(item, Event)]
    notices = [item for item in items if isinstance(item, Notice)]
    for names, handed in ((settings.EVENT_SINKS, events), (settings.NOTICE_SINKS, notices)):
        if handed:
            for sink in _sinks(tuple(names)):
                sink(handed)
