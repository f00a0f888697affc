"""The API's rate limits, counted in the Redis cache: per IP address for anonymous requests and for the
sign-in and token endpoints, per user for signed-in clients. Past a limit: 429 with `Retry-After`.

Rates are written as django-ratelimit's ("100/m", "5/15m"), the form the login lockout's settings use.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rest_framework import permissions, throttling
from rest_framework.exceptions import Throttled

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


class _Rate(throttling.SimpleRateThrottle):
    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return parse_rate(rate)


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
