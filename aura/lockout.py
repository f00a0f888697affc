"""Nobody guesses a password: failed sign-ins are counted per IP address and per username
(django-ratelimit, in the Redis cache), and past the limit the login forms refuse to check any
password — the right one included — until the window ends, saying so, with `Retry-After`.

Both login forms use it: the site's (`/accounts/login/`) and the admin's (`/admin/login/`), and so
does the API's sign-in (aura.api_auth), which names the username it tries in `request.sign_in_username`
(its body is JSON, not a form).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)
GROUP = "login-failures"


def _username_key(group: str, request: HttpRequest) -> str:
    username = getattr(request, "sign_in_username", None)
    if username is None:
        username = request.POST.get("username", "")
    return username.strip().lower()[:150]


def _limits(request: HttpRequest) -> list[tuple[str, str | Callable, str]]:
    """(what is limited, django-ratelimit key, rate) that apply to this attempt."""
    limits: list[tuple[str, str | Callable, str]] = [("address", "ip", settings.LOGIN_FAILURES_PER_IP)]
    if _username_key(GROUP, request):
        limits.append(("account", _username_key, settings.LOGIN_FAILURES_PER_USERNAME))
    return limits


def seconds_locked(request: HttpRequest) -> tuple[int, str] | None:
    """(seconds until sign-in may be tried again, "address" or "account") when this request's IP
    address or the username it tries has used up its failed attempts; None otherwise."""
    try:
        for what, key, rate in _limits(request):
            usage = get_usage(request, group=f"{GROUP}:{what}", key=key, rate=rate, method="POST")
            if usage is not None and usage["limit"] and usage["count"] >= usage["limit"]:
                return max(1, usage["time_left"]), what
    except Exception as error:  # noqa: BLE001 - a cache outage must not stop people signing in
        logger.error("login lockout: cannot read the failure counts, not limiting: %s", error)
    return None


def count_failure(request: HttpRequest) -> None:
    try:
        for what, key, rate in _limits(request):
            get_usage(request, group=f"{GROUP}:{what}", key=key, rate=rate, method="POST", increment=True)
    except Exception as error:  # noqa: BLE001
        logger.error("login lockout: cannot count a failed sign-in: %s", error)


def locked_message(seconds: int, what: str) -> str:
    minutes = math.ceil(seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    whose = "from this address" if what == "address" else "for this account"
    return f"Too many failed sign-in attempts {whose}. Sign-in is locked; try again in {wait}."


class LockoutMixin:
    """For an AuthenticationForm: refuse to check the password while locked out, count each failure."""

    request: HttpRequest

    def clean(self):
        locked = seconds_locked(self.request) if self.request is not None else None
        if locked is not None:
            self.request.login_locked_for = locked[0]
            logger.warning("login lockout: refused a sign-in attempt (%s locked for %d s)", locked[1], locked[0])
            raise forms.ValidationError(locked_message(*locked), code="locked_out")
        try:
            return super().clean()
        except forms.ValidationError:
            if self.request is not None:
                count_failure(self.request)
            raise


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    pass


def answers_locked_out(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A login view whose refusals while locked out are 429 with `Retry-After` (the form, with the
    message, is still the page)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        seconds = getattr(request, "login_locked_for", None)
        if seconds is not None:
            response.status_code = 429
            response["Retry-After"] = str(seconds)
        return response

    return wrapper
