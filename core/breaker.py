"""A circuit breaker for Redis: after a failure, stop calling it for a few seconds.

A Redis that refuses connections fails fast, but one that accepts and never answers (a
network partition, a frozen host, a full backlog) costs every call its whole socket timeout,
and the client's retries multiply that; a request that makes several calls (throttles, the
task count, events) waited for each in turn. With the breaker, the first call that fails
opens it for OPEN_SECONDS: every call to that Redis in the process then fails at once with
`RedisUnavailable`, which callers treat like any other Redis error (throttles fail open, the
task count is counted, events to sockets are dropped, a worker wake-up is dropped and the
sweep delivers). Once the time is up, one call is let through as a probe: if it answers, the
breaker closes; if it fails, it opens again. So while Redis is down, one request in
OPEN_SECONDS pays one short timeout; the others pay nothing.

There is one breaker per Redis server (host and port) per process, shared by the cache
(and so the throttles and counts), the channel layer, socket slots, the health checks and
the webhook worker wake-up: a failure seen by any of them spares all the others.

Not pybreaker: it holds one lock for the whole of every call it guards, so the server's
threads would take turns at Redis, and while Redis hangs every thread would queue behind the
probe for its full timeout; its async support is for Tornado, not asyncio.
"""

import asyncio
import logging
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("tasklane.redis")

OPEN_SECONDS = 5.0
# Errors that mean "Redis did not answer"; any other answer (even an error reply) means it did.
FAILURES = (RedisConnectionError, RedisTimeoutError, TimeoutError, OSError)


class RedisUnavailable(RedisError):
    """Raised instead of calling a Redis whose breaker is open.

    A `RedisError` (callers that fail open on Redis errors need no change), but not a
    `ConnectionError`: redis-py's retries do not retry it.
    """


class Breaker:
    def __init__(self, name: str, open_seconds: float = OPEN_SECONDS):
        self.name = name
        self.open_seconds = open_seconds
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0: closed
        self._opened_at = 0.0
        self._probe_until = 0.0  # while a probe is out, other callers are refused

    @property
    def is_open(self) -> bool:
        return self._open_until != 0.0

    def before_call(self, *, probe: bool = True) -> bool:
        """Return if the call may go to Redis (True if it is the probe); raise
        `RedisUnavailable` if it may not. A call that can block for long by design (the
        channel layer's blocking pop) passes `probe=False`: it waits for a closed breaker."""
        if self._open_until == 0.0:  # closed: no lock on the common path
            return False
        moment = now()
        with self._lock:
            if self._open_until == 0.0:
                return False
            if not probe or moment < self._open_until or moment < self._probe_until:
                raise RedisUnavailable(f"Redis at {self.name} is unavailable (breaker open)")
            # This call is the probe; a probe that never reports back frees the way again
            # after one more period.
            self._probe_until = moment + self.open_seconds
            return True

    def probe_abandoned(self) -> None:
        """The probe was cancelled before Redis answered: the next call probes instead."""
        with self._lock:
            self._probe_until = 0.0

    def succeeded(self) -> None:
        if self._open_until == 0.0:
            return
        with self._lock:
            if self._open_until == 0.0:
                return
            down_for = now() - self._opened_at
            self._open_until = self._probe_until = 0.0
        logger.warning("Redis at %s answers again after %.1f s", self.name, down_for)

    def failed(self, error: BaseException) -> None:
        moment = now()
        with self._lock:
            was_closed = self._open_until == 0.0
            if was_closed:
                self._opened_at = moment
            self._open_until = moment + self.open_seconds
            self._probe_until = 0.0
        if was_closed:
            logger.warning(
                "Redis at %s did not answer (%s): not calling it for %g s (throttles are "
                "skipped, events to sockets and worker wake-ups are dropped meanwhile)",
                self.name,
                describe(error),
                self.open_seconds,
            )

    def report(self, error: BaseException | None, *, probe: bool = False) -> None:
        """The outcome of a call that `before_call` let through."""
        if error is None:
            self.succeeded()
        elif isinstance(error, FAILURES) and not isinstance(error, RedisUnavailable):
            self.failed(error)
        elif isinstance(error, RedisError):
            self.succeeded()  # Redis answered, with an error reply
        elif probe:  # cancelled, or not about Redis
            self.probe_abandoned()

    @contextmanager
    def guard(self):
        """Around one synchronous call to Redis."""
        probe = self.before_call()
        try:
            yield
        except BaseException as error:
            self.report(error, probe=probe)
            raise
        self.succeeded()

    async def call_async(
        self, function, *args, timeout: float | None = None, probe: bool = True, **kwargs
    ):
        """`await function(*args, **kwargs)` through the breaker; with `timeout`, a call that
        takes longer is cancelled and counts as a failure (TimeoutError)."""
        probing = self.before_call(probe=probe)
        try:
            async with asyncio.timeout(timeout):
                result = await function(*args, **kwargs)
        except BaseException as error:
            self.report(error, probe=probing)
            raise
        self.succeeded()
        return result

    def reset(self) -> None:
        with self._lock:
            self._open_until = self._probe_until = 0.0


def describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def now() -> float:
    return time.monotonic()


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def server_of(url: str) -> str:
    """`host:port` of a Redis URL (or the socket path): what the breaker is per."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def breaker_for(url: str) -> Breaker:
    """The process's breaker for the Redis server this URL names."""
    name = server_of(url)
    breaker = _breakers.get(name)
    if breaker is None:
        with _breakers_lock:
            breaker = _breakers.setdefault(name, Breaker(name))
    return breaker


def reset_all() -> None:
    """Close every breaker (tests)."""
    for breaker in list(_breakers.values()):
        breaker.reset()
