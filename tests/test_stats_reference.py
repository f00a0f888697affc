"""The P&L engine's window metrics (`pnl.window_metrics`, the reference that METRICS.md's worked
examples are written against) equal the per-window statistics production computes in SQL
(`whales.books.stats.refresh_stats`), over random swap histories booked through the real ingest
into PostgreSQL (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import address, usdc_swap
from whales.books import pnl
from whales.books.stats import refresh_stats
from whales.books.trades import replay_order, trade_of
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, Swap, Token, TrackedWallet, WalletStats

pytestmark = pytest.mark.django_db

DAY = 86_400
NOW = 1_780_000_000  # a fixed "now": every window is measured back from it
# Room for the rounding of each stored realization (8 places) in a window's sum.
CENT_FRACTION = Decimal("1e-8")
histories = itertools.count()

swap = st.tuples(
    st.integers(0, 2),  # which of three tokens
    st.sampled_from(["buy", "buy", "sell"]),
    st.integers(1, 5_000),  # tokens
    st.integers(1, 2_000),  # USDC
    st.integers(60, 45 * DAY),  # seconds before NOW: beyond every window but "all"
)
# A token's current price per token: none known, or a price that makes old bags dead or alive.
price = st.sampled_from([None, Decimal("0.0001"), Decimal("0.05"), Decimal("2")])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(swaps=st.lists(swap, min_size=1, max_size=24), prices=st.tuples(price, price, price))
def test_stored_window_stats_equal_the_engines_window_metrics(swaps, prices):
    history = next(histories)
    wallet = TrackedWallet.objects.create(address=address(f"history {history}"), label=f"history {history}")
    mints = [address(f"history {history} token {n}") for n in range(3)]
    for mint, current in zip(mints, prices, strict=True):
        Token.objects.create(mint=mint, decimals=6, price_usd=current)
    transactions = [
        usdc_swap(wallet.address, mints[token], side, str(amount), str(usdc), NOW - ago, seed=f"{history}-{n}")
        for n, (token, side, amount, usdc, ago) in enumerate(swaps)
    ]
    ingest(transactions, ArrivedVia.BACKFILL)
    refresh_stats([wallet.id], now=datetime.fromtimestamp(NOW, UTC))

    expected = engine_metrics(wallet, dict(zip(mints, prices, strict=True)))
    stored = {row.window: row for row in WalletStats.objects.filter(wallet=wallet)}

    assert set(stored) == set(expected) == set(pnl.WINDOWS)
    for window, metrics in expected.items():
        row = stored[window]
        assert (row.cycle_wins, row.cycles) == (metrics.cycles.wins, metrics.cycles.n), window
        assert (row.sell_wins, row.sells) == (metrics.sells.wins, metrics.sells.n), window
        adjusted = metrics.dead_bag_adjusted
        assert (row.cycle_wins, row.cycles + row.dead_bags) == (adjusted.wins, adjusted.n), window
        assert abs(row.realized_pnl - metrics.realized_pnl) <= CENT_FRACTION * (metrics.sells.n + 1), window
        assert row.rankable == pnl.is_rankable(metrics.cycles), window


def engine_metrics(wallet: TrackedWallet, prices: dict[str, Decimal | None]) -> dict[str, pnl.WindowMetrics]:
    """The engine's metrics of the wallet's stored swaps, replayed as production orders them."""
    swaps = Swap.objects.filter(wallet=wallet, usd_price__isnull=False).select_related("token")
    trades = sorted((trade_of(swap, swap.token.mint) for swap in swaps), key=replay_order)
    ledger = pnl.replay(trades)
    sells = [event for event in ledger.events if type(event) is pnl.SellRealized]
    positions = [pnl.open_position(book, prices[mint]) for mint, book in ledger.books.items()]
    return pnl.window_metrics(sells, ledger.closed_cycles(), [p for p in positions if p is not None], NOW)
