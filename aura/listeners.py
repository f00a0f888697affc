"""Which push groups have a page listening, kept in Redis by the live consumer.

The channel layer (Redis pub/sub) cannot say whether anyone listens to a group, so each socket notes
its groups here on connect, renews them with every heartbeat and removes them on disconnect. A
socket that dies without a disconnect (a killed web process) drops out when its note expires, after
a few missed heartbeats. Writers ask `listened(groups)` before they render fragments nobody would get.

When Redis cannot answer, every group counts as listened: a push sent for nothing costs a render, a
push skipped for a page that waits is a page left wrong.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Iterable

import redis
import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)
_HEARTBEATS_TO_EXPIRY = 3


def _layer(alias: str) -> tuple[str, str]:
    """(Redis URL, key prefix) of the channel layer `alias`: the notes live beside its messages, so
    they are reachable exactly when pushes are."""
    config = settings.CHANNEL_LAYERS[alias]["CONFIG"]
    host = config["hosts"][0]
    return (host["address"] if isinstance(host, dict) else host), config.get("prefix", "asgi")


def _key(prefix: str, group: str) -> str:
    return f"{prefix}:listeners:{group}"


def note_lifetime() -> float:
    """Seconds a note lives without renewal: a few heartbeats."""
    return _HEARTBEATS_TO_EXPIRY * settings.LIVE_HEARTBEAT_SECONDS + 5


_clients: dict[str, redis.Redis] = {}


# One client (a connection pool) per event loop and Redis: Daphne runs one loop for every socket;
# a client is bound to the loop it first ran on (tests run one loop per test).
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]] = (
    weakref.WeakKeyDictionary()
)


def _async_redis(url: str) -> aioredis.Redis:
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    if url not in clients:
        clients[url] = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return clients[url]


def _redis(url: str) -> redis.Redis:
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[url]


async def listen(channel: str, groups: Iterable[str], alias: str = "default") -> None:
    """Note (or renew) that `channel` listens to `groups`. One sorted set per group: channel → expiry."""
    url, prefix = _layer(alias)
    lifetime = note_lifetime()
    expires = time.time() + lifetime
    async with _async_redis(url).pipeline(transaction=False) as pipe:
        for group in groups:
            pipe.zadd(_key(prefix, group), {channel: expires})
            pipe.expire(_key(prefix, group), int(lifetime) + 1)
        await pipe.execute()


async def stop_listening(channel: str, groups: Iterable[str], alias: str = "default") -> None:
    url, prefix = _layer(alias)
    async with _async_redis(url).pipeline(transaction=False) as pipe:
        for group in groups:
            pipe.zrem(_key(prefix, group), channel)
        await pipe.execute()


def listened(groups: Iterable[str], alias: str = "default") -> set[str]:
    """Those of `groups` that a page listens to now (all of them when Redis cannot say)."""
    groups = list(dict.fromkeys(groups))
    if not groups:
        return set()
    url, prefix = _layer(alias)
    now = time.time()
    try:
        with _redis(url).pipeline(transaction=False) as pipe:
            for group in groups:
                pipe.zcount(_key(prefix, group), now, "+inf")
            counts = pipe.execute()
    except redis.RedisError as error:
        logger.warning("cannot tell which groups have listeners, pushing to all: %r", error)
        return set(groups)
    return {group for group, count in zip(groups, counts, strict=True) if count}
