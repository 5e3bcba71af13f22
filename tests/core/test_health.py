"""Readiness: right while sockets are open, bounded whatever is down, cheap for any caller."""

import asyncio
import threading
import time
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect

from core import health
from tests.support.server import request, require_services, start_server


@pytest.fixture(autouse=True)
def fresh_readiness(monkeypatch):
    """Each test starts with no cached result and no check in flight."""
    monkeypatch.setattr(health, "readiness", health.Readiness(health.CHECKS))


def test_readiness_reports_every_check_ok(api_client, db):
    response = api_client.get("/health/ready/")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok"}


@pytest.mark.parametrize("failing", ["database", "cache", "channel_layer"])
def test_readiness_is_503_naming_the_failed_check(api_client, db, monkeypatch, failing):
    def broken():
        raise ConnectionError(f"{failing} is down")

    monkeypatch.setitem(health.CHECKS, failing, broken)

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failed"] == [failing]
    assert body["checks"][failing] == "error"
    assert all(body["checks"][name] == "ok" for name in body["checks"] if name != failing)
    assert "is down" not in response.content.decode()


def test_readiness_names_every_failed_check(api_client, db, monkeypatch):
    def broken():
        raise ConnectionError("down")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    monkeypatch.setitem(health.CHECKS, "channel_layer", broken)

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    assert sorted(response.json()["failed"]) == ["cache", "channel_layer"]


def test_readiness_is_503_when_the_cache_server_is_unreachable(api_client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


def test_readiness_is_503_when_the_channel_layer_redis_is_unreachable(api_client, db, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0"}]},
        }
    }

    response = api_client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["failed"] == ["channel_layer"]


def test_a_check_that_hangs_is_answered_within_a_second(api_client, db, monkeypatch):
    release = threading.Event()
    monkeypatch.setitem(health.CHECKS, "database", lambda: release.wait(10))

    started = time.monotonic()
    response = api_client.get("/health/ready/")
    elapsed = time.monotonic() - started
    release.set()

    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    # Bounded by READY_TIMEOUT_SECONDS, not by the 10 s the check hangs (slack for a busy CI).
    assert elapsed < health.READY_TIMEOUT_SECONDS + 1


def test_many_callers_share_one_check_and_none_waits_long(db, monkeypatch):
    """16 callers while a check hangs: one check runs, one caller waits for it (under a
    second), the others get the last result at once; results are reused for a second."""
    calls = []
    release = threading.Event()

    def hanging():
        calls.append(1)
        release.wait(10)

    monkeypatch.setitem(health.CHECKS, "database", hanging)
    first = health.readiness.results()  # a result to serve while the next round runs
    assert first["database"] == "error"
    time.sleep(health.READY_CACHE_SECONDS)

    durations = []

    def call():
        started = time.monotonic()
        health.readiness.results()
        durations.append(time.monotonic() - started)

    callers = [threading.Thread(target=call) for _ in range(16)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(5)
    release.set()

    assert len(calls) == 1  # the hanging check is never started twice
    assert max(durations) < health.READY_TIMEOUT_SECONDS + 1
    # Only one caller waited for the round; the others got the last result at once.
    waited = [d for d in durations if d >= health.READY_TIMEOUT_SECONDS * 0.9]
    assert len(waited) == 1, durations


# --- Against a real server process -------------------------------------------------------------


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_readiness_is_200_while_websockets_are_open(tmp_path):
    require_services()
    server = start_server(tmp_path)
    try:
        status, _ = request(
            "POST",
            f"{server.http}/api/v1/auth/register/",
            {"email": "ready@example.com", "password": "a-long-test-passphrase-42"},
        )
        assert status == 201
        _, tokens = request(
            "POST",
            f"{server.http}/api/v1/auth/login/",
            {"email": "ready@example.com", "password": "a-long-test-passphrase-42"},
        )

        async def probe_with_sockets_open():
            sockets = [await connect(server.events_url(tokens["access"])) for _ in range(3)]
            try:
                for ws in sockets:
                    await asyncio.wait_for(ws.recv(), 5)  # connection.ready
                results = []
                for _ in range(3):
                    results.append(await asyncio.to_thread(get_ready, server))
                    await asyncio.sleep(health.READY_CACHE_SECONDS)
                return results
            finally:
                for ws in sockets:
                    await ws.close()

        for status, elapsed in asyncio.run(probe_with_sockets_open()):
            assert status == 200
            assert elapsed < 1
    finally:
        server.stop()


def get_ready(server) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{server.http}/health/ready/", timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started
