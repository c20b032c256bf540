"""Django's Redis cache, with one redis-py client per connection pool instead of one per call;
`cache_take`, which reads and removes a key in one step; and `LocalLRU`, a bounded cache kept
in this process.

Django builds a new `redis.Redis` for every cache operation, and building one copies its
hundreds of response callbacks: half the CPU of a `cache.get`. A redis-py client is safe to
share between threads (connections come from the pool per command) and after a fork (the pool
notices the new process), so each pool keeps one. Used when `CACHE_URL` is a redis:// URL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import BaseCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def take(self, key: str, version: int | None = None) -> Any:
        """The value, removed in the same round trip (GETDEL), or None."""
        key = self.make_and_validate_key(key, version=version)
        value = self._cache.get_client(key, write=True).getdel(key)
        return None if value is None else self._cache._serializer.loads(value)


def cache_take(cache: BaseCache, key: str) -> Any:
    """The value stored at `key`, removed: of callers racing for it, exactly one gets it.

    One round trip with Redis; with other caches, the one whose delete removes it wins.
    """
    take = getattr(cache, "take", None)  # `cache` may be Django's proxy to the backend
    if take is not None:
        return take(key)
    value = cache.get(key)
    return value if value is not None and cache.delete(key) else None


class LocalLRU(Generic[K, V]):
    """A mapping kept in this process, at most `maxsize` entries, the least recently used
    dropped first; safe to share between threads. For values a key fully determines."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def set(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
