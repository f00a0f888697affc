"""Signal panels other apps' pages include ({% load signal_panels %}): the dashboard's latest signals,
a token page's signals and safety checks. Their views stay ignorant of signals; the panels read
stored rows only."""

from __future__ import annotations

from django import template
from django.db.models import IntegerField

from aura.prepared import Bind, Prepared
from signals import fragments, selectors
from signals.models import TokenSafety

register = template.Library()
PANEL_SIZE = 10

_LATEST_SIGNALS = Prepared(lambda: selectors.signal_feed()[:PANEL_SIZE])
_TOKEN_SIGNALS = Prepared(lambda: selectors.token_signals(Bind("token", IntegerField()))[: selectors.FEED_SIZE])
_TOKEN_SAFETY = Prepared(lambda: TokenSafety.objects.filter(token_id=Bind("token", IntegerField()))[:1])


@register.inclusion_tag("signals/_panel.html")
def signals_panel() -> dict:
    return {
        "signals": _LATEST_SIGNALS.rows(),
        "signal_filter": selectors.SignalFilter(),
        "kind_scores": fragments.scores_by_kind(),
    }


@register.inclusion_tag("signals/_token_panel.html")
def token_signals(token) -> dict:
    return {
        "token": token,
        "signals": _TOKEN_SIGNALS.rows(token=token.id),
        "signal_filter": selectors.SignalFilter(token=token.mint),
        "kind_scores": fragments.scores_by_kind(),
        "safety": _TOKEN_SAFETY.first(token=token.id),
    }
