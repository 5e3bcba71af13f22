"""The Redis breaker (core/breaker.py): one failure stops calls for a while, one probe at a
time after that, and every client of the process shares it."""

import asyncio
import logging
import threading
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import breaker as breakers
from core.background import Lane
from core.breaker import Breaker, RedisUnavailable, breaker_for
from core.cache import RedisCache
from tests.support.server import Blackhole
from webhooks import outbox


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(breakers, "now", clock)
    return clock


def fail_once(breaker: Breaker, error=None) -> None:
    with pytest.raises(RedisTimeoutError), breaker.guard():
        raise error or RedisTimeoutError("Timeout reading from socket")


def test_one_failure_opens_it_and_calls_fail_at_once(clock, caplog):
    breaker = Breaker("test:1", open_seconds=5)

    with caplog.at_level(logging.WARNING, logger="tasklane.redis"):
        fail_once(breaker)
        for _ in range(3):
            with pytest.raises(RedisUnavailable):
                breaker.before_call()

    assert breaker.is_open
    opened = [r for r in caplog.records if "did not answer" in r.getMessage()]
    assert len(opened) == 1, "one line when it opens, not one per refused call"
    assert "TimeoutError" in opened[0].getMessage()


def test_after_the_pause_one_probe_goes_through_and_its_success_closes_it(clock, caplog):
    breaker = Breaker("test:2", open_seconds=5)
    fail_once(breaker)
    clock.now += 5.1

    breaker.before_call()  # the probe
    with pytest.raises(RedisUnavailable):
        breaker.before_call()  # everyone else, while the probe is out
    with caplog.at_level(logging.WARNING, logger="tasklane.redis"):
        breaker.succeeded()

    assert not breaker.is_open
    breaker.before_call()
    assert "answers again" in caplog.text


def test_a_failed_probe_opens_it_for_another_pause(clock):
    breaker = Breaker("test:3", open_seconds=5)
    fail_once(breaker)
    clock.now += 5.1

    fail_once(breaker)
    clock.now += 4.9
    with pytest.raises(RedisUnavailable):
        breaker.before_call()
    clock.now += 0.2
    breaker.before_call()


def test_a_probe_that_never_reports_frees_the_way_after_one_more_pause(clock):
    breaker = Breaker("test:4", open_seconds=5)
    fail_once(breaker)
    clock.now += 5.1
    breaker.before_call()  # a probe that was cancelled, say

    clock.now += 5.1

    breaker.before_call()


def test_an_error_reply_is_an_answer_not_a_failure(clock):
    breaker = Breaker("test:5")

    with pytest.raises(ResponseError), breaker.guard():
        raise ResponseError("WRONGTYPE")

    assert not breaker.is_open


def test_a_refused_connection_opens_it(clock):
    breaker = Breaker("test:6")

    with pytest.raises(RedisConnectionError), breaker.guard():
        raise RedisConnectionError("Connection refused")

    assert breaker.is_open


def test_an_async_call_that_outlasts_its_timeout_is_cancelled_and_opens_it(clock):
    breaker = Breaker("test:7")

    async def hangs():
        await asyncio.sleep(10)

    with pytest.raises(TimeoutError):
        asyncio.run(breaker.call_async(hangs, timeout=0.05))

    assert breaker.is_open
    with pytest.raises(RedisUnavailable):
        asyncio.run(breaker.call_async(hangs, timeout=0.05))


def test_one_breaker_per_redis_server_whatever_the_database():
    assert breaker_for("redis://127.0.0.1:6390/0") is breaker_for("redis://127.0.0.1:6390/5")
    assert breaker_for("redis://127.0.0.1:6390/0") is not breaker_for("redis://127.0.0.1:6391/0")


def test_the_cache_fails_at_once_while_the_breaker_is_open(blackhole_url):
    """Against a Redis that hangs, the first cache call pays one short timeout; the next
    ones are refused without touching the socket, so throttles and counts go on."""
    cache = RedisCache(blackhole_url, {"OPTIONS": {"socket_timeout": 0.3}})

    with pytest.raises(RedisTimeoutError):
        cache.get("key")
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(RedisUnavailable):
            cache.set("key", "value")
    assert time.monotonic() - started < 0.2


@pytest.fixture
def blackhole_url():
    blackhole = Blackhole()
    yield blackhole.url
    blackhole.close()


def test_threads_do_not_take_turns_at_a_closed_breaker(clock):
    """Unlike pybreaker, no lock is held during a call: a slow call holds nobody else."""
    breaker = Breaker("test:8")
    inside = threading.Event()
    release = threading.Event()

    def slow():
        with breaker.guard():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=slow)
    thread.start()
    assert inside.wait(5)
    with breaker.guard():
        pass  # not blocked by the call in flight
    release.set()
    thread.join(5)


def test_a_blocking_call_is_never_the_probe(clock):
    """The channel layer's blocking pop would hold the probe for seconds while every other
    call is refused: it waits for another call to close the breaker."""
    breaker = Breaker("test:9", open_seconds=5)
    fail_once(breaker)
    clock.now += 5.1

    with pytest.raises(RedisUnavailable):
        breaker.before_call(probe=False)
    assert breaker.before_call() is True  # an ordinary call still probes


def test_a_cancelled_probe_lets_the_next_call_probe_at_once(clock):
    breaker = Breaker("test:10", open_seconds=5)
    fail_once(breaker)
    clock.now += 5.1

    async def cancelled():
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(breaker.call_async(cancelled))

    assert breaker.before_call() is True


def test_a_lane_runs_calls_in_order_off_the_caller_and_drops_what_does_not_fit(caplog):
    """core/background.py: what a request hands off (the webhook worker wake-up)."""
    lane = Lane("test-lane", 2)
    release = threading.Event()
    ran = []

    def first():
        release.wait(5)
        ran.append("first")

    def fails():
        raise RuntimeError("boom")

    assert lane.submit(first)
    time.sleep(0.1)  # first is running: two more fit, the third does not
    assert lane.submit(fails) and lane.submit(ran.append, "third")
    with caplog.at_level(logging.WARNING, logger="tasklane.background"):
        assert not lane.submit(ran.append, "dropped")
    release.set()
    lane.join()

    assert ran == ["first", "third"]
    assert "dropped" not in ran and "calls are already waiting" in caplog.text


def test_a_wake_up_while_the_brokers_breaker_is_open_is_dropped_without_calling(
    settings, monkeypatch, caplog
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6392/0"
    fail_once(breaker_for(settings.CELERY_BROKER_URL))
    calls = []
    deliver = outbox.tasks.deliver
    monkeypatch.setattr(deliver, "apply_async", lambda *a, **k: calls.append(a))

    with caplog.at_level(logging.WARNING, logger="tasklane.webhooks"):
        outbox.wake()

    assert calls == []
    assert "the broker's Redis is unavailable; the sweep will deliver" in caplog.text
