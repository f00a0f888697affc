"""What is pushed to browsers, and when: live swap rows on top of the feeds, wallets' new figures,
ticks that make open pages fetch their own, token names once known.

Called only after commit (`transaction.on_commit`), so a browser never sees a row that was rolled
back. Groups and the message shape are `aura.realtime`'s; the HTML is the partials of `fragments`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from aura import listeners, realtime, stream
from aura.prepared import BindAny, Prepared
from whales import events, fragments, queue, selectors
from whales.models import ArrivedVia, Position, Swap, Token, TrackedWallet, Window

logger = logging.getLogger(__name__)


# Backfilled and reparsed swaps are history: they appear in pages in time order, not in live feeds.
# A webhook delivery is news: Helius sends it as the transaction lands. What a poll finds is news
# only within POLLED_LIVE_FOR of its block time (the webhook missed it, the trader has not seen it),
# and never on a wallet's first poll: that page is the wallet's past, from before we tracked it.
# Whether a swap arrived as news is decided once, on arrival, and stored (`Swap.live`).
POLLED_LIVE_FOR = timedelta(minutes=10)


LIVE_SWAPS = Q(live=True)


# A live swap whose push could not go out (Redis was down) is pushed by the sweep within this long;
# older news is left to the pages' own catch-up on reconnect.
UNPUSHED_SWEEP_WITHIN = timedelta(hours=1)


# The sweep leaves alone what was stored moments ago: its own push is on its way.
UNPUSHED_GRACE = timedelta(seconds=5)


def arrives_live(via: str, block_time: datetime, now: datetime) -> bool:
    """Whether a swap of `block_time` arriving `via` that path at `now` is news (goes on top of live feeds)."""
    return via == ArrivedVia.WEBHOOK or (via == ArrivedVia.POLL and now - block_time <= POLLED_LIVE_FOR)


def push_live_swaps(
    swaps: Sequence[Swap], followers: dict[int, list[int]] | None = None, *, mark_in_background: bool = False
) -> None:
    """Prepend these swaps' rows (their wallet and token loaded) to the live feeds showing them: all
    swaps, their wallet's, their token's, their followers' (those a page listens to) — then publish them
    as events for the API's socket. `followers`: `TrackedWallet.followers_of` the swaps' wallets, when
    the caller read it already. Once sent, the swaps are marked pushed (`pushed_at`), from the background
    thread with `mark_in_background` (`queue.in_background`: the write, a commit of its own, holds up
    nothing that waits on the caller)."""
    if not swaps:
        return
    swaps = sorted(swaps, key=lambda swap: (swap.block_time, swap.id), reverse=True)
    rows = fragments.swap_rows(swaps)
    groups: dict[str, list[str]] = {realtime.FEED_TRADES: [rows[swap.id] for swap in swaps]}
    if followers is None:
        followers = TrackedWallet.followers_of({swap.wallet_id for swap in swaps})
    for swap in swaps:
        groups.setdefault(realtime.wallet_group(swap.wallet.address), []).append(rows[swap.id])
        groups.setdefault(realtime.token_group(swap.token.mint), []).append(rows[swap.id])
        for user_id in followers.get(swap.wallet_id, []):
            groups.setdefault(realtime.follows_group(user_id), []).append(rows[swap.id])
    # The pages first: numbering and logging the API's events is a Redis script of its own, and a
    # trader's page need not wait for it.
    heard = listeners.listened(groups)
    realtime.send_many([(group, fragments.swap_push(html)) for group, html in groups.items() if group in heard])
    stream.publish(events.swap_events(swaps, followers))
    ids, now = [swap.id for swap in swaps], timezone.now()
    if mark_in_background:
        queue.in_background(mark_pushed, ids, now)
    else:
        mark_pushed(ids, now)


def mark_pushed(swap_ids: list[int], at: datetime) -> None:
    """Note that these swaps' push went out (the sweep for unpushed swaps leaves them alone)."""
    Swap.objects.filter(id__in=swap_ids, pushed_at=None).update(pushed_at=at)


def push_unpushed_swaps(limit: int = 500, now: datetime | None = None) -> int:
    """Push live swaps that were stored but whose push never went out (Redis was unreachable): the
    pages showing their feeds get them now, on top, once. Returns how many were pushed; raises,
    leaving them for the next sweep, while Redis is still unreachable."""
    now = now or timezone.now()
    waiting = list(
        Swap.objects.filter(live=True, pushed_at=None)
        .filter(ingested_at__gte=now - UNPUSHED_SWEEP_WITHIN, ingested_at__lt=now - UNPUSHED_GRACE)
        .select_related("wallet", "token")
        .order_by("id")[:limit]
    )
    if waiting:
        logger.warning("pushing %d live swap(s) whose push failed when they were stored", len(waiting))
        push_live_swaps(waiting)
    return len(waiting)


_WALLETS = Prepared(lambda: TrackedWallet.objects.filter(BindAny("id", "wallets")).order_by("id"))


def push_wallet_figures(wallet_ids: Iterable[int]) -> None:
    """Replace these wallets' leaderboard rows (every window) and their wallet pages' stats and positions,
    where a page listens: fragments nobody would get are not rendered. The wallets' figures are read
    once for both."""
    wallet_ids = set(wallet_ids)
    if not wallet_ids:
        return
    wallets = _WALLETS.rows(wallets=list(wallet_ids))
    boards = {realtime.leaderboard_group(window): window for window in Window.values}
    pages = {realtime.wallet_group(wallet.address): wallet for wallet in wallets}
    heard = listeners.listened([*boards, *pages])
    windows = [window for group, window in boards.items() if group in heard]
    watched = [wallet for group, wallet in pages.items() if group in heard]
    if not windows and not watched:
        return
    figures = selectors.stats_by_window_of(wallets)
    messages = []
    for window in windows:
        html = [
            fragments.leaderboard_row(stats, oob=True)
            for wallet in wallets
            for shown, stats in figures[wallet.id]
            if shown == window and stats is not None
        ]
        if html:
            messages.append((realtime.leaderboard_group(window), "".join(html)))
    if watched:
        shown = fragments.wallet_pages(watched, oob=True, figures=figures)
        messages += [(realtime.wallet_group(wallet.address), shown[wallet.id]) for wallet in watched]
    realtime.send_many(messages)


def _leaderboard_tick() -> list[tuple[str, str]]:
    """A message that makes every open leaderboard refetch its rows (static/js/aura.js)."""
    tick = f'<div id="stats-tick" hx-swap-oob="true" data-at="{int(timezone.now().timestamp())}"></div>'
    return [(realtime.leaderboard_group(window), tick) for window in Window.values]


def push_leaderboard_tick() -> None:
    realtime.send_many(_leaderboard_tick())


def push_figures_refreshed(wallet_ids: set[int]) -> None:
    """After a price tick, a tick to every leaderboard page and to the wallet pages of the holders:
    each open page fetches its own new figures. Rendering them here for every holder, watched or
    not, made the price task's time grow with the number of wallets (past its limit at a few hundred)."""
    messages = _leaderboard_tick()
    tick = messages[0][1]
    for address in TrackedWallet.objects.filter(id__in=wallet_ids).values_list("address", flat=True):
        messages.append((realtime.wallet_group(address), tick))
    realtime.send_many(messages)


def push_token_names(mints: Sequence[str]) -> None:
    """Pages showing these tokens by their mint (rows pushed before the name was known) get the symbol:
    the live feeds of all swaps, of the tokens, and of the wallets that traded them and their followers."""
    tokens = list(Token.objects.filter(mint__in=mints))
    if not tokens:
        return
    html = render_to_string("whales/_token_names_push.html", {"tokens": tokens})
    traders = Position.objects.filter(token__in=tokens).values_list("wallet_id", "wallet__address")
    groups = {realtime.FEED_TRADES, *(realtime.token_group(token.mint) for token in tokens)}
    groups |= {realtime.wallet_group(address) for _, address in traders}
    followers = TrackedWallet.followers_of({wallet_id for wallet_id, _ in traders})
    groups |= {realtime.follows_group(user_id) for users in followers.values() for user_id in users}
    realtime.send_many([(group, html) for group in sorted(groups)])
