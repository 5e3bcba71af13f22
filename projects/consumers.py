"""The events socket, `/ws/v1/events/?token=<access token>`.

One socket per client sees every event of every project its user belongs to, as membership
changes: it joins `user.<id>` and one `project.<id>` group per project; `member.added` for its
user makes it join that project's group, its own `member.removed` (or `project.deleted`) makes
it leave right after forwarding the event, and events of projects it no longer has are
dropped. Clients only ever send `ping`.
"""

import asyncio
import json
import logging
import time
from collections import deque
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.tokens import authenticate_access_token
from projects import events
from projects.selectors import project_ids_for

logger = logging.getLogger("tasklane.ws")

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY_MESSAGES = 4429
RECENT_EVENTS = 256


class EventsConsumer(AsyncWebsocketConsumer):
    user = None
    project_ids: set[int]

    async def connect(self):
        # Accept first: closing before accept() turns into an HTTP 403 and loses the 4401.
        await self.accept()
        self.project_ids = set()
        self.groups_joined: set[str] = set()
        self.seen_ids: deque[str] = deque(maxlen=RECENT_EVENTS)
        self.message_times: deque[float] = deque()
        raw = self._token_from_query()
        authenticated = (
            await database_sync_to_async(authenticate_access_token)(raw) if raw else None
        )
        if authenticated is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user, self.expires_at = authenticated
        await self._join(events.user_group(self.user.pk))
        project_ids = await database_sync_to_async(project_ids_for)(self.user)
        for project_id in project_ids:
            await self._join_project(project_id)
        await self._send_json(
            {
                "type": "connection.ready",
                "user_id": self.user.pk,
                "project_ids": sorted(self.project_ids),
            }
        )
        self.expiry_task = asyncio.create_task(self._close_on_expiry())

    async def disconnect(self, code):
        task = getattr(self, "expiry_task", None)
        if task is not None:
            task.cancel()
        for group in list(getattr(self, "groups_joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- client messages ----------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.user is None:
            return
        if self._too_many_messages():
            await self.close(code=CLOSE_TOO_MANY_MESSAGES)
            return
        if text_data is None or len(text_data.encode()) > settings.WS_MAX_MESSAGE_BYTES:
            await self._error(
                f"Send JSON text messages of at most {settings.WS_MAX_MESSAGE_BYTES} bytes."
            )
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self._error("Messages must be JSON.")
            return
        if isinstance(message, dict) and message.get("type") == "ping":
            await self._send_json({"type": "pong"})
        else:
            # Never dispatched: a client cannot invoke a handler or reach other sockets.
            await self._error('The only message a client may send is {"type": "ping"}.')

    def _too_many_messages(self) -> bool:
        now = time.monotonic()
        window = settings.WS_RATE_WINDOW_SECONDS
        while self.message_times and now - self.message_times[0] > window:
            self.message_times.popleft()
        self.message_times.append(now)
        return len(self.message_times) > settings.WS_RATE_MAX_MESSAGES

    # --- channel layer messages (group_send) --------------------------------------------

    async def event_forward(self, message):
        if self.user is None or message["event_id"] in self.seen_ids:
            return
        self.seen_ids.append(message["event_id"])
        event = message["event"]
        project_id = event["project_id"]
        mine = event.get("data", {}).get("user", {}).get("id") == self.user.pk
        if event["type"] == "member.added" and mine:
            await self._join_project(project_id)
        if project_id not in self.project_ids:
            return  # a project this socket has left (or never had)
        await self._send_json(event)
        if (event["type"] == "member.removed" and mine) or event["type"] == "project.deleted":
            await self._leave_project(project_id)

    async def auth_revoked(self, message):
        await self.close(code=CLOSE_UNAUTHORIZED)

    # --- helpers ------------------------------------------------------------------------

    def _token_from_query(self) -> str | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get("token") or [None]
        return values[0]

    async def _close_on_expiry(self):
        """Close with 4401 when the access token expires (checked against the wall clock)."""
        try:
            while True:
                remaining = self.expires_at - time.time()
                if remaining <= 0:
                    await self.close(code=CLOSE_UNAUTHORIZED)
                    return
                await asyncio.sleep(min(remaining, settings.WS_TOKEN_CHECK_SECONDS))
        except asyncio.CancelledError:
            pass

    async def _join(self, group: str):
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _join_project(self, project_id: int):
        self.project_ids.add(project_id)
        await self._join(events.project_group(project_id))

    async def _leave_project(self, project_id: int):
        self.project_ids.discard(project_id)
        group = events.project_group(project_id)
        self.groups_joined.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    async def _send_json(self, payload: dict):
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))

    async def _error(self, detail: str):
        await self._send_json({"type": "error", "detail": detail})
