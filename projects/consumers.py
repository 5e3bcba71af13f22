"""The events socket, `/ws/v1/events/?token=<access token>` (or a personal access token with
the `read` scope, which sees only the projects it is limited to).

One socket per client sees every event of every project its user belongs to, as membership
changes: it joins `user.<id>` and one `project.<id>` group per project; `member.added` for its
user makes it join that project's group, its own `member.removed` (or `project.deleted`) makes
it leave right after forwarding the event, and events of projects it no longer has are
dropped. Clients only ever send `ping`.

Access follows the data however it changes (projects/socket_access.py): a membership created
or deleted outside the services, a deactivated, deleted or re-passworded user reach the
socket as transport messages on its user group, within a second of the commit.

Close codes (docs/realtime.md): 4401 bad or expired token, 4403 user deactivated, 4429 too many
messages or sockets, 1012 the channel layer (Redis) was lost: reconnect after a short delay.
"""

import asyncio
import json
import time
from collections import deque
from urllib.parse import parse_qs

import structlog
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from redis.exceptions import RedisError

from accounts.models import User
from accounts.personal_tokens import within_limit
from accounts.tokens import authenticate_socket_token
from core import realtime
from projects import socket_slots
from projects.selectors import project_ids_for

logger = structlog.get_logger("tasklane.ws")

CLOSE_SERVICE_RESTART = 1012
CLOSE_UNAUTHORIZED = 4401
CLOSE_DEACTIVATED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429
CLOSE_TOO_MANY_MESSAGES = CLOSE_TOO_MANY
RECENT_EVENTS = 256
# What a lost or unreachable Redis raises from the channel layer and the socket slots.
LAYER_ERRORS = (RedisError, OSError)
# Leaving groups on a layer that has just failed is worth one short try, no more.
CLEANUP_TIMEOUT_SECONDS = 1


class EventsConsumer(AsyncWebsocketConsumer):
    user = None
    project_ids: set[int]
    accepted = False
    closing = False
    holds_slot = False
    close_code: int | None = None  # sent by the server
    disconnect_code: int | None = None  # reported by the ASGI server when the socket ended
    close_logged = False

    async def __call__(self, scope, receive, send):
        """Close with 1012 when the channel layer fails (Redis stopped, restarted or out of
        reach) instead of dying with 1011 and a traceback: the client reconnects after a
        short delay and re-reads state, as after any reconnect. Sockets opened while Redis is
        down get the same answer once accepted."""
        self.background: list[asyncio.Task] = []
        self.opened_at = time.monotonic()
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS as error:
            logger.warning("Closing a socket with 1012 after a channel layer error: %r", error)
            await self._abandon(send)
        finally:
            self._log_closed()  # if it ended without a disconnect (1012, a bug)

    async def connect(self):
        # Accept first: closing before accept() turns into an HTTP 403 and loses the 4401.
        await self.accept()
        self.project_ids = set()
        self.groups_joined: set[str] = set()
        self.seen_ids: deque[str] = deque(maxlen=RECENT_EVENTS)
        self.message_times: deque[float] = deque()
        self.token = self._token_from_query()
        authenticated = (
            await database_sync_to_async(authenticate_socket_token)(self.token)
            if self.token
            else None
        )
        if authenticated is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        user, self.expires_at = authenticated
        if not await socket_slots.claim(user_id=user.pk, socket_id=self.channel_name):
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.user, self.holds_slot = user, True
        await self._join(realtime.user_group(self.user.pk))
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
        logger.info(
            "websocket_connected",
            path=self.scope["path"],
            user_id=self.user.pk,
            projects=len(self.project_ids),
        )
        self.background.append(asyncio.create_task(self._close_on_expiry()))
        if settings.REDIS_URL:  # slots in memory need no lease
            self.background.append(asyncio.create_task(self._renew_slot()))

    async def disconnect(self, code):
        self.closing = True  # the client is gone: nothing more may be sent
        self.disconnect_code = code
        self._log_closed()
        self._stop_background()
        for group in list(getattr(self, "groups_joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = set()
        await self._release_slot()

    async def accept(self, subprotocol=None, headers=None):
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def close(self, code=None, reason=None):
        self.closing = True
        if self.close_code is None:
            self.close_code = 1000 if code is None or code is True else code
        await super().close(code, reason)

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
        except RecursionError:  # "[[[[..." nested deeper than the parser's recursion limit
            await self._error("Messages must not be nested this deeply.")
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

    async def dispatch(self, message):
        """An event to forward goes straight to `event_forward`, which never touches the
        database. Channels' own dispatch first closes stale database connections through a
        hop to its one sync thread, for every message of every socket: with 500 sockets in a
        process that is 500 hops, one after the other, for each event. Every handler that uses
        the database does so through `database_sync_to_async`, which closes stale connections
        itself, so other messages keep channels' dispatch only to stay as they were."""
        if message["type"] == realtime.FORWARD:
            await self.event_forward(message)
        else:
            await super().dispatch(message)

    async def event_forward(self, message):
        if self.user is None or message["event_id"] in self.seen_ids:
            return
        self.seen_ids.append(message["event_id"])
        route = message["route"]
        project_id = route["project_id"]
        mine = route["user_id"] == self.user.pk
        if route["type"] == "member.added" and mine:
            await self._join_project(project_id)
        if project_id not in self.project_ids:
            return  # a project this socket has left (or never had)
        await self.send(text_data=message["text"])  # encoded once for every socket
        if (route["type"] == "member.removed" and mine) or route["type"] == "project.deleted":
            await self._leave_project(project_id)

    async def auth_revoked(self, message):
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def auth_recheck(self, message):
        """The user was saved outside the token's knowledge (deactivated, new password):
        check the token again as a new socket would."""
        if self.user is None:
            return
        code = await database_sync_to_async(self._close_code_for_current_user)()
        if code is not None:
            await self.close(code=code)

    async def membership_revoked(self, message):
        if self.user is not None and message["project_id"] in self.project_ids:
            await self._leave_project(message["project_id"])

    async def membership_granted(self, message):
        if self.user is not None:
            await self._join_project(message["project_id"])

    async def membership_changed(self, message):
        """A membership row was edited in place: follow what the database says now."""
        if self.user is None:
            return
        current = set(await database_sync_to_async(project_ids_for)(self.user))
        for project_id in self.project_ids - current:
            await self._leave_project(project_id)
        for project_id in current - self.project_ids:
            await self._join_project(project_id)

    # --- helpers ------------------------------------------------------------------------

    def _token_from_query(self) -> str | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get("token") or [None]
        return values[0]

    def _close_code_for_current_user(self) -> int | None:
        if authenticate_socket_token(self.token) is not None:
            return None
        if User.objects.filter(pk=self.user.pk, is_active=False).exists():
            return CLOSE_DEACTIVATED
        return CLOSE_UNAUTHORIZED

    async def _close_on_expiry(self):
        """Close with 4401 when the access token expires (checked against the wall clock)."""
        while True:
            remaining = self.expires_at - time.time()
            if remaining <= 0:
                await self.close(code=CLOSE_UNAUTHORIZED)
                return
            await asyncio.sleep(min(remaining, settings.WS_TOKEN_CHECK_SECONDS))

    async def _renew_slot(self):
        """Keep this socket's slot leased (socket_slots): a failed renewal is left to the
        channel layer, which fails too and closes the socket with 1012."""
        while True:
            await asyncio.sleep(socket_slots.RENEW_SECONDS)
            try:
                await socket_slots.claim(user_id=self.user.pk, socket_id=self.channel_name)
            except LAYER_ERRORS as error:
                logger.warning("Could not renew a socket slot: %r", error)

    async def _release_slot(self):
        if self.holds_slot:
            self.holds_slot = False
            await socket_slots.release(user_id=self.user.pk, socket_id=self.channel_name)

    def _log_closed(self):
        """One line per socket, as soon as it has ended (the consumer itself may take longer to
        stop). Its path has no query string, so no token."""
        if self.close_logged:
            return
        self.close_logged = True
        logger.info(
            "websocket_closed",
            path=self.scope["path"],
            user_id=self.user.pk if self.user else None,
            code=self.close_code if self.close_code is not None else self.disconnect_code,
            closed_by="server" if self.close_code is not None else "client",
            duration_ms=round((time.monotonic() - self.opened_at) * 1000, 2),
        )

    def _stop_background(self):
        for task in self.background:
            task.cancel()
        self.background = []

    async def _abandon(self, send):
        """After a channel layer failure: close with 1012 if the socket is still open, and
        clean up what can be cleaned up quickly (a lease and group entries left behind
        expire by themselves)."""
        self._stop_background()
        if not self.closing:
            self.closing = True
            self.close_code = CLOSE_SERVICE_RESTART
            try:
                if not self.accepted:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_SERVICE_RESTART})
            except (OSError, RuntimeError):  # the client is already gone
                pass
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT_SECONDS):
                await self._release_slot()
                for group in list(getattr(self, "groups_joined", ())):
                    await self.channel_layer.group_discard(group, self.channel_name)
        except (*LAYER_ERRORS, TimeoutError):
            pass

    async def _join(self, group: str):
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _join_project(self, project_id: int):
        if not within_limit(self.user, project_id):
            return  # a personal access token limited to other projects
        self.project_ids.add(project_id)
        await self._join(realtime.project_group(project_id))

    async def _leave_project(self, project_id: int):
        self.project_ids.discard(project_id)
        group = realtime.project_group(project_id)
        self.groups_joined.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    async def _send_json(self, payload: dict):
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))

    async def _error(self, detail: str):
        await self._send_json({"type": "error", "detail": detail})


async def unknown_path(scope, receive, send):
    """Any other WebSocket path: accepted, then closed with 4404 (a refused handshake would
    reach the client as a bare HTTP 403 that says nothing)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_NOT_FOUND})
