"""The API's rate limits, counted in the Redis cache: per IP address for anonymous requests and for the
sign-in and token endpoints, per user for signed-in clients. Past a limit: 429 with `Retry-After`.

Each limit is a sliding window kept as a sorted set of request times under the cache's key, checked and
updated by one script: one Redis round trip a request (DRF's own throttle reads the pickled history and
writes it back, two round trips and the whole list each way).

Rates are written as django-ratelimit's ("100/m", "5/15m"), the form the login lockout's settings use.
"""

from __future__ import annotations

import itertools
import os
import re
from functools import cache
from typing import TYPE_CHECKING

from django.core.cache import cache as default_cache
from redis.commands.core import Script
from rest_framework import permissions, throttling
from rest_framework.exceptions import Throttled

from aura.cache import shared_client

if TYPE_CHECKING:  # rest_framework.views loads the permission classes of the settings: this module
    from rest_framework.request import Request
    from rest_framework.views import APIView

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)?([smhd])")


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """(requests, seconds) of a rate like "100/m" or "5/15m"; (None, None) for no rate."""
    if rate is None:
        return None, None
    match = RATE.fullmatch(rate)
    if match is None:
        raise ValueError(f"{rate!r} is not a rate like 100/m or 5/15m")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * PERIOD_SECONDS[unit]


# KEYS[1] the window's sorted set; ARGV now (ms), window (ms), limit, this request's member. Drops the
# times the window has passed, and adds this request's when fewer than `limit` remain. Answers
# {allowed, times in the window, ms until the oldest leaves it}.
SLIDING_WINDOW = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, count + 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, count, tonumber(oldest[2]) + window - now}
"""
_requests = itertools.count()


@cache
def sliding_window() -> Script:
    """The script, registered once per process (EVALSHA, loaded again if Redis forgot it)."""
    return shared_client().register_script(SLIDING_WINDOW)


class _Rate(throttling.SimpleRateThrottle):
    """DRF's sliding window, the history kept in Redis by SLIDING_WINDOW."""

    # Not DRF's key: a process still running DRF's throttle (during a deploy) would fail to unpickle
    # a sorted set, and this one would find its pickled list.
    cache_format = "throttle_window_%(scope)s_%(ident)s"

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return parse_rate(rate)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        member = f"{self.now!r}:{os.getpid()}:{next(_requests)}"  # unique though times repeat
        allowed, self.count, self.remaining_ms = sliding_window()(
            keys=[default_cache.make_key(self.key)],
            args=[int(self.now * 1000), self.duration * 1000, self.num_requests, member],
        )
        return bool(allowed)

    def wait(self) -> float | None:
        """Seconds until a request would be allowed again, as DRF reckons it; None when never."""
        available = self.num_requests - self.count + 1
        if available <= 0:
            return None
        return self.remaining_ms / 1000 / available


class RequestsPerUser(_Rate):
    """Signed-in clients: API_USER_RATE per user. Anonymous requests are counted before permissions
    (AnonymousRequestsPerAddress), not here."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class RequestsPerAddress(_Rate):
    """Every request to a view, signed in or not, per IP address (API_AUTH_RATE): the sign-in and token
    endpoints, where guessing happens."""

    scope = "auth"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AnonymousRequestsPerAddress(permissions.BasePermission):
    """API_ANONYMOUS_RATE per IP address for requests without credentials, on every endpoint.

    A permission, not a throttle, because DRF checks permissions before throttles: an anonymous request
    to an endpoint that needs a user is refused (401) before any throttle runs, so a throttle would never
    count it. Listed first, this counts it, and past the rate answers 429 with `Retry-After`.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        throttle = _AnonymousRate()
        if not throttle.allow_request(request, view):
            raise Throttled(wait=throttle.wait())
        return True


class _AnonymousRate(_Rate):
    scope = "anonymous"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
