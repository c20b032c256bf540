"""The Redis cache: one redis-py client per connection pool; `cache_take` gives a value once;
`LocalLRU` keeps what was used last."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from sso.cache import LocalLRU, RedisCache, cache_take


def test_one_client_per_pool_is_built_once():
    """Building a client costs as much as a round trip: it is built once, not per call."""
    redis_cache = RedisCache("redis://127.0.0.1:1/0", {})  # nothing connects until a command

    client = redis_cache._cache.get_client("a")

    assert redis_cache._cache.get_client("b", write=True) is client
    assert client.connection_pool is redis_cache._cache._get_connection_pool(write=True)


@pytest.mark.skipif(
    not settings.CACHES["default"]["LOCATION"].startswith("redis://"),
    reason="needs CACHE_URL=redis://...",
)
def test_configured_redis_cache_shares_its_client_and_works():
    assert settings.CACHES["default"]["BACKEND"] == "sso.cache.RedisCache"
    assert cache.add("sso:test-once", 1, timeout=10) is True
    assert cache.add("sso:test-once", 2, timeout=10) is False
    assert cache.get("sso:test-once") == 1
    assert cache.delete("sso:test-once") is True
    assert cache._cache.get_client() is cache._cache.get_client(write=True)


def test_take_gives_the_value_once_and_removes_it():
    """With the configured cache: locmem in the SQLite pass, Redis (GETDEL) in the other."""
    cache.set("sso:test-take", {"request_id": "id-1"}, timeout=10)

    assert cache_take(cache, "sso:test-take") == {"request_id": "id-1"}
    assert cache_take(cache, "sso:test-take") is None
    assert cache.get("sso:test-take") is None
    assert cache_take(cache, "sso:never-stored") is None


@pytest.mark.skipif(
    not settings.CACHES["default"]["LOCATION"].startswith("redis://"),
    reason="needs CACHE_URL=redis://...",
)
def test_take_is_one_getdel_with_redis():
    client = cache._cache.get_client(write=True)

    def getdel_calls() -> int:
        return client.info("commandstats").get("cmdstat_getdel", {}).get("calls", 0)

    cache.set("sso:test-take-once", 1, timeout=10)
    before = getdel_calls()
    assert cache_take(cache, "sso:test-take-once") == 1
    assert getdel_calls() == before + 1


def test_local_lru_drops_the_least_recently_used_first():
    lru: LocalLRU[str, int] = LocalLRU(maxsize=2)
    lru.set("a", 1)
    lru.set("b", 2)
    assert lru.get("a") == 1  # "b" is now the least recently used

    lru.set("c", 3)

    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)
