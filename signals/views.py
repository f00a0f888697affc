"""The signals page: a live feed of token signals with their reasons, and how each kind has done."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aura import realtime
from signals import fragments, selectors
from signals.models import Kind


@login_required
@require_GET
def signals_page(request: HttpRequest) -> HttpResponse:
    """`?kind=&min_score=&token=` narrow the feed (pushed signals too, in the page); `?fragment=feed`
    is the feed alone, for a page catching up after a reconnect."""
    narrowed = selectors.SignalFilter.from_query(request.GET)
    context = {
        "signals": list(selectors.signal_feed(narrowed)[: selectors.FEED_SIZE]),
        "signal_filter": narrowed,
        "kind_scores": fragments.scores_by_kind(),
    }
    if request.GET.get("fragment") == "feed":
        return render(request, "signals/_signal_feed.html", context)
    context.update(
        kinds=Kind.choices,
        scoreboard=selectors.scoreboard(),
        hit_threshold=settings.SIGNAL_HIT_THRESHOLD,
        live_groups=realtime.FEED_SIGNALS,
    )
    return render(request, "signals/signals.html", context)
