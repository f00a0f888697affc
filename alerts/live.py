"""What the alerts app pushes to a user's open pages, after commit: the banner of open notices (a
channel failing), the same partial every page renders, swapped in by its id."""

from __future__ import annotations

from django.template.loader import render_to_string

from alerts.selectors import open_notices
from aura import listeners, realtime


def push_notices(user_id: int) -> None:
    """Replace the notice banner on every open page of this user's, and nobody else's."""
    group = realtime.user_group(user_id)
    if group not in listeners.listened([group]):
        return  # no page of theirs is open: the next one renders the banner
    html = render_to_string("alerts/_notices.html", {"alert_notices": open_notices(user_id), "oob": True})
    realtime.send_html(group, html)
