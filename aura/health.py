"""Whether the services AURA depends on answer, in words a person can act on."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import OperationalError, connection

from aura.env import redact_url


def describe_database_error(error: Exception) -> str:
    """One line naming the database we tried and why it failed (no traceback, no password)."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"cannot connect to the database at {redact_url(settings.DATABASE_URL)} (DATABASE_URL): {reason}"


def check_database() -> str | None:
    """None when the database answers a query, else why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except OperationalError as error:
        return describe_database_error(error)
    return None


def check_redis() -> str | None:
    """None when Redis answers PING, else why not."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"cannot reach Redis at {redact_url(settings.REDIS_URL)} (REDIS_URL): {error}"
    finally:
        client.close()
    return None
