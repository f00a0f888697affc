"""The HTML fragments pages render first and pushes send later: one template each, stable ids.

Pages include these templates directly; pushes render the same templates with `oob=True`, which
adds `hx-swap-oob` so the htmx ws extension swaps them in by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from whales import rows, selectors
from whales.models import Swap, TrackedWallet, WalletStats


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
    positions = list(selectors.open_positions(wallet))
    now = timezone.now()
    for position in positions:
        position.price_stale = position.token.price_is_stale(now, selectors.PRICE_STALE_AFTER)
    waiting = list(selectors.positions_waiting_for_a_price(wallet))
    return {"wallet": wallet, "positions": positions, "waiting": waiting}


def wallet_stats(wallet: TrackedWallet, oob: bool = False) -> str:
    return render_to_string("whales/_wallet_stats.html", {**wallet_stats_context(wallet), "oob": oob})


def wallet_positions(wallet: TrackedWallet, oob: bool = False) -> str:
    return render_to_string("whales/_positions.html", {**wallet_positions_context(wallet), "oob": oob})
