"""Liveness and readiness probes for load balancers and orchestrators.

Readiness must stay cheap and bounded whoever calls it and whatever is down: a load balancer
polls it, anyone on the internet can too, and it must never tie up the threads that serve the
API. So the checks run on threads of their own, never more than one of each at a time, the
caller waits at most READY_TIMEOUT_SECONDS for them, and a result is reused for
READY_CACHE_SECONDS: any number of callers cost one round of checks per interval.
"""

import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.breaker import breaker_for

logger = logging.getLogger("tasklane.health")

READY_TIMEOUT_SECONDS = 0.8
READY_CACHE_SECONDS = 1.0
REDIS_TIMEOUT_SECONDS = 0.5


@require_safe
def live(request):
    """The process answers; touches nothing else."""
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # back to the pool: this thread serves no request


def check_cache() -> None:
    """A round trip through the cache; while the Redis breaker is open (core/breaker.py) it
    fails at once."""
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value just stored")
    cache.delete(key)


def check_channel_layer() -> None:
    """Every Redis server of the channel layer answers a PING (the in-memory layer is always
    there). A round trip through the layer itself would compete with the open sockets for its
    receive loop, which made readiness fail whenever a socket was open."""
    layer = get_channel_layer()
    for host in getattr(layer, "hosts", None) or []:
        address = host["address"] if isinstance(host, dict) else host
        if not isinstance(address, str):
            address = "redis://{}:{}".format(*address)
        client = redis.Redis.from_url(
            address,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),  # one try: the breaker decides when to try again
        )
        try:
            with breaker_for(address).guard():  # open: failed at once, Redis not called
                client.ping()
        finally:
            client.close()


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
}


class Readiness:
    """Runs the checks on a small pool of their own: one of each in flight at a time, and one
    caller at a time waiting for them (the others get the last result)."""

    def __init__(self, checks: dict):
        self.checks = checks
        self.executor = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
        self.lock = threading.Lock()
        self.running: dict[str, Future] = {}
        self.result: dict[str, str] | None = None
        self.checked_at = 0.0
        self.checking = False

    def results(self) -> dict[str, str]:
        """A fresh result, or the last one while another caller is already checking."""
        with self.lock:
            fresh = time.monotonic() - self.checked_at < READY_CACHE_SECONDS
            if self.result is not None and (fresh or self.checking):
                return self.result
            self.checking = True
            futures = {name: self._start(name) for name in self.checks}
        try:
            deadline = time.monotonic() + READY_TIMEOUT_SECONDS
            result = {
                name: self._outcome(name, future, deadline) for name, future in futures.items()
            }
        finally:
            with self.lock:
                self.checking = False
        with self.lock:
            self.result, self.checked_at = result, time.monotonic()
        return result

    def _start(self, name: str) -> Future:
        """The check already in flight (it is stuck: it counts as failed), or a new one."""
        future = self.running.get(name)
        if future is None or future.done():
            future = self.executor.submit(self.checks[name])
            self.running[name] = future
        return future

    @staticmethod
    def _outcome(name: str, future: Future, deadline: float) -> str:
        try:
            future.result(timeout=max(deadline - time.monotonic(), 0))
        except FutureTimeout:
            logger.warning("Readiness check %s did not answer in time", name)
            return "error"
        except Exception as exc:  # a probe reports failures, it must not raise them
            logger.warning("Readiness check %s failed: %s", name, exc)
            return "error"
        return "ok"


readiness = Readiness(CHECKS)


@require_safe
def ready(request):
    """200 when the database, cache and channel layer all answer; 503 naming what failed."""
    results = readiness.results()
    failed = [name for name, result in results.items() if result != "ok"]
    body = {"status": "error" if failed else "ok", "checks": results}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
