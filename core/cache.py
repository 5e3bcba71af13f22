"""Django's Redis cache, with its connection pools and clients shared by the whole process.

Django keeps cache objects per context, and the server runs each HTTP request in a context
of its own (a2wsgi's thread pool copies one per request): every request then built a new
cache object, new connection pools, and opened a new Redis connection (bench/README.md has
what it cost). Pools are kept here per server and options instead, for every cache object of
the process.

Django also builds a new `redis.Redis` for every cache operation, and each build copies the
client's table of response callbacks; a redis-py client is safe to share between threads
(its pool hands each command a connection), so one per pool serves every request.

Every operation goes through the process's breaker for its Redis server (core/breaker.py):
while Redis is down or hangs, operations fail at once with `RedisUnavailable` instead of
each waiting out its socket timeout. A connection that breaks (Redis restarted) is retried
once at once; a timeout is not retried (redis-py's default retries three times with a
back-off, which made one cache call against a hanging Redis last seconds).
"""

import functools
import threading

from django.core.cache.backends import redis as django_redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from core.breaker import breaker_for

_pools: dict[tuple, object] = {}
_clients: dict[int, object] = {}
_lock = threading.Lock()


OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


def _guarded(operation):
    @functools.wraps(operation)
    def guarded(self, *args, **kwargs):
        with self.breaker.guard():
            return operation(self, *args, **kwargs)

    return guarded


# One object for every pool: the pools are looked up by their options' repr.
RETRY = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, servers, **options):
        options.setdefault("retry", RETRY)
        super().__init__(servers, **options)
        self.breaker = breaker_for(self._servers[0])

    def _get_connection_pool(self, write):
        server = self._servers[self._get_connection_pool_index(write)]
        key = (server, repr(sorted(self._pool_options.items(), key=lambda item: item[0])))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    _pools[key] = pool
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = _clients.get(id(pool))
        if client is None:
            client = _clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


for _name in OPERATIONS:
    setattr(RedisCacheClient, _name, _guarded(getattr(django_redis.RedisCacheClient, _name)))


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
