"""The rows of the hot tables (swap feeds, the leaderboard, a wallet's positions and figures per
window), rendered in Python: pages show 50–100 of them per request and a booking pushes them for
every watched wallet, so they skip the template engine's per-variable lookups (~0.8 ms a row there,
~40 µs here). Pages and pushes call the same functions, so a pushed row is the row the page renders.
Every value from the chain or a user is escaped here.

Ages are written as the page's script rewrites them every second ("45s", "12m", "3h", "2d"), so a
page reads the same before and after its script runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from functools import cache
from html import escape
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from aura.templatetags.numbers import (
    PENDING_TEXT,
    duration,
    flow_class,
    format_amount,
    format_percent,
    format_price,
    format_usd,
    pnl_class,
)
from whales.models import BackfillState, Swap, TrackedWallet, WalletStats, Window

_LOADING = (BackfillState.PENDING, BackfillState.RUNNING)


@cache
def _url_prefix(name: str, marker: str) -> tuple[str, str]:
    """(before, after) the one argument of the URL named `name`, so a row joins strings instead of
    resolving the URL again."""
    before, _, after = reverse(name, args=[marker]).rpartition(marker)
    return before, after


def url(name: str, argument: str | int) -> str:
    if isinstance(argument, int):
        before, after = _url_prefix(name, "987654321")
        return f"{before}{argument}{after}"
    before, after = _url_prefix(name, "ARGUMENT")
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


def _plain(value: object) -> str:
    """A number as a title shows it: every digit, never an exponent (as the template engine writes it)."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def local_now() -> datetime:
    """Now, in the current time zone. Rows write their moments in `now`'s zone: reading the current
    zone means a context-local lookup (tens of µs under ASGI), once per table rather than per cell."""
    return timezone.localtime()


def _iso(moment: datetime, now: datetime) -> str:
    return moment.astimezone(now.tzinfo).isoformat()


def _when(moment: datetime, now: datetime) -> str:
    return moment.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M:%S")


def _pending_or(formatted: str, reason: str) -> str:
    """The formatted figure (escaped), or the "pricing…" / "loading…" note in its place."""
    if reason in PENDING_TEXT:
        text, title = PENDING_TEXT[reason]
        return f'<span class="pending" title="{escape(title)}">{escape(text)}</span>'
    return escape(formatted)


# --- rows remembered ----------------------------------------------------------------------------------

# A row is a pure function of its instances' field values, so the text of a row already written is kept,
# keyed by every value of every model instance it reads (whatever fields were loaded, annotations and
# attributes a view set included): a changed figure, label or price is a new key, never a stale row.
# Only what depends on the moment of the request (ages) or on the reader (the CSRF token) is written
# each time, into the slots the remembered parts leave. A page of 50–200 rows then costs a key per
# row instead of a few dozen number formats and escapes each.
_SLOT = "\x00"  # splits a remembered row where per-request text goes; PostgreSQL text never holds NUL
_REMEMBERED_ROWS = 20_000
_remembered: dict[tuple, list[str]] = {}


def _values(*instances: object) -> tuple:
    """The instances' values as a key. A Decimal goes in as its text: 1.5 and 1.500 are equal, but a
    row writes some values digit for digit."""
    return tuple(
        [
            str(value) if type(value) is Decimal else tuple(value) if type(value) is list else value
            for instance in instances
            for name, value in vars(instance).items()
            if name[0] != "_"
        ]
    )


def _parts(key: tuple, write: Callable[[], str]) -> list[str]:
    """The remembered parts of the row `key` names, written (and split at each _SLOT) if new."""
    try:
        parts = _remembered.get(key)
    except TypeError:  # an unhashable value (a dict): written every time
        return write().split(_SLOT)
    if parts is None:
        parts = write().split(_SLOT)
        if len(_remembered) >= _REMEMBERED_ROWS:
            _remembered.clear()
        _remembered[key] = parts
    return parts


# --- swaps -----------------------------------------------------------------------------------------

# What a swap row reads: pages load only these (`.only(*SWAP_ROW_FIELDS)`), a third less to build.
# In the order of selectors.FeedSwap's fields, then its wallet's and its token's, which feeds read.
SWAP_ROW_FIELDS = (
    "id",
    "signature",
    "side",
    "token_amount",
    "quote_mint",
    "quote_amount",
    "usd_value",
    "block_time",
    "slot",
    "source",
    "wallet__address",
    "wallet__label",
    "token__mint",
    "token__symbol",
    "token__name",
)


def swap_row(swap: Swap, now: datetime | None = None) -> str:
    """One row of a swap feed (`swap` with its wallet and token selected)."""
    now = now or local_now()
    key = ("swap", now.tzinfo, *_values(swap, swap.wallet, swap.token))
    head, tail = _parts(key, lambda: _swap_row_around_age(swap, now))
    return f"{head}{age(swap.block_time, now)}{tail}"


def _swap_row_around_age(swap: Swap, now: datetime) -> str:
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
        f' data-usd="{"" if usd_value is None else escape(_plain(usd_value))}" data-side="{side}"'
        f' data-wallet="{address}" data-wallet-label="{label}" data-token="{mint}" data-token-symbol="{symbol}">\n'
        f'  <div class="line">\n'
        f'    <a class="wallet" href="{escape(url("wallet", wallet.address))}" title="{address}">{label}</a>\n'
        f'    <span class="side {side}">{side}</span>\n'
        f'    <time class="age" datetime="{_iso(swap.block_time, now)}"'
        f' title="{_when(swap.block_time, now)} UTC · slot {swap.slot} · {escape(swap.source.lower())}">'
        f"{_SLOT}</time>\n"
        f"  </div>\n"
        f'  <div class="line">\n'
        f'    <span class="amount" title="{escape(_plain(swap.token_amount))}">'
        f"{escape(format_amount(swap.token_amount))}"
        f' <a href="{escape(url("token", token.mint))}" class="symbol symbol-of-{mint}"'
        f' title="{escape(token.name)} · {mint}">{symbol}</a></span>\n'
        f'    <span class="usd" title="{escape(_plain(swap.quote_amount))} {quote_asset}">{usd}</span>\n'
        f'    <a class="tx" href="https://solscan.io/tx/{escape(swap.signature)}" target="_blank"'
        f' rel="noopener noreferrer" title="The transaction on Solscan">Solscan ↗</a>\n'
        f"  </div>\n"
        f"</div>"
    )


def swap_rows(swaps: Iterable[Swap]) -> str:
    now = local_now()
    return "\n".join(swap_row(swap, now) for swap in swaps)


# --- leaderboard -----------------------------------------------------------------------------------


def stats_win_rate_cell(stats: WalletStats) -> str:
    """`win_rate_cell` of a window's stats row."""
    return win_rate_cell(
        stats.win_rate,
        stats.win_rate_low,
        stats.win_rate_high,
        stats.cycle_wins,
        stats.cycles,
        stats.rankable,
        stats.confidence,
    )


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


# What a leaderboard row reads: every figure of its stats, and of its wallet only these (its label,
# tags and history progress), so a page builds 7 of the wallet's 23 columns.
LEADERBOARD_ROW_FIELDS = (
    *(field.name for field in WalletStats._meta.concrete_fields),
    "wallet__address",
    "wallet__label",
    "wallet__tags",
    "wallet__backfill_state",
    "wallet__backfill_started_at",
    "wallet__backfill_until",
    "wallet__backfill_reached",
)


def leaderboard_row(stats: WalletStats, oob: bool = False, csrf_token: str = "", now: datetime | None = None) -> str:
    """One leaderboard row (`stats` with its wallet selected). The unfollow form shows on the
    Following page only; `csrf_token` fills it (pushed rows go without one)."""
    now = now or local_now()
    head, tail = _parts(("leaderboard", oob, *_values(stats, stats.wallet)), lambda: _leaderboard_row_parts(stats, oob))
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">' if csrf_token else ""
    last_active = (
        f'<time class="age" datetime="{_iso(stats.last_active, now)}">{age(stats.last_active, now)}</time>'
        if stats.last_active
        else "—"
    )
    return f'{head}{csrf}{tail}  <td class="num p2" data-col="last_active">{last_active}</td>\n</tr>'


def _leaderboard_row_parts(stats: WalletStats, oob: bool) -> str:
    """The row up to its last-active cell, with a _SLOT where the unfollow form's CSRF token goes."""
    wallet = stats.wallet
    address = escape(wallet.address)
    label = escape(str(wallet))
    follow_url = escape(url("follow", wallet.address))
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
    volume = _pending_or(format_usd(stats.volume_usd), stats.volume_pending)
    win_rate = stats_win_rate_cell(stats)
    return (
        f'<tr id="wallet-row-{stats.wallet_id}" class="lb-row"{_OOB if oob else ""}>\n'
        f'  <td class="rank"></td>\n'
        f'  <td class="who">\n'
        f'    <a href="{escape(url("wallet", wallet.address))}" class="wallet-link" title="{label} · {address}">'
        f"{label}</a>\n"
        f'    <form method="post" action="{follow_url}" class="unfollow" hx-post="{follow_url}"'
        f' hx-target="closest tr" hx-swap="delete">{_SLOT}<input type="hidden" name="follow" value="0">'
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
    )


def leaderboard_rows(rows: Iterable[WalletStats], csrf_token: str = "") -> str:
    now = local_now()
    return "\n".join(leaderboard_row(stats, csrf_token=csrf_token, now=now) for stats in rows)


# --- a wallet's figures per window ------------------------------------------------------------------

_STATS_HEAD = (
    '\n  <div class="table-wrap"><table class="table compact">\n'
    '    <thead><tr><th scope="col">Window</th><th class="num">Total P&amp;L</th><th class="num">Realized</th>'
    '<th class="num">Unrealized</th><th class="num">ROI</th><th class="num">Win rate</th><th class="num"'
    ' title="counts open positions older than 7 days and down more than 50 % as losses">Dead-bag adj.</th>'
    '<th class="num" title="inflated by scaling out">Sell win</th><th class="num">Volume</th>'
    '<th class="num">Swaps</th></tr></thead>\n'
    "    <tbody>\n    "
)


def wallet_stats(wallet: TrackedWallet, windows: list[tuple[Window, WalletStats | None]], oob: bool = False) -> str:
    """The wallet page's figures per window (`selectors.stats_by_window`) and the notes below them:
    what its page shows and its pushes replace (`#wallet-stats`)."""
    everything = windows[-1][1] if windows else None
    return (
        f'<div id="wallet-stats" class="stats-grid"{_OOB if oob else ""}>{_STATS_HEAD}'
        f"{wallet_stats_rows(windows)}\n    </tbody>\n  </table></div>\n  "
        f"{_wallet_stats_notes(wallet, everything)}\n</div>"
    )


def wallet_stats_rows(windows: Iterable[tuple[Window, WalletStats | None]]) -> str:
    return "".join(_wallet_stats_row(window, stats) for window, stats in windows)


def _wallet_stats_row(window: Window, stats: WalletStats | None) -> str:
    head = f'\n      <tr data-window="{escape(window.value)}">\n        <th>{escape(window.label)}</th>\n        '
    if stats is None:
        return f'{head}<td colspan="9" class="muted">No figures yet.</td>\n      </tr>\n    '
    cells = [
        _figure_cell(stats.total_pnl, format_usd(stats.total_pnl, signed=True), stats.total_pending, "total"),
        _figure_cell(
            stats.realized_pnl, format_usd(stats.realized_pnl, signed=True), stats.realized_pending, "realized"
        ),
        _figure_cell(
            stats.unrealized_pnl, format_usd(stats.unrealized_pnl, signed=True), stats.unrealized_pending, "unrealized"
        ),
        _figure_cell(stats.roi, format_percent(stats.roi), stats.roi_pending, "roi"),
        f'<td class="num" data-col="win_rate">{stats_win_rate_cell(stats)}\n</td>',
        _rate_cell(
            "num",
            "adjusted",
            stats.adjusted_win_rate,
            f"{stats.dead_bags} dead bag(s) counted as losses",
            stats.adjusted_win_rate_low,
            stats.adjusted_win_rate_high,
        ),
        _rate_cell(
            "num muted",
            "sell_win_rate",
            stats.sell_win_rate,
            f"{stats.sell_wins} of {stats.sells} sells",
            stats.sell_win_rate_low,
            stats.sell_win_rate_high,
        ),
        f'<td class="num" data-col="volume">{_pending_or(format_usd(stats.volume_usd), stats.volume_pending)}</td>',
        f'<td class="num" data-col="swaps">{stats.swap_count}</td>',
    ]
    return head + "".join(f"\n        {cell}" for cell in cells) + "\n        \n      </tr>\n    "


def _figure_cell(value: object, text: str, reason: str, column: str) -> str:
    return f'<td class="num {pnl_class(value)}" data-col="{column}">{_pending_or(text, reason)}</td>'


def _rate_cell(css: str, column: str, rate: object, counted: str, low: object, high: object) -> str:
    title = f"{counted}; 95 % interval {format_percent(low)} – {format_percent(high)}"
    return f'<td class="{css}" data-col="{column}" title="{escape(title)}">{escape(format_percent(rate, 0))}</td>'


def _wallet_stats_notes(wallet: TrackedWallet, everything: WalletStats | None) -> str:
    """The notes under the table (from the all-time figures and the wallet's history), each on its line."""
    incomplete = pending = unpriced = loading = ""
    if everything is not None and everything.incomplete:
        incomplete = (
            '<p class="marker-note"><span class="marker incomplete">incomplete</span> Some sells exceeded the'
            " holdings we know of (history older than our backfill, or tokens that came in by transfer): those"
            " parts are left out of P&amp;L and win rates.</p>"
        )
    if everything is not None and everything.pending_trades:
        pending = (
            f'<p class="marker-note"><span class="marker pending">pricing</span> {everything.pending_trades}'
            " trade(s) wait for a USD price at their block time (SOL/USD, or the token's price for a transfer in)"
            " and are not counted yet.</p>"
        )
    if everything is not None and (n := everything.unpriced_positions):
        unpriced = (
            f'<p class="marker-note"><span class="pending">pricing…</span> {n} open position{"" if n == 1 else "s"}'
            f" wait{'s' if n == 1 else ''} for the token's price: unrealized P&amp;L shows once it is known.</p>"
        )
    if wallet.backfill_state in _LOADING:
        loading = _history_loading_note(wallet)
    return f"{incomplete}\n  {pending}\n  {unpriced}\n  {loading}"


def _history_loading_note(wallet: TrackedWallet) -> str:
    progress = wallet.backfill_progress()
    shown = "queued" if progress is None else f"{progress} %"
    reached = (
        f" (back to {_utc_date(wallet.backfill_reached, 'Y-m-d H:i')} UTC so far)" if wallet.backfill_reached else ""
    )
    retry = (
        f"; the provider failed, next try at {_utc_date(wallet.backfill_retry_at, 'H:i:s')} UTC"
        if wallet.backfill_retry_at
        else ""
    )
    return (
        f'<p class="marker-note"><span class="marker pending">history {shown}</span> The wallet\'s last days are'
        f" loading{reached}: figures grow as they come in{retry}.</p>"
    )


def _utc_date(moment: datetime, pattern: str) -> str:
    """As the template's `date` filter writes it (in the current time zone)."""
    return escape(date_format(timezone.localtime(moment), pattern))


# --- a wallet's positions and cycles, a token's holders ----------------------------------------------


def _date(moment: datetime, now: datetime) -> str:
    return moment.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M")


def _token_link(token: object) -> str:
    mint = escape(token.mint)
    return (
        f'<a href="{escape(url("token", token.mint))}" class="symbol-of-{mint}"'
        f' title="{escape(token.name)} · {mint}">{escape(token.display_symbol)}</a>'
    )


def _age_cell(moment: datetime | None, now: datetime, empty: str = "") -> str:
    if moment is None:
        return empty
    return f'<time class="age" datetime="{_iso(moment, now)}">{age(moment, now)}</time>'


def _unrealized(value: object) -> str:
    return _pending_or("", "pricing") if value is None else escape(format_usd(value, signed=True))


_DUST = '<span class="muted">dust</span>'


def position_row(position: object, now: datetime) -> str:
    """An open position of the wallet page (`position.price_stale` set, its token selected). A booking
    changes one position of a wallet and pushes them all: the others are remembered rows."""
    key = ("position", now.tzinfo, *_values(position, position.token))
    head, tail = _parts(key, lambda: _position_row_around_age(position, now))
    return f"{head}{_age_cell(position.opened_at, now, _DUST)}{tail}"


def _position_row_around_age(position: object, now: datetime) -> str:
    token = position.token
    markers = ""
    if position.incomplete:
        markers += ' <span class="marker incomplete" title="a sell exceeded the holdings we know of">incomplete</span>'
    if position.pending_trades:
        markers += (
            f' <span class="marker pending" title="{position.pending_trades} trade(s) of this token wait for a USD'
            f' price and are not in the figures yet">pricing {position.pending_trades}</span>'
        )
    average_cost = position.average_cost
    stale = position.price_stale
    if token.price_updated_at:
        updated = _when(token.price_updated_at, now)
        price_title = f"{escape(token.price_source)}, {updated} UTC{' — stale' if stale else ''}"
    else:
        price_title = "no price yet"
    if token.price_usd is None:
        price = _pending_or("", "pricing")
    else:
        price = escape(format_price(token.price_usd)) + (' <span class="marker stale">stale</span>' if stale else "")
    lots_url = escape(url("position_lots", position.id))
    return (
        f'      <tr id="position-{position.id}">\n'
        f"        <td>{_token_link(token)}{markers}</td>\n"
        f'        <td class="num" title="{escape(_plain(position.holdings))}">'
        f"{escape(format_amount(position.holdings))}</td>\n"
        f'        <td class="num" title="{"" if average_cost is None else escape(_plain(average_cost))}">'
        f"{escape(format_price(average_cost)) if position.holdings else '—'}</td>\n"
        f'        <td class="num{" stale" if stale and token.price_usd is not None else ""}" title="{price_title}">'
        f"{price}</td>\n"
        f'        <td class="num">{escape(format_usd(position.cost_basis))}</td>\n'
        f'        <td class="num {pnl_class(position.unrealized_pnl)}" data-col="unrealized-{position.id}">'
        f"{_unrealized(position.unrealized_pnl)}</td>\n"
        f"        <td>{_SLOT}</td>\n"
        f'        <td class="num"><details hx-get="{lots_url}" hx-trigger="toggle once" hx-target="find .lots"'
        f' hx-swap="innerHTML"><summary>{position.lot_count}</summary><div class="lots">'
        f'<span class="muted">loading…</span></div></details></td>\n'
        f"      </tr>"
    )


def waiting_row(position: object) -> str:
    """A token whose trades all wait for a USD price: not open in the books yet."""
    n = position.pending_trades
    return (
        f'      <tr id="position-{position.id}" class="waiting">\n'
        f"        <td>{_token_link(position.token)}</td>\n"
        f'        <td class="num" colspan="5">{_pending_or("", "pricing")} <span class="muted">{n}'
        f" trade{'' if n == 1 else 's'} wait{'s' if n == 1 else ''} for a USD price at block time; the position"
        f" opens once valued</span></td>\n"
        f'        <td colspan="2"></td>\n'
        f"      </tr>"
    )


def position_rows(positions: Iterable[object], waiting: Iterable[object]) -> str:
    now = local_now()
    return "\n".join([*(position_row(p, now) for p in positions), *(waiting_row(p) for p in waiting)])


def cycle_row(cycle: object, now: datetime | None = None) -> str:
    """A closed round trip of the wallet page (its token selected)."""
    now = now or local_now()
    return _parts(("cycle", now.tzinfo, *_values(cycle, cycle.token)), lambda: _cycle_row(cycle, now))[0]


def _cycle_row(cycle: object, now: datetime) -> str:
    incomplete = (
        ""
        if cycle.complete
        else '<span class="marker incomplete" title="oversold: left out of win rates">incomplete</span>'
    )
    return (
        f'        <tr><td><a href="{escape(url("token", cycle.token.mint))}">'
        f"{escape(cycle.token.display_symbol)}</a></td>\n"
        f"          <td>{_date(cycle.opened_at, now)}</td><td>{_date(cycle.closed_at, now)}</td>\n"
        f"          <td>{duration(cycle.closed_at - cycle.opened_at)}</td>\n"
        f'          <td class="num {pnl_class(cycle.realized_pnl)}">'
        f"{escape(format_usd(cycle.realized_pnl, signed=True))}</td>\n"
        f"          <td>{incomplete}</td></tr>"
    )


def cycle_rows(cycles: Iterable[object]) -> str:
    now = local_now()
    return "\n".join(cycle_row(cycle, now) for cycle in cycles)


def holder_row(position: object, now: datetime, *, holding: bool) -> str:
    """A tracked wallet's position (a selectors.Holder) in the token page's holders table (`holding`)
    or sold-out table."""
    key = ("holder", holding, *_values(position, position.wallet))
    head, tail = _parts(key, lambda: _holder_row(position, holding))
    return f"{head}{_age_cell(position.last_trade_at, now)}{tail}"


def _holder_row(position: object, holding: bool) -> str:
    wallet = position.wallet
    link = f'<td><a href="{escape(url("wallet", wallet.address))}">{escape(str(wallet))}</a></td>'
    realized = (
        f'<td class="num {pnl_class(position.realized_pnl)}">'
        f"{escape(format_usd(position.realized_pnl, signed=True))}</td>"
    )
    flow = (
        f'<td class="num {flow_class(position.net_flow)}" data-col="flow">'
        f"{escape(format_usd(position.net_flow, signed=True))}</td>"
    )
    last = f"<td>{_SLOT}</td>"
    if not holding:
        return f'          <tr class="sold">{link}\n            {realized}\n            {flow}\n            {last}</tr>'
    return (
        f'        <tr class="holder">{link}\n'
        f'          <td class="num" title="{escape(_plain(position.holdings))}">'
        f"{escape(format_amount(position.holdings))}</td>\n"
        f'          <td class="num">{escape(format_usd(position.cost_basis))}</td>\n'
        f'          <td class="num {pnl_class(position.unrealized_pnl)}">{_unrealized(position.unrealized_pnl)}</td>\n'
        f"          {realized}\n          {flow}\n          {last}</tr>"
    )


def holder_rows(positions: Iterable[object], *, holding: bool) -> str:
    now = local_now()
    return "\n".join(holder_row(position, now, holding=holding) for position in positions)
