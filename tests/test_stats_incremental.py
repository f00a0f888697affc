"""The wallets' figures kept incrementally — each booking adds its own rows, time rolls the windows —
equal a full aggregate of the stored rows (`refresh_stats`) at the same moment, over random runs of
live deliveries, late (backfilled) trades, idle time and beat rolls (hypothesis, real PostgreSQL)."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.builders import address, usdc_swap
from whales.books import booking
from whales.books.stats import reconcile_stats, refresh_stats, roll_stats
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, Token, TrackedWallet, WalletStats, WindowTotals

pytestmark = pytest.mark.django_db

DAY = 86_400
START = 1_780_000_000
runs = itertools.count()

trade = st.tuples(
    st.just("trade"),
    st.integers(0, 1),  # which of two wallets
    st.integers(0, 2),  # which of three tokens
    st.sampled_from(["buy", "buy", "sell"]),
    st.integers(1, 5_000),  # tokens
    st.integers(1, 2_000),  # USDC
    st.sampled_from([0, 0, 0, 30, 3_600, DAY + 60, 8 * DAY, 31 * DAY]),  # block time this long before the clock
)
idle = st.tuples(st.just("idle"), st.sampled_from([60, 3_600, DAY - 1, DAY, 2 * DAY, 8 * DAY, 31 * DAY]))
beat = st.tuples(st.just("beat"))
price = st.tuples(st.just("price"), st.integers(0, 2), st.sampled_from([None, Decimal("0.0001"), Decimal("3")]))

FIGURES = [f.name for f in WalletStats._meta.concrete_fields if f.name not in ("id", "updated_at")]


def figures(wallet_ids: list[int]) -> dict:
    rows = WalletStats.objects.filter(wallet_id__in=wallet_ids).order_by("wallet_id", "window")
    return {(row["wallet"], row["window"]): row for row in rows.values(*FIGURES)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(trade, trade, trade, idle, beat, price), min_size=1, max_size=30))
# A late trade booked after idle time, dated where the 24 h window's start has just passed.
@example(steps=[("idle", 2 * DAY), ("trade", 0, 0, "buy", 100, 10, DAY + 60)])
# A round trip whose buy leaves the 24 h window before the sell is booked.
@example(steps=[("trade", 0, 0, "buy", 100, 10, 0), ("idle", DAY + 1), ("trade", 0, 0, "sell", 100, 20, 0)])
def test_incremental_figures_equal_a_full_aggregate(steps, caplog):
    run = next(runs)
    wallets = [
        TrackedWallet.objects.create(address=address(f"incremental {run} wallet {n}"), label=f"w{n}") for n in range(2)
    ]
    ids = [w.id for w in wallets]
    tokens = [Token.objects.create(mint=address(f"incremental {run} token {n}"), decimals=6) for n in range(3)]
    clock = START
    refresh_stats(ids, now=datetime.fromtimestamp(clock, UTC))
    for n, (kind, *args) in enumerate(steps):
        now = datetime.fromtimestamp(clock, UTC)
        if kind == "trade":
            wallet, token, side, amount, usdc, ago = args
            tx = usdc_swap(
                wallets[wallet].address,
                tokens[token].mint,
                side,
                str(amount),
                str(usdc),
                clock - ago,
                seed=f"{run}-{n}",
            )
            result = ingest([tx], ArrivedVia.WEBHOOK, book=False)
            booking.book_trades(result.new_swaps, result.new_transfers, now=now)
            clock += 1
        elif kind == "idle":
            clock += args[0]
        elif kind == "beat":
            roll_stats(ids, now=now)
        else:
            token, current = args
            Token.objects.filter(id=tokens[token].id).update(price_usd=current)
            roll_stats(ids, now=now)

    now = datetime.fromtimestamp(clock, UTC)
    roll_stats(ids, now=now)
    incremental = figures(ids)
    with caplog.at_level(logging.WARNING, logger="whales.books.stats"):
        assert reconcile_stats(ids, now=now) == 0, caplog.text
    assert "drift" not in caplog.text
    refresh_stats(ids, now=now)
    assert figures(ids) == incremental


def test_a_drift_is_logged_and_mended(round_trip_wallet, caplog):
    """The reconciliation is not a formality: sums changed behind the books' back are found."""
    wallet = round_trip_wallet
    now = datetime.fromtimestamp(START + 10, UTC)
    refresh_stats([wallet.id], now=now)
    expected = figures([wallet.id])
    WindowTotals.objects.filter(wallet=wallet, window="all").update(sells=7, realized=Decimal("123.45"))

    with caplog.at_level(logging.WARNING, logger="whales.books.stats"):
        assert reconcile_stats([wallet.id], now=now) == 1
    assert "stats drift" in caplog.text and "'sells': (7, 1)" in caplog.text
    assert figures([wallet.id]) == expected


def test_rolling_subtracts_what_leaves_a_window(round_trip_wallet):
    wallet = round_trip_wallet
    refresh_stats([wallet.id], now=datetime.fromtimestamp(START + 10, UTC))
    day = {row.window: row for row in WalletStats.objects.filter(wallet=wallet)}
    assert (day["24h"].sells, day["24h"].swap_count) == (1, 2)

    roll_stats([wallet.id], now=datetime.fromtimestamp(START + DAY + 5, UTC))  # the sell (at START+1) left 24h
    rolled = {row.window: row for row in WalletStats.objects.filter(wallet=wallet)}
    assert (rolled["24h"].sells, rolled["24h"].swap_count, rolled["24h"].realized_pnl) == (0, 0, 0)
    assert (rolled["7d"].sells, rolled["7d"].swap_count, rolled["7d"].realized_pnl) == (1, 2, Decimal("50"))


@pytest.fixture
def round_trip_wallet() -> TrackedWallet:
    """A wallet that bought 100 tokens for 100 USDC at START and sold them for 150 a second later."""
    wallet = TrackedWallet.objects.create(address=address("round trip wallet"), label="round trip")
    mint = address("round trip token")
    Token.objects.create(mint=mint, decimals=6)
    txs = [
        usdc_swap(wallet.address, mint, "buy", "100", "100", START, seed="rt-buy"),
        usdc_swap(wallet.address, mint, "sell", "100", "150", START + 1, seed="rt-sell"),
    ]
    result = ingest(txs, ArrivedVia.WEBHOOK, book=False)
    booking.book_trades(result.new_swaps, result.new_transfers, now=datetime.fromtimestamp(START + 2, UTC))
    return wallet
