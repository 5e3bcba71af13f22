"""The Redis cache reuses its pools and one client per pool, process-wide (core.cache)."""

import os
import uuid

import pytest
import redis
from django.core.cache import cache
from rest_framework_simplejwt.tokens import AccessToken

from core.cache import RedisCache
from tests.factories import UserFactory
from tests.support.connections import connection_ids, connections_received
from tests.support.private_redis import running_private_redis
from tests.support.server import request, require_services, start_server


@pytest.fixture
def redis_cache():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL, as on CI")
    return RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "test-core-cache"})


def test_every_cache_object_of_the_process_shares_one_connection(redis_cache):
    """Django makes a new cache object per request context: each would bring its own pool
    and open its own Redis connection. Seen from Redis, they all use one."""
    name = f"tasklane-test-{uuid.uuid4().hex[:12]}"  # this test's connections, by name
    caches = [
        RedisCache(
            os.environ["REDIS_URL"],
            {"KEY_PREFIX": "test-core-cache", "OPTIONS": {"client_name": name}},
        )
        for _ in range(3)
    ]
    seen = set()
    for one in caches:
        one.set("counter", 1, timeout=10)
        assert one.incr("counter") == 2
        one.delete("counter")
        seen |= connection_ids(name)

    assert len(seen) == 1, f"{len(seen)} Redis connections for three cache objects"


def test_values_round_trip_through_the_shared_client(redis_cache):
    redis_cache.set("greeting", {"hello": "world"}, timeout=10)
    redis_cache.set_many({"one": 1, "two": 2}, timeout=10)

    assert redis_cache.get("greeting") == {"hello": "world"}
    assert redis_cache.get_many(["one", "two"]) == {"one": 1, "two": 2}
    assert redis_cache.incr("one") == 2
    redis_cache.delete_many(["greeting", "one", "two"])
    assert redis_cache.get("greeting") is None


def test_the_configured_cache_is_this_one_when_redis_is_used(settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL, as on CI")
    assert settings.CACHES["default"]["BACKEND"] == "core.cache.RedisCache"
    assert cache.get("missing-key") is None


def test_a_server_reuses_its_redis_connections_from_request_to_request(transactional_db, tmp_path):
    """Each request runs in a context of its own, where Django makes a new cache object: the
    pools are the process's, so requests after the first open no new Redis connection."""
    require_services()
    token = str(AccessToken.for_user(UserFactory()))
    # A Redis of its own: the system one counts every worker's connections (parallel runs).
    with running_private_redis(tmp_path) as private:
        server = start_server(tmp_path, REDIS_URL=private.url)
        url = f"{server.http}/api/v1/tasks/"
        try:
            for _ in range(3):  # the first requests open the pools' connections
                assert request("GET", url, token=token)[0] == 200
            before = connections_received(private.url)
            statuses = [request("GET", url, token=token)[0] for _ in range(30)]
            # Minus this test's own connection, for `before`.
            opened = connections_received(private.url) - before - 1
        finally:
            server.stop()

    assert statuses == [200] * 30
    assert opened <= 2, f"{opened} Redis connections opened for 30 requests"


def test_redis_replies_are_parsed_by_hiredis():
    """redis-py parses with hiredis when it is installed (requirements/base.txt): a group of
    1,000 sockets is a large reply on every event, and pure-Python parsing of it costs several
    times hiredis's (bench/README.md, the publishing side)."""
    assert redis.utils.HIREDIS_AVAILABLE
