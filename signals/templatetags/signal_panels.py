"""Signal panels other apps' pages include ({% load signal_panels %}): the dashboard's latest signals,
a token page's signals and safety checks. Their views stay ignorant of signals; the panels read
stored rows only."""

from __future__ import annotations

from django import template

from signals import fragments, selectors
from signals.models import TokenSafety

register = template.Library()
PANEL_SIZE = 10


@register.inclusion_tag("signals/_panel.html")
def signals_panel() -> dict:
    return {
        "signals": list(selectors.signal_feed()[:PANEL_SIZE]),
        "signal_filter": selectors.SignalFilter(),
        "kind_scores": fragments.scores_by_kind(),
    }


@register.inclusion_tag("signals/_token_panel.html")
def token_signals(token) -> dict:
    return {
        "token": token,
        "signals": list(selectors.token_signals(token.id)[: selectors.FEED_SIZE]),
        "signal_filter": selectors.SignalFilter(token=token.mint),
        "kind_scores": fragments.scores_by_kind(),
        "safety": TokenSafety.objects.filter(token=token).first(),
    }
