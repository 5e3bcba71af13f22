"""Sockets and API calls for the real-time tests, all driven from one event loop.

Each async test body runs through `async_to_sync`, so every `database_sync_to_async` call
(the consumer's and the test's own API calls) runs back in the test's thread, on its database
connection. An API write then commits for real (`transaction=True` tests) and its on-commit
events reach the in-memory channel layer before the call returns.
"""

import asyncio
import functools
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from accounts.models import User
from config.asgi import application
from projects.render import MEMBER_FIELDS, PROJECT_FIELDS
from tasks.render import TASK_FIELDS
from tests.support.auth import login

EVENTS_PATH = "/ws/v1/events/"
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY_MESSAGES = 4429

EVENT_KEYS = {"type", "project_id", "actor_id", "occurred_at", "data"}
# Events carry the REST representations without what depends on the caller (docs/realtime.md):
# a task's `is_overdue`, a project's `role`.
TASK_DATA_KEYS = set(TASK_FIELDS) - {"is_overdue"}
PROJECT_DATA_KEYS = set(PROJECT_FIELDS) - {"role"}
MEMBER_DATA_KEYS = set(MEMBER_FIELDS)

# Long enough for a consumer to forward anything already queued for it; every event a write
# causes is in the channel layer before the write's API call returns.
QUIET_SECONDS = 0.2


# What the `open_socket` fixture gives; `run_async` puts the test's own socket opener in its
# place (sockets live on the test's event loop, which starts and ends with the test body).
OPEN_SOCKET = object()


def run_async(test):
    """Run an `async def` test body on its own event loop (see the module docstring). A test
    that asks for the `open_socket` fixture gets `sockets()`'s opener, entered on that loop:
    every socket it opened is disconnected when the body ends."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        async def body():
            if kwargs.get("open_socket") is not OPEN_SOCKET:
                return await test(*args, **kwargs)
            async with sockets() as open_socket:
                return await test(*args, **{**kwargs, "open_socket": open_socket})

        return async_to_sync(body)()

    return wrapper


async def call(method, *args, **kwargs):
    """An API client call (or any database work) from async test code."""
    return await database_sync_to_async(method)(*args, **kwargs)


def events_path(token: str | None) -> str:
    return EVENTS_PATH if token is None else f"{EVENTS_PATH}?token={token}"


def rest_task(response) -> dict:
    """The task as a real-time event carries it: the REST body without `is_overdue`."""
    return {key: value for key, value in response.json().items() if key != "is_overdue"}


class WebsocketCommunicator(ApplicationCommunicator):
    """A WebSocket client for an ASGI app in this process. (`channels.testing` would do, but
    importing it requires daphne, which this project does not use.)"""

    def __init__(self, app, path: str, headers=None):
        path, _, query = path.partition("?")
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": query.encode(),
            "headers": headers or [],
            "subprotocols": [],
        }
        super().__init__(app, scope)

    async def connect(self, timeout: float = 2) -> tuple[bool, int | None]:
        """(True, None) once accepted; (False, close code) if the handshake is refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, None

    async def receive_json_from(self, timeout: float = 2):
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send" and "text" in message, message
        return json.loads(message["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 2) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


class Socket:
    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.ready: dict | None = None

    async def receive(self, timeout: float = 2) -> dict:
        return await self.communicator.receive_json_from(timeout)

    async def receive_event(self, event_type: str, timeout: float = 2) -> dict:
        """The next message, which must be an event of this type with the contract's keys."""
        event = await self.receive(timeout)
        assert event["type"] == event_type, event
        assert set(event) == EVENT_KEYS, event
        assert event["occurred_at"].endswith("Z"), event
        return event

    async def send_text(self, text: str) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "bytes": data})

    async def send_json(self, message) -> None:
        await self.send_text(json.dumps(message))

    async def assert_silent(self, timeout: float = QUIET_SECONDS) -> None:
        if not await self.communicator.receive_nothing(timeout=timeout):
            pytest.fail(f"unexpected message: {await self.communicator.receive_output()}")

    async def assert_closed(self, code: int, timeout: float = 2) -> None:
        message = await self.communicator.receive_output(timeout)
        assert message == {"type": "websocket.close", "code": code}, message


async def assert_all_silent(*sockets: Socket, timeout: float = QUIET_SECONDS) -> None:
    """None of these sockets receives anything (waiting for them all at once)."""
    await asyncio.gather(*(socket.assert_silent(timeout) for socket in sockets))


@asynccontextmanager
async def sockets():
    """Open sockets with `await open_socket(token)`; every one is disconnected at the end."""
    communicators: list[WebsocketCommunicator] = []

    async def open_raw(token: str | None = None, *, headers=None) -> tuple[bool, Socket]:
        communicator = WebsocketCommunicator(application, events_path(token), headers=headers)
        communicators.append(communicator)
        connected, _ = await communicator.connect()
        return connected, Socket(communicator)

    async def open_socket(token: str, *, headers=None) -> Socket:
        """An authenticated socket whose `connection.ready` has been received."""
        connected, socket = await open_raw(token, headers=headers)
        assert connected
        socket.ready = await socket.receive()
        assert socket.ready["type"] == "connection.ready", socket.ready
        return socket

    open_socket.raw = open_raw
    try:
        yield open_socket
    finally:
        for communicator in communicators:
            if not communicator.future.done():
                await communicator.disconnect()


@dataclass
class Person:
    """A user with a logged-in API client and the access token their sockets use."""

    user: User
    client: APIClient
    access: str

    @property
    def id(self) -> int:
        return self.user.pk


def person(user: User) -> Person:
    client = APIClient()
    access = login(client, user)["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return Person(user=user, client=client, access=access)
