"""A table's rows in one call (whales.rows): `{% swap_rows swaps %}`, `{% leaderboard_rows rows %}`, ...;
and below a swap feed, its one "Load older swaps" link: `{% load_older swaps %}`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from whales import rows as rendered
from whales.models import Swap, WalletStats
from whales.selectors import FEED_PAGE_SIZE

register = template.Library()


@register.simple_tag
def swap_rows(swaps: Iterable[Swap]) -> SafeString:
    return mark_safe(rendered.swap_rows(swaps))  # escaped value by value in whales.rows


@register.simple_tag(takes_context=True)
def leaderboard_rows(context: template.Context, rows: Iterable[WalletStats]) -> SafeString:
    token = str(context.get("csrf_token") or "")
    return mark_safe(rendered.leaderboard_rows(rows, csrf_token="" if token == "NOTPROVIDED" else token))


@register.simple_tag
def win_rate(stats: WalletStats) -> SafeString:
    """A window's win rate with its interval and sample size (the leaderboard's cell)."""
    return mark_safe(  # escaped value by value in whales.rows
        rendered.win_rate_cell(
            stats.win_rate,
            stats.win_rate_low,
            stats.win_rate_high,
            stats.cycle_wins,
            stats.cycles,
            stats.rankable,
            stats.confidence,
        )
    )


@register.simple_tag
def position_rows(positions: Iterable[object], waiting: Iterable[object]) -> SafeString:
    return mark_safe(rendered.position_rows(positions, waiting))


@register.simple_tag
def cycle_rows(cycles: Iterable[object]) -> SafeString:
    return mark_safe(rendered.cycle_rows(cycles))


@register.simple_tag
def holder_rows(positions: Iterable[object], holding: bool = True) -> SafeString:
    return mark_safe(rendered.holder_rows(positions, holding=holding))


@register.inclusion_tag("whales/_load_older.html", takes_context=True)
def load_older(context: template.Context, swaps: Sequence[Swap]) -> dict:
    """The feed's page before `swaps`' oldest row, as the feed view serves it (`?before=<id>`, with the
    feed's scope and filters, `feed_query`): a full page to a plain GET, a fragment to htmx.

    `has_more` in the context says whether older rows exist; without it (a page that read one page of
    the feed and no more) a full page counts as "maybe", and a shorter one leaves the link hidden
    until the live feed drops rows off its end (static/js/aura.js points it at the oldest row kept).
    """
    feed_query = str(context.get("feed_query") or "")
    params = [feed_query] if feed_query else []
    if swaps:
        params.append(f"before={swaps[-1].id}")
    has_more = context.get("has_more")
    return {
        "url": reverse("feed") + ("?" + "&".join(params) if params else ""),
        "page_size": FEED_PAGE_SIZE,
        "shown": len(swaps) >= FEED_PAGE_SIZE if has_more is None else has_more,
        "whole_history": has_more is False,
    }
