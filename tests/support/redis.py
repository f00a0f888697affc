"""The Redis the tests run against, and one that is not there."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.http import closed_port

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def connect_redis() -> Iterator[redis.Redis]:
    """Body of a `redis_client` fixture: the machine's Redis (REDIS_URL, db 15 by default)."""
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def unique_prefix(client: redis.Redis) -> Iterator[str]:
    """Body of a `key_prefix` fixture: a fresh key prefix whose keys are deleted afterwards."""
    prefix = f"test:{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def dead_redis() -> redis.Redis:
    """A client of a Redis that is not there, failing fast (no client-side retries)."""
    return redis.Redis(port=closed_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))


def layer_at(url: str, prefix: str = "aura-resilience") -> dict:
    """A channel layer as settings.CHANNEL_LAYERS declares it, on the Redis at `url`."""
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}], "prefix": prefix},
    }
