"""What every page needs from alerts: the browser alert settings its script reads, and open notices."""

from __future__ import annotations

from django.http import HttpRequest

from alerts.selectors import browser_alerts, open_notices

ALERT_PAGES = ("alert_settings", "alert_channels", "alert_rules", "alert_log")


def alerts(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"browser_alerts": browser_alerts(user), "alert_notices": open_notices(user.pk), "alert_pages": ALERT_PAGES}
