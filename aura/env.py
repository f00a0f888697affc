"""Tiny readers of environment variables that fail loudly, naming the variable, on nonsense."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class Env:
    """Reads settings from a mapping (os.environ by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name)
        return default if value is None else value.strip()

    def required(self, name: str, why: str) -> str:
        value = self.str(name)
        if not value:
            raise ImproperlyConfigured(f"{name} must be set {why}.")
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self.environ.get(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true/false, yes/no, on/off or 1/0.")

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self.environ.get(name)
        if value is None or not value.strip():
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
        return number

    def float(self, name: str, default: float, minimum: float = 0.0) -> float:
        value = self.environ.get(name)
        if value is None or not value.strip():
            return default
        try:
            number = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
        if number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
        return number

    def decimal(self, name: str, default: str, minimum: str | None = None, maximum: str | None = None) -> Decimal:
        """An exact decimal (money, fractions): "10000", "0.05"; never a float."""
        value = self.environ.get(name)
        text = default if value is None or not value.strip() else value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ImproperlyConfigured(f"{name}={value!r} is not a decimal number.") from None
        if not number.is_finite():
            raise ImproperlyConfigured(f"{name}={value!r} is not a finite number.")
        if minimum is not None and number < Decimal(minimum):
            raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
        if maximum is not None and number > Decimal(maximum):
            raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
        return number

    def rate(self, name: str, default: str) -> str:
        """A django-ratelimit rate: a count per period, e.g. "5/15m" (periods in s, m, h or d)."""
        value = self.str(name, default) or default
        if not re.fullmatch(r"[1-9][0-9]*/[1-9]?[0-9]*[smhd]", value):
            raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 5/15m (a count per s, m, h or d).")
        return value

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.environ.get(name)
        if value is None:
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def http_url(self, name: str, default: str, *, base: bool = True) -> str:
        """An http(s) URL; a `base` URL (an API host) loses its trailing slash, a full URL keeps it."""
        value = self.str(name, default) or default
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImproperlyConfigured(f"{name}={value!r} is not an http(s) URL.")
        return value.rstrip("/") if base else value


def database_config(url: str, name: str = "DATABASE_URL", pool_size: int = 0) -> dict:
    """Django DATABASES entry for a postgres:// URL (a socket directory may be given as ?host=).

    With `pool_size` > 0 connections come from a psycopg pool of at most that many per process.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ImproperlyConfigured(
            f"{name} must be a PostgreSQL URL like postgres://user:password@host:5432/dbname, "
            f"got scheme {parts.scheme or 'none'!r}."
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImproperlyConfigured(f"{name} names no database (the path after the host is empty).")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port.") from None
    options: dict = {"connect_timeout": int(query.pop("connect_timeout", 5))}
    if pool_size > 0:
        # Daphne serves each request from its own thread, so a connection cannot be kept per thread
        # (CONN_MAX_AGE); a pool saves the ~6 ms a new PostgreSQL connection costs every request.
        options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
    if "sslmode" in query:
        options["sslmode"] = query.pop("sslmode")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": query.pop("host", None) or parts.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": options,
    }


def check_redis_url(url: str, name: str = "REDIS_URL") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(
            f"{name} must look like redis://host:6379/0 or unix:///path/redis.sock, got {url!r}."
        )
    return url


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a Redis unix socket `redis+socket://`; redis-py spells it `unix://`."""
    if redis_url.startswith("unix://"):
        path, _, query = redis_url[len("unix://"):].partition("?")
        db = parse_qs(query).get("db", ["0"])[-1]
        return f"redis+socket://{path}?virtual_host={db}"
    return redis_url


def redact_url(url: str) -> str:
    """The URL with any password replaced, for error messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
