"""A table's rows in one call (whales.rows): `{% swap_rows swaps %}`, `{% leaderboard_rows rows %}`, ...;
and below a swap feed, its one "Load older swaps" link: `{% load_older swaps %}`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from whales import rows as rendered
from whales.models import Swap, TrackedWallet, WalletStats
from whales.selectors import FEED_PAGE_SIZE

register = template.Library()


@register.simple_tag
def swap_rows(swaps: Iterable[Swap]) -> SafeString:
    return mark_safe(rendered.swap_rows(swaps))  # escaped value by value in whales.rows


@register.simple_tag(takes_context=True)
def leaderboard_rows(context: template.Context, rows: Iterable[WalletStats]) -> SafeString:
    token = str(context.get("csrf_token") or "")
    return mark_safe(rendered.leaderboard_rows(rows, csrf_token="" if token == "NOTPROVIDED" else token))


def _header(css: str, label: str, title: str, sorted_by: bool, descending: bool, link: str, extra: str = "") -> str:
    aria = f' aria-sort="{"descending" if descending else "ascending"}"' if sorted_by else ""
    titled = f' title="{conditional_escape(title)}"' if title else ""
    return (
        f'<th scope="col" class="{conditional_escape(css)}"{aria}{titled}><a href="?{link}"{extra}>'
        f"{conditional_escape(label)}</a></th>\n"
    )


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, name: str, label: str, css: str, title: str = "") -> SafeString:
    """A leaderboard column's header: a link sorting by it (`sort_links`), marked when it is the sort
    (`query`); with `sort_target`, htmx swaps that element rather than loading the page."""
    query = context.get("query")
    link = conditional_escape((context.get("sort_links") or {}).get(name, ""))
    target = context.get("sort_target")
    swap = (
        f' hx-get="?{link}" hx-target="{conditional_escape(target)}" hx-swap="outerHTML" hx-push-url="true"'
        if target
        else ""
    )
    sorted_by = getattr(query, "sort", None) == name
    return mark_safe(_header(css, label, title, sorted_by, getattr(query, "descending", False), link, swap))


@register.simple_tag(takes_context=True)
def holder_header(context: template.Context, name: str, label: str, css: str = "", title: str = "") -> SafeString:
    """A token page holders table's column header: a link sorting by it (`sort_links`), marked when it
    is the sort (`sort`, `descending`)."""
    link = conditional_escape((context.get("sort_links") or {}).get(name, ""))
    sorted_by = context.get("sort") == name
    return mark_safe(_header(css, label, title, sorted_by, bool(context.get("descending")), f"{link}#holders"))


@register.simple_tag
def win_rate(stats: WalletStats) -> SafeString:
    """A window's win rate with its interval and sample size (the leaderboard's cell)."""
    return mark_safe(rendered.stats_win_rate_cell(stats))  # escaped value by value in whales.rows


@register.simple_tag
def wallet_stats(wallet: TrackedWallet, windows: list, oob: bool = False) -> SafeString:
    """The wallet page's figures per window (`#wallet-stats`), as its pushes send them."""
    return mark_safe(rendered.wallet_stats(wallet, windows, oob=bool(oob)))  # escaped value by value in whales.rows


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
