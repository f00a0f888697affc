"""The Redis cache's connections: one pool per server for the whole process."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import redis


class SharedConnectionPool(redis.ConnectionPool):
    """`from_url` answers the same pool for the same server and options, every time.

    Django keeps its cache objects in a context-local, so under ASGI every request builds a new cache
    object, and with it a new pool: each request opened a Redis connection (a TCP handshake, redis-py
    reading its own package metadata) and dropped it at the end. A shared pool keeps the connections
    open across requests. redis-py's pool is thread-safe and starts afresh in a forked child.
    """

    _shared: ClassVar[dict[tuple[str, frozenset[tuple[str, Any]]], SharedConnectionPool]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SharedConnectionPool:
        key = (url, frozenset(options.items()))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **options)
        return pool


_client: redis.Redis | None = None


def shared_client() -> redis.Redis:
    """A Redis client over the default cache's shared pool, one per process: for what the cache's own
    methods cannot do in one round trip (a script)."""
    global _client
    if _client is None:
        from django.core.cache import caches

        _client = caches["default"]._cache.get_client(write=True)
    return _client
