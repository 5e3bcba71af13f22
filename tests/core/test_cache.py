"""The Redis cache reuses one client per connection pool (core.cache)."""

import os

import pytest
from django.core.cache import cache

from core.cache import RedisCache


@pytest.fixture
def redis_cache():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL, as on CI")
    return RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "test-core-cache"})


def test_one_client_serves_every_operation(redis_cache):
    first = redis_cache._cache.get_client("a", write=True)

    assert redis_cache._cache.get_client("b", write=False) is first


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
