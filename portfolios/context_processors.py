"""What every page's script needs to alert the user: their preferences and the wallets they follow."""

from __future__ import annotations

from django.http import HttpRequest

from portfolios.actions import preferences_of


def alerts(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    preference = preferences_of(user)
    if not preference.enabled:
        return {"alert_preference": preference, "followed_addresses": ""}
    followed = user.follows.values_list("wallet__address", flat=True) if preference.scope == "followed" else []
    return {"alert_preference": preference, "followed_addresses": ",".join(followed)}
