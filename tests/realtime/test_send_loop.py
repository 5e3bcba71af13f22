"""In the server, events are sent from the server's own event loop (core.realtime), not from a
new loop per event: no new thread, loop or Redis connection for each write."""

import asyncio
import logging
import threading
import time

import pytest
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from core import realtime
from tests.factories import UserFactory
from tests.support.connections import connections_received
from tests.support.private_redis import running_private_redis
from tests.support.server import request, require_services, start_server

# The events leave when their write commits.
pytestmark = pytest.mark.django_db(transaction=True)


class RecordingLayer:
    def __init__(self, fail=False, delay=0.0):
        self.sent = []
        self.fail = fail
        self.delay = delay

    async def group_send(self, group, message):
        if self.fail:
            raise ConnectionError("the broker is gone")
        await asyncio.sleep(self.delay)
        self.sent.append((group, message, asyncio.get_running_loop(), threading.get_ident()))


@pytest.fixture
def serving_loop():
    """An event loop running in a thread of its own, noted by `serving_loop` as the server's
    loop would be on its first request."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def app(scope, receive, send):
        pass

    asyncio.run_coroutine_threadsafe(
        realtime.serving_loop(app)({"type": "http"}, None, None), loop
    ).result(timeout=5)
    yield loop, thread
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()  # a closed loop is no longer used: later events go out from their own


def commit(*sends) -> None:
    """One write per send, each committed: its messages leave for the channel layer."""
    for send in sends:
        with transaction.atomic():
            send()


def test_events_from_a_worker_thread_are_sent_on_the_serving_loop(serving_loop, monkeypatch):
    loop, thread = serving_loop
    layer = RecordingLayer()
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: layer)

    commit(
        lambda: realtime.revoke_sockets(user_id=1),
        lambda: realtime.recheck_sockets(user_id=2),
    )
    assert realtime.flush(5)

    assert [(group, message) for group, message, _, _ in layer.sent] == [
        ("user.1", {"type": realtime.REVOKE}),
        ("user.2", {"type": realtime.RECHECK}),
    ]
    assert all(used is loop and ident == thread.ident for _, _, used, ident in layer.sent)


def test_a_failed_send_on_the_serving_loop_is_logged_not_raised(serving_loop, monkeypatch, caplog):
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: RecordingLayer(fail=True))

    with caplog.at_level(logging.ERROR, logger="tasklane.events"):
        commit(lambda: realtime.revoke_sockets(user_id=1))
        assert realtime.flush(5)

    assert "Could not publish" in caplog.text


def test_a_send_that_outlasts_the_timeout_is_logged_and_never_sent_late(
    serving_loop, monkeypatch, caplog
):
    layer = RecordingLayer(delay=0.5)
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(realtime, "SEND_TIMEOUT", 0.1)

    with caplog.at_level(logging.ERROR, logger="tasklane.events"):
        commit(lambda: realtime.revoke_sockets(user_id=1))
    time.sleep(0.7)

    assert "Could not publish" in caplog.text
    assert layer.sent == []


def test_without_a_running_serving_loop_events_still_go_out(monkeypatch):
    """Celery, management commands and tests have no server loop: a loop of their own, and
    the events have left when the commit returns."""
    layer = RecordingLayer()
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: layer)

    commit(lambda: realtime.revoke_sockets(user_id=1))

    assert [(group, message) for group, message, _, _ in layer.sent] == [
        ("user.1", {"type": realtime.REVOKE})
    ]


def test_a_server_publishes_writes_without_new_redis_connections(transactional_db, tmp_path):
    """With a new event loop per event, channels-redis opened a new connection for every
    write's events (bench/README.md, the publishing side)."""
    require_services()
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    # A Redis of its own: the system one counts every worker's connections (parallel runs).
    with running_private_redis(tmp_path) as private:
        server = start_server(tmp_path, REDIS_URL=private.url)
        url = f"{server.http}/api/v1/tasks/"
        try:
            for n in range(3):  # the first requests open the pools' connections
                assert request("POST", url, {"title": f"warm {n}"}, token=token)[0] == 201
            before = connections_received(private.url)
            statuses = [
                request("POST", url, {"title": f"t {n}"}, token=token)[0] for n in range(20)
            ]
            # Minus this test's own connection, for `before`.
            opened = connections_received(private.url) - before - 1
        finally:
            server.stop()

    assert statuses == [201] * 20
    assert opened <= 2, f"{opened} Redis connections opened for 20 writes"
