"""Provider-agnostic HTTP core shared by every external-API client (Helius, Birdeye, DexScreener, Jupiter).

The pieces, each usable on its own:

* `JsonHttpClient` — one `httpx.Client` with a timeout on every call, retries with full-jitter
  backoff for transient faults (429, 5xx, timeouts, dropped connections, truncated JSON), honouring
  `Retry-After`, and an immediate `ProviderError` for permanent ones (other 4xx).
* `RedisRateLimiter` — one request budget shared by every worker process through Redis.
* `CreditMeter` — per-provider credit counters in Redis (total and per UTC day).
* `ResponseCache` — JSON answers kept in Redis for a while; an optimisation, never in the way.
* `json_decimal` — a JSON number as a `Decimal`, without binary-float noise.

No Django in here: provider modules read settings and hand plain values in, so the same client
talks to the real service, the market simulator, or a test server (pass `transport=`).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, NoReturn

import httpx
import redis as redis_lib

logger = logging.getLogger(__name__)

# Methods a server must treat as safe to repeat (RFC 9110 §9.2.2). POST is not: a retried
# "create webhook" after a read timeout could create it twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_BODY_SNIPPET_CHARS = 300


class ProviderError(Exception):
    """A call to an external provider failed.

    `transient` is True when retrying later may succeed (429, 5xx, timeout, connection error,
    malformed body); False when it will not (other 4xx, unexpected response shape).
    `status` is the HTTP status, or None when no response arrived. `retry_after` is the
    provider's requested wait in seconds (already capped), or None when it gave none.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.transient = transient
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery and multiprocessing pickle exceptions; the default reduce would call cls(message)
        # and fail on the required keyword `provider`.
        return (partial(type(self), provider=self.provider), (self.message,), self.__dict__)


class _Transient(Exception):
    """Internal: one failed attempt that may be retried; carries the error to raise at the end."""

    def __init__(self, error: ProviderError) -> None:
        self.error = error


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), or None.

    Returns None for a missing or unparseable header; never negative.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def full_jitter_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Backoff before retry number `attempt` (1-based): uniform in [0, min(cap, base·2^(attempt-1))).

    Full jitter (AWS architecture blog, "Exponential Backoff and Jitter") spreads retries of
    many workers hit by the same outage instead of having them retry in lock-step.
    """
    return rng() * min(cap, base * (2 ** (attempt - 1)))


class JsonHttpClient:
    """JSON over HTTP with timeouts, retries and an optional shared rate limiter.

    Contract of `request()`: returns the decoded JSON body of a 2xx response (None for an empty
    body when `allow_empty=True`), or raises `error_class` (a `ProviderError`). It never raises
    httpx exceptions. Error messages name method and path only — never the query string, where
    API keys live — and every value in `redact` (API keys) is masked in quoted response bodies.
    """

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        retry_after_cap: float = 60.0,
        rate_limiter: RateLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        error_class: type[ProviderError] = ProviderError,
        redact: Iterable[str] = (),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.provider = provider
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.rate_limiter = rate_limiter
        self.error_class = error_class
        self._sleep = sleep
        self._rng = rng
        self._secrets = [secret for secret in redact if secret]
        self._http = httpx.Client(
            base_url=base_url,
            params=dict(params or {}),
            headers={"Accept": "application/json", **dict(headers or {})},
            timeout=httpx.Timeout(timeout, connect=connect_timeout or timeout),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JsonHttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        allow_empty: bool = False,
    ) -> Any:
        """Send one logical request, retrying transient faults up to `max_attempts` times.

        `idempotent=None` derives it from the method. A non-idempotent request is retried only
        when the server certainly did not act on it (429, connection refused / connect timeout).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        for attempt in range(1, self.max_attempts + 1):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            try:
                return self._attempt(method, path, params, json_body, headers, idempotent, allow_empty)
            except _Transient as failure:
                error = failure.error
                if attempt == self.max_attempts:
                    raise error from None
                delay = self._retry_delay(attempt, error)
                logger.warning(
                    "%s %s %s failed (attempt %d/%d): %s; retrying in %.2fs",
                    self.provider,
                    method,
                    path,
                    attempt,
                    self.max_attempts,
                    error,
                    delay,
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        idempotent: bool,
        allow_empty: bool,
    ) -> Any:
        try:
            response = self._http.request(method, path, params=params, json=json_body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never reached the server, so even a POST is safe to repeat.
            detail = f"connection failed: {_describe(exc)}"
            raise _Transient(self._error(method, path, detail, None, True)) from None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            detail = f"no complete response: {_describe(exc)}"
            _fail(self._error(method, path, detail, None, True), retry=idempotent)
        except httpx.HTTPError as exc:
            # Bad URL scheme, proxy misconfiguration, too many redirects: retrying will not help.
            raise self._error(method, path, f"request failed: {_describe(exc)}", None, False) from None
        return self._decode(method, path, response, idempotent, allow_empty)

    def _decode(self, method: str, path: str, response: httpx.Response, idempotent: bool, allow_empty: bool) -> Any:
        status = response.status_code
        if status == 429 or 500 <= status <= 599:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                retry_after = min(retry_after, self.retry_after_cap)
            error = self._error(method, path, f"HTTP {status}: {self._snippet(response)}", status, True, retry_after)
            # A 429 was refused before any work was done, so it is safe to repeat for any method.
            _fail(error, retry=status == 429 or idempotent)
        if not 200 <= status < 300:
            raise self._error(method, path, f"HTTP {status}: {self._snippet(response)}", status, False)
        if not response.content.strip():
            if allow_empty:
                return None
            detail = f"HTTP {status} with an empty body"
            _fail(self._error(method, path, detail, status, True), retry=idempotent)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # A truncated or garbled body is nearly always a proxy/provider hiccup, not our bug.
            detail = f"malformed JSON ({exc}): {self._snippet(response)}"
            _fail(self._error(method, path, detail, status, True), retry=idempotent)

    def _retry_delay(self, attempt: int, error: ProviderError) -> float:
        if error.retry_after is not None:
            return error.retry_after
        return full_jitter_delay(attempt, self.backoff_base, self.backoff_cap, self._rng)

    def _error(
        self,
        method: str,
        path: str,
        detail: str,
        status: int | None,
        transient: bool,
        retry_after: float | None = None,
    ) -> ProviderError:
        kind = "transient" if transient else "permanent"
        message = f"{self.provider}: {method} {path} failed ({kind}): {self._redact(detail)}"
        return self.error_class(
            message, provider=self.provider, status=status, transient=transient, retry_after=retry_after
        )

    def _snippet(self, response: httpx.Response) -> str:
        text = response.content[:_BODY_SNIPPET_CHARS].decode("utf-8", errors="replace")
        return text or "(empty body)"

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _fail(error: ProviderError, *, retry: bool) -> NoReturn:
    """Raise `error`, wrapped so that `request()` retries it when `retry` is True."""
    if retry:
        raise _Transient(error)
    raise error


def _describe(exc: Exception) -> str:
    # httpx messages can be empty (e.g. a bare ReadTimeout); the class name is still informative.
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def shared_rate_limiter(
    redis: redis_lib.Redis | None, key: str, rate_per_second: float, *, sleep: Callable[[float], None] = time.sleep
) -> RateLimiter:
    """A limiter shared by every process through Redis at `key`; per process when there is no Redis."""
    if redis is not None:
        return RedisRateLimiter(redis, key, rate_per_second, sleep=sleep)
    return LocalRateLimiter(rate_per_second, sleep=sleep)


def redis_client(url: str | None) -> redis_lib.Redis | None:
    """A Redis client for the shared rate limiter, credit meter and caches; None without a URL."""
    return redis_lib.Redis.from_url(url) if url else None


class _Cooldown:
    """After a Redis failure, skip Redis for `seconds`.

    Without it every API call during an outage would pay the Redis client's connect timeout and
    retries (redis-py 8 defaults to 10 retries: several seconds per call) and log the same error.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._until = 0.0

    def active(self) -> bool:
        return self._clock() < self._until

    def trip(self) -> None:
        self._until = self._clock() + self.seconds


class RateLimiter:
    """Interface: `acquire()` blocks until the caller may send one request."""

    def acquire(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LocalRateLimiter(RateLimiter):
    """In-process limiter: spaces calls `1/rate` seconds apart across this process's threads.

    Used when there is no Redis, and as `RedisRateLimiter`'s fallback while Redis is down.
    `rate_per_second <= 0` disables it.
    """

    def __init__(
        self,
        rate_per_second: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_second = rate_per_second
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._next_free = 0.0

    def acquire(self) -> None:
        if self.rate_per_second <= 0:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free)
            self._next_free = slot + 1.0 / self.rate_per_second
        if slot > now:
            self._sleep(slot - now)


# Reservation-style GCRA: each caller atomically books the next free slot and is told how long
# to sleep until it. No polling loop, fair (first come, first served), and Redis's own clock
# keeps processes on different hosts in agreement. Times in microseconds.
# KEYS[1] = "theoretical arrival time" key; ARGV[1] = interval µs; ARGV[2] = burst (slots).
_RESERVE_SLOT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - burst * interval
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return wait
"""


class RedisRateLimiter(RateLimiter):
    """A request budget of `rate_per_second` shared by every process using the same Redis `key`.

    `acquire()` reserves the next free slot atomically (Lua) and sleeps until it. `burst` lets
    that many calls through back-to-back after an idle period (default 1: strict spacing).
    `rate_per_second <= 0` disables limiting. If Redis is unreachable the limiter logs and falls
    back to per-process spacing for `redis_cooldown` seconds rather than failing the API call.
    """

    def __init__(
        self,
        redis: redis_lib.Redis,
        key: str,
        rate_per_second: float,
        *,
        burst: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        redis_cooldown: float = 30.0,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.key = key
        self.rate_per_second = rate_per_second
        self.burst = burst
        self._sleep = sleep
        self._script = redis.register_script(_RESERVE_SLOT_LUA)
        self._fallback = LocalRateLimiter(rate_per_second, sleep=sleep)
        self._redis_down = _Cooldown(redis_cooldown)

    def acquire(self) -> None:
        if self.rate_per_second <= 0:
            return
        if self._redis_down.active():
            self._fallback.acquire()
            return
        interval_us = max(1, round(1_000_000 / self.rate_per_second))
        try:
            wait_us = int(self._script(keys=[self.key], args=[interval_us, self.burst]))
        except redis_lib.RedisError as exc:
            self._redis_down.trip()
            logger.warning(
                "rate limiter %s: Redis unavailable (%s); limiting per process for %.0fs",
                self.key,
                exc,
                self._redis_down.seconds,
            )
            self._fallback.acquire()
            return
        if wait_us > 0:
            self._sleep(wait_us / 1_000_000)


def _utc_today() -> date:
    return datetime.now(UTC).date()


class CreditMeter:
    """Counts provider credits (API cost units) in Redis, in total and per UTC day.

    Keys: `<prefix>:<provider>:total` and `<prefix>:<provider>:day:<YYYY-MM-DD>` (plain integers,
    day keys expire after `day_ttl_days`). `add()` never raises: losing a count is better than
    losing the API call that incurred it; after a Redis failure it drops counts (logged) for
    `redis_cooldown` seconds. `spent()` is for dashboards and does raise RedisError.
    """

    def __init__(
        self,
        redis: redis_lib.Redis,
        key_prefix: str = "aura:credits",
        *,
        day_ttl_days: int = 400,
        today: Callable[[], date] = _utc_today,
        redis_cooldown: float = 30.0,
    ) -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self.day_ttl_seconds = day_ttl_days * 86_400
        self._today = today
        self._redis_down = _Cooldown(redis_cooldown)

    def add(self, provider: str, credits: int) -> None:
        """Add `credits` to today's and the all-time counter of `provider`."""
        if credits <= 0:
            return
        if self._redis_down.active():
            logger.warning("credit meter: Redis down, %d %s credits not recorded", credits, provider)
            return
        day_key = self._day_key(provider, self._today())
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.incrby(self._total_key(provider), credits)
            pipe.incrby(day_key, credits)
            pipe.expire(day_key, self.day_ttl_seconds)
            pipe.execute()
        except redis_lib.RedisError as exc:
            self._redis_down.trip()
            logger.warning("credit meter: could not record %d %s credits: %s", credits, provider, exc)

    def spent(self, provider: str, day: date | str | None = None) -> int:
        """Credits spent by `provider` in total (`day=None`) or on one UTC day (date or 'YYYY-MM-DD')."""
        key = self._total_key(provider) if day is None else self._day_key(provider, day)
        value = self.redis.get(key)
        return int(value) if value is not None else 0

    def _total_key(self, provider: str) -> str:
        return f"{self.key_prefix}:{provider}:total"

    def _day_key(self, provider: str, day: date | str) -> str:
        day_str = day.isoformat() if isinstance(day, date) else date.fromisoformat(day).isoformat()
        return f"{self.key_prefix}:{provider}:day:{day_str}"


class ResponseCache:
    """JSON values in Redis under `<prefix>:<key>`, each expiring `ttl` seconds after it was set.

    A cache, never a source of truth: no method raises on a Redis failure. The first failure is
    logged and Redis is then skipped for `redis_cooldown` seconds (as `CreditMeter` does), so an
    outage costs API calls, not the caller's call, and does not flood the log. An unreadable stored
    value is a miss. `redis=None` or `ttl <= 0` disables the cache (every read is a miss).
    """

    def __init__(
        self,
        redis: redis_lib.Redis | None,
        prefix: str,
        ttl: float,
        *,
        redis_cooldown: float = 30.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self._redis_down = _Cooldown(redis_cooldown)

    @property
    def enabled(self) -> bool:
        return self.redis is not None and self.ttl > 0

    def get(self, key: str) -> Any | None:
        """The stored value, or None on a miss (use `get_many` to tell a stored null from a miss)."""
        return self.get_many([key]).get(key)

    def set(self, key: str, value: Any) -> None:
        self.set_many({key: value})

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The hits among `keys`: key → stored value (a stored JSON null is a hit with value None)."""
        keys = list(keys)
        if not keys or not self._usable():
            return {}
        try:
            stored = self.redis.mget([self._key(key) for key in keys])
        except redis_lib.RedisError as exc:
            self._trip(exc)
            return {}
        hits: dict[str, Any] = {}
        for key, raw in zip(keys, stored, strict=True):
            if raw is None:
                continue
            try:
                hits[key] = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                continue
        return hits

    def set_many(self, values: Mapping[str, Any]) -> None:
        """Store every key → JSON-serialisable value for `ttl` seconds."""
        if not values or not self._usable():
            return
        ttl_ms = max(1, round(self.ttl * 1000))
        try:
            pipe = self.redis.pipeline(transaction=False)
            for key, value in values.items():
                pipe.set(self._key(key), json.dumps(value, separators=(",", ":")), px=ttl_ms)
            pipe.execute()
        except redis_lib.RedisError as exc:
            self._trip(exc)

    def _usable(self) -> bool:
        return self.enabled and not self._redis_down.active()

    def _trip(self, exc: Exception) -> None:
        self._redis_down.trip()
        logger.warning(
            "response cache %s: Redis unavailable (%s); calling without the cache for %.0fs",
            self.prefix,
            exc,
            self._redis_down.seconds,
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"


def json_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as a `Decimal`; None for JSON null.

    Raises ValueError for anything else (booleans, NaN, infinities, non-numeric text). A float
    from the JSON decoder is converted through `repr`, the shortest text that reads back as the
    same double: the same digits the provider's encoder (JavaScript, Go, Python) wrote, so no
    binary-float noise such as 0.1000000000000000055 gets into a price.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"expected a numeric string, got {value[:40]!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a finite number, got {value[:40]!r}")
        return number
    raise ValueError(f"expected a number, got {type(value).__name__}")
