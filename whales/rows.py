"""The rows of the hot tables (swap feeds, the leaderboard), rendered in Python: pages show 50–100 of
them per request and pushes send them one by one, so they skip the template engine's per-variable
lookups (~0.8 ms a row there, ~40 µs here). Pages and pushes call the same functions, so a pushed row
is the row the page renders. Every value from the chain or a user is escaped here.

Ages are written as the page's script rewrites them every second ("45s", "12m", "3h", "2d"), so a
page reads the same before and after its script runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from html import escape
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone

from aura.templatetags.numbers import (
    PENDING_TEXT,
    format_amount,
    format_percent,
    format_usd,
    pnl_class,
)
from whales.models import BackfillState, Swap, WalletStats

_LOADING = (BackfillState.PENDING, BackfillState.RUNNING)


@cache
def _url_prefix(name: str) -> tuple[str, str]:
    """(before, after) the one argument of the URL named `name`, so a row joins strings instead of
    resolving the URL again."""
    marker = "ARGUMENT"
    before, _, after = reverse(name, args=[marker]).partition(marker)
    return before, after


def url(name: str, argument: str) -> str:
    before, after = _url_prefix(name)
    return f"{before}{quote(argument, safe='')}{after}"


def age(moment: datetime, now: datetime) -> str:
    """What static/js/aura.js writes into a `time.age`: "45s", "12m", "3h", "2d"."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return f"{max(0, int(seconds))}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86_400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86_400)}d"


def _iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _pending_or(formatted: str, reason: str) -> str:
    """The formatted figure (escaped), or the "pricing…" / "loading…" note in its place."""
    if reason in PENDING_TEXT:
        text, title = PENDING_TEXT[reason]
        return f'<span class="pending" title="{escape(title)}">{escape(text)}</span>'
    return escape(formatted)


# --- swaps -----------------------------------------------------------------------------------------

# What a swap row reads: pages load only these (`.only(*SWAP_ROW_FIELDS)`), a third less to build.
SWAP_ROW_FIELDS = (
    "id",
    "signature",
    "side",
    "wallet__address",
    "wallet__label",
    "token__mint",
    "token__symbol",
    "token__name",
    "token_amount",
    "quote_mint",
    "quote_amount",
    "usd_value",
    "block_time",
    "slot",
    "source",
)


def swap_row(swap: Swap, now: datetime | None = None) -> str:
    """One row of a swap feed (`swap` with its wallet and token selected)."""
    now = now or timezone.now()
    wallet, token = swap.wallet, swap.token
    side = escape(swap.side)
    address = escape(wallet.address)
    label = escape(str(wallet))
    mint = escape(token.mint)
    symbol = escape(token.display_symbol)
    quote_asset = escape(swap.quote_asset)
    usd_value = swap.usd_value
    if usd_value is None:
        pricing = _pending_or("", "pricing")
        usd = f'<span class="muted">{escape(format_amount(swap.quote_amount))} {quote_asset}</span> {pricing}'
    else:
        usd = escape(format_usd(usd_value))
    return (
        f'<div class="feed-row {side}" id="swap-{swap.id}" data-swap-id="{swap.id}"'
        f' data-usd="{"" if usd_value is None else escape(str(usd_value))}" data-side="{side}"'
        f' data-wallet="{address}" data-wallet-label="{label}" data-token="{mint}" data-token-symbol="{symbol}">\n'
        f'  <div class="line">\n'
        f'    <a class="wallet" href="{escape(url("wallet", wallet.address))}" title="{address}">{label}</a>\n'
        f'    <span class="side {side}">{side}</span>\n'
        f'    <time class="age" datetime="{_iso(swap.block_time)}"'
        f' title="{_when(swap.block_time)} UTC · slot {swap.slot} · {escape(swap.source.lower())}">'
        f"{age(swap.block_time, now)}</time>\n"
        f"  </div>\n"
        f'  <div class="line">\n'
        f'    <span class="amount" title="{escape(str(swap.token_amount))}">{escape(format_amount(swap.token_amount))}'
        f' <a href="{escape(url("token", token.mint))}" class="symbol symbol-of-{mint}"'
        f' title="{escape(token.name)} · {mint}">{symbol}</a></span>\n'
        f'    <span class="usd" title="{escape(str(swap.quote_amount))} {quote_asset}">{usd}</span>\n'
        f'    <a class="tx" href="https://solscan.io/tx/{escape(swap.signature)}" target="_blank"'
        f' rel="noopener noreferrer" title="The transaction on Solscan">Solscan ↗</a>\n'
        f"  </div>\n"
        f"</div>"
    )


def swap_rows(swaps: Iterable[Swap]) -> str:
    now = timezone.now()
    return "\n".join(swap_row(swap, now) for swap in swaps)


# --- leaderboard -----------------------------------------------------------------------------------


def win_rate_cell(
    rate: object, low: object, high: object, wins: int, n: int, rankable: bool, confidence: str, min_cycles: int = 5
) -> str:
    """A win rate with its Wilson interval and sample size, "—" when no cycle closed."""
    if rate is None:
        return '<span class="muted" title="No closed cycles with complete cost basis in this window">—</span>'
    unranked = "" if rankable else " unranked"
    note = "" if rankable else f"; not ranked by win rate below {min_cycles} cycles"
    interval = f"{format_percent(low)} – {format_percent(high)}"
    title = f"{wins} of {n} closed cycles won; 95 % Wilson interval {interval}{note}"
    return (
        f'<span class="rate{unranked}" title="{escape(title)}">{format_percent(rate, 0)}</span>'
        f' <span class="badge conf-{escape(confidence)}" title="confidence from the width of the 95 % interval">'
        f"n={n}</span>"
    )


_INCOMPLETE_MARKER = (
    '\n      <span class="marker incomplete" title="Incomplete cost basis: a sell exceeded the holdings we know of'
    " (history older than our backfill, or tokens that came in by transfer). That part is left out of P&amp;L"
    ' and win rate.">incomplete</span>'
)


_OOB = ' hx-swap-oob="true"'


def _figure(value: object, text: str, reason: str, css: str, column: str) -> str:
    return f'  <td class="num {css} {pnl_class(value)}" data-col="{column}">{_pending_or(text, reason)}</td>\n'


def leaderboard_row(stats: WalletStats, oob: bool = False, csrf_token: str = "", now: datetime | None = None) -> str:
    """One leaderboard row (`stats` with its wallet selected). The unfollow form shows on the
    Following page only; `csrf_token` fills it (pushed rows go without one)."""
    now = now or timezone.now()
    wallet = stats.wallet
    address = escape(wallet.address)
    label = escape(str(wallet))
    follow_url = escape(url("follow", wallet.address))
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">' if csrf_token else ""
    tags = "".join(f' <span class="tag">{escape(tag)}</span>' for tag in wallet.tags)
    markers = ""
    if wallet.backfill_state in _LOADING:
        progress = wallet.backfill_progress()
        shown = "queued" if progress is None else f"{progress} %"
        markers += (
            '\n      <span class="marker pending"'
            ' title="Loading the wallet\'s history: figures grow as it comes in">'
            f"history {shown}</span>"
        )
    if stats.incomplete:
        markers += _INCOMPLETE_MARKER
    if waiting := stats.waiting_for_prices:
        markers += (
            '\n      <span class="marker pending" title="Not in the figures until they have a USD price:'
            f' {stats.pending_trades} trade(s), {stats.unpriced_positions} open position(s)">pricing {waiting}</span>'
        )
    last_active = (
        f'<time class="age" datetime="{_iso(stats.last_active)}">{age(stats.last_active, now)}</time>'
        if stats.last_active
        else "—"
    )
    volume = _pending_or(format_usd(stats.volume_usd), stats.volume_pending)
    win_rate = win_rate_cell(
        stats.win_rate,
        stats.win_rate_low,
        stats.win_rate_high,
        stats.cycle_wins,
        stats.cycles,
        stats.rankable,
        stats.confidence,
    )
    return (
        f'<tr id="wallet-row-{stats.wallet_id}" class="lb-row"{_OOB if oob else ""}>\n'
        f'  <td class="rank"></td>\n'
        f'  <td class="who">\n'
        f'    <a href="{escape(url("wallet", wallet.address))}" class="wallet-link" title="{label} · {address}">'
        f"{label}</a>\n"
        f'    <form method="post" action="{follow_url}" class="unfollow" hx-post="{follow_url}"'
        f' hx-target="closest tr" hx-swap="delete">{csrf}<input type="hidden" name="follow" value="0">'
        f'<input type="hidden" name="next" value="following"><button type="submit" class="link"'
        f' title="Stop following {label}">Unfollow</button></form>\n'
        f'    <div class="sub mono muted"><span title="{address}">{escape(wallet.short_address)}</span>'
        f"{tags}{markers}</div>\n"
        f"  </td>\n"
        + _figure(stats.total_pnl, format_usd(stats.total_pnl, signed=True), stats.total_pending, "p1", "total")
        + _figure(
            stats.realized_pnl, format_usd(stats.realized_pnl, signed=True), stats.realized_pending, "p2", "realized"
        )
        + _figure(
            stats.unrealized_pnl,
            format_usd(stats.unrealized_pnl, signed=True),
            stats.unrealized_pending,
            "p2",
            "unrealized",
        )
        + _figure(stats.roi, format_percent(stats.roi), stats.roi_pending, "p2", "roi")
        + f'  <td class="num p1 winrate" data-col="win_rate">{win_rate}</td>\n'
        f'  <td class="num p3 muted" data-col="sell_win_rate" title="Sell-level win rate ({stats.sell_wins} of'
        f' {stats.sells} sells): inflated by scaling out">{format_percent(stats.sell_win_rate, 0)}</td>\n'
        f'  <td class="num p3" data-col="cycles">{stats.cycles}</td>\n'
        f'  <td class="num p3" data-col="volume">{volume}</td>\n'
        f'  <td class="num p3" data-col="swaps">{stats.swap_count}</td>\n'
        f'  <td class="num p2" data-col="last_active">{last_active}</td>\n'
        f"</tr>"
    )


def leaderboard_rows(rows: Iterable[WalletStats], csrf_token: str = "") -> str:
    now = timezone.now()
    return "\n".join(leaderboard_row(stats, csrf_token=csrf_token, now=now) for stats in rows)
