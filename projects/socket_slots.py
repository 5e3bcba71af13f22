"""How many event sockets each user has open, across every server process.

`WS_MAX_SOCKETS_PER_USER` caps them; the consumer closes a socket over the cap with 4429.

With `REDIS_URL` the count lives in Redis, so it holds across processes: one sorted set per
user whose members are socket ids (channel names) scored by the moment their lease runs out
(Redis's clock, so processes need not agree on the time). An open socket renews its lease
every `RENEW_SECONDS`; a process that dies stops renewing, and its sockets' slots are free
again within `LEASE_SECONDS` instead of leaking. Each socket costs one small script call when
it opens, one per renewal and one when it closes; a set never holds more than the cap plus
expired leases, which every call prunes, and the key itself expires with its last lease.

Without Redis there is a single process, and a dict in memory does.

Calls go through the process's breaker for the Redis server (core/breaker.py): while Redis is
down or hangs, a socket that opens is refused (1012) at once.
"""

import asyncio
import weakref
from collections import defaultdict

from django.conf import settings
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from core.breaker import breaker_for

LEASE_SECONDS = 60
RENEW_SECONDS = 20
# Short timeouts: a socket opened while Redis is down must be refused (1012) at once. One
# immediate retry of a broken connection: after Redis restarts, each pooled connection fails
# once, then reconnects (a timeout is not retried).
REDIS_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
}

# KEYS[1]: the user's set. ARGV: socket id, cap, lease in ms. 1 if the socket holds a slot.
_CLAIM = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis]" = (
    weakref.WeakKeyDictionary()
)
_local: defaultdict[int, set[str]] = defaultdict(set)


def _key(user_id: int) -> str:
    return f"tasklane:ws-sockets:{user_id}"


def _redis() -> Redis:
    """One client per event loop (a redis.asyncio connection belongs to the loop it was
    opened on); a server process has one loop, so one small pool."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = Redis.from_url(settings.REDIS_URL, **REDIS_OPTIONS)
        _clients[loop] = client
    return client


async def claim(*, user_id: int, socket_id: str) -> bool:
    """Take (or renew) a slot for this socket; False if the user already has the cap."""
    limit = settings.WS_MAX_SOCKETS_PER_USER
    if not settings.REDIS_URL:
        sockets = _local[user_id]
        if socket_id not in sockets and len(sockets) >= limit:
            return False
        sockets.add(socket_id)
        return True
    claimed = await breaker_for(settings.REDIS_URL).call_async(
        _redis().eval, _CLAIM, 1, _key(user_id), socket_id, limit, LEASE_SECONDS * 1000
    )
    return bool(claimed)


async def release(*, user_id: int, socket_id: str) -> None:
    if not settings.REDIS_URL:
        sockets = _local.get(user_id)
        if sockets is not None:
            sockets.discard(socket_id)
            if not sockets:
                del _local[user_id]
        return
    await breaker_for(settings.REDIS_URL).call_async(_redis().zrem, _key(user_id), socket_id)
