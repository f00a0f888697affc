"""The HTML fragments pages render first and pushes send later: one template each, stable ids.

Pages include these templates directly; pushes render the same templates with `oob=True`, which
adds `hx-swap-oob` so the htmx ws extension swaps them in by id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from whales import rows, selectors
from whales.models import Position, Swap, TrackedWallet, WalletStats, Window


def swap_rows(swaps: Iterable[Swap]) -> dict[int, str]:
    now = rows.local_now()
    return {swap.id: rows.swap_row(swap, now) for swap in swaps}


def swap_push(rows: Sequence[str]) -> str:
    """Rows (newest first) to put on top of a page's #swap-feed."""
    return render_to_string("whales/_swap_push.html", {"rows": mark_safe("".join(rows))})


def leaderboard_row(stats: WalletStats, oob: bool = False) -> SafeString:
    return mark_safe(rows.leaderboard_row(stats, oob=oob))  # escaped value by value in whales.rows


def wallet_stats_context(wallet: TrackedWallet) -> dict:
    return {"wallet": wallet, "windows": selectors.stats_by_window(wallet)}


def wallet_positions_context(wallet: TrackedWallet) -> dict:
    """Open positions, and the trades that wait for a USD price before they can open or change one."""
    return _positions_context(
        wallet,
        selectors.open_positions_of([wallet.id])[wallet.id],
        selectors.positions_waiting_for_a_price_of([wallet.id])[wallet.id],
        timezone.now(),
    )


def _positions_context(
    wallet: TrackedWallet, positions: list[Position], waiting: list[Position], now: datetime
) -> dict:
    for position in positions:
        position.price_stale = position.token.price_is_stale(now, selectors.PRICE_STALE_AFTER)
    return {"wallet": wallet, "positions": positions, "waiting": waiting}


def wallet_stats(wallet: TrackedWallet, oob: bool = False) -> str:
    return _render_stats({**wallet_stats_context(wallet), "oob": oob})


def wallet_positions(wallet: TrackedWallet, oob: bool = False) -> str:
    return _render_positions({**wallet_positions_context(wallet), "oob": oob})


def wallet_pages(
    wallets: Collection[TrackedWallet],
    oob: bool = False,
    figures: Mapping[int, list[tuple[Window, WalletStats | None]]] | None = None,
) -> dict[int, str]:
    """Each wallet's page's stats and positions (`wallet_stats` + `wallet_positions`), wallet id → HTML:
    three queries for them all, however many wallets a booking touched; two when their `figures`
    (`selectors.stats_by_window_of`) were read already."""
    ids = [wallet.id for wallet in wallets]
    windows = selectors.stats_by_window_of(wallets) if figures is None else figures
    positions = selectors.open_positions_of(ids)
    waiting = selectors.positions_waiting_for_a_price_of(ids)
    now = timezone.now()
    return {
        wallet.id: _render_stats({"wallet": wallet, "windows": windows[wallet.id], "oob": oob})
        + _render_positions({**_positions_context(wallet, positions[wallet.id], waiting[wallet.id], now), "oob": oob})
        for wallet in wallets
    }


def _render_stats(context: dict) -> str:
    return render_to_string("whales/_wallet_stats.html", context)


def _render_positions(context: dict) -> str:
    return render_to_string("whales/_positions.html", context)
