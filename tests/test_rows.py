"""Rows written once are remembered by every value they show (whales.rows): what changes must show."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import engines
from django.template.loader import render_to_string

from tests.builders import address, signature
from whales import rows
from whales.models import BackfillState, Position, Swap, Token, TrackedWallet, WalletStats, Window

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def whale() -> TrackedWallet:
    return TrackedWallet(
        id=7, address=address("whale"), label="Whale", tags=["smart"], backfill_state=BackfillState.DONE, created_at=NOW
    )


def stats_of(wallet: TrackedWallet, **figures) -> WalletStats:
    return WalletStats(
        id=70, wallet=wallet, window="7d", updated_at=NOW, last_active=NOW - timedelta(minutes=5), **figures
    )


def a_swap(**values) -> Swap:
    token = Token(id=3, mint=address("bonk"), symbol="BONK", name="Bonk")
    fields = {
        "id": 11,
        "signature": signature("one"),
        "side": "buy",
        "token_amount": Decimal("1000"),
        "quote_mint": address("usdc"),
        "quote_amount": Decimal("12.5"),
        "usd_value": Decimal("12.5"),
        "block_time": NOW - timedelta(seconds=30),
        "slot": 5,
        "source": "JUPITER",
        "ingested_at": NOW,
    }
    return Swap(wallet=whale(), token=token, **{**fields, **values})


def test_a_leaderboard_row_shows_a_changed_figure_label_or_tag():
    wallet = whale()
    first = rows.leaderboard_row(stats_of(wallet, total_pnl=Decimal("100")), now=NOW)
    assert "+$100.00" in first

    assert "+$250.00" in rows.leaderboard_row(stats_of(wallet, total_pnl=Decimal("250")), now=NOW)
    wallet.label, wallet.tags = "Renamed", ["sniper"]
    renamed = rows.leaderboard_row(stats_of(wallet, total_pnl=Decimal("100")), now=NOW)
    assert ">Renamed</a>" in renamed and '<span class="tag">sniper</span>' in renamed
    assert rows.leaderboard_row(stats_of(whale(), total_pnl=Decimal("100")), now=NOW) == first


def test_a_leaderboard_row_carries_each_readers_csrf_token_and_the_age_at_its_writing():
    stats = stats_of(whale(), total_pnl=Decimal("100"))
    alices = rows.leaderboard_row(stats, csrf_token="alice-token", now=NOW)
    bobs = rows.leaderboard_row(stats, csrf_token="bob-token", now=NOW + timedelta(hours=2))

    assert 'value="alice-token"' in alices and "bob-token" not in alices and ">5m</time>" in alices
    assert 'value="bob-token"' in bobs and "alice-token" not in bobs and ">2h</time>" in bobs
    assert "csrfmiddlewaretoken" not in rows.leaderboard_row(stats, now=NOW)


def test_a_swap_row_writes_its_values_digit_for_digit_and_its_age_now():
    assert 'data-usd="12.5"' in rows.swap_row(a_swap(), NOW)
    # Equal to 12.5, written otherwise: not the row remembered for 12.5.
    again = rows.swap_row(a_swap(usd_value=Decimal("12.500"), quote_amount=Decimal("12.500")), NOW + timedelta(hours=1))
    assert 'data-usd="12.500"' in again and ">1h</time>" in again
    assert "pricing" in rows.swap_row(a_swap(usd_value=None), NOW)


# The wallet page's figures were a template until rows.wallet_stats wrote them: kept here, the
# Python must write them byte for byte.
STATS_TEMPLATE = Path(__file__).parent / "fixtures" / "wallet_stats_as_a_template.html"


def window_figures(wallet: TrackedWallet, window: str, **figures) -> WalletStats:
    return WalletStats(wallet=wallet, window=window, updated_at=NOW, **figures)


def wallet_in(state: str, **history) -> TrackedWallet:
    return TrackedWallet(id=8, address=address("loading"), label="L", backfill_state=state, created_at=NOW, **history)


@pytest.mark.parametrize("oob", [False, True])
def test_the_wallet_figures_written_in_python_are_the_templates_byte_for_byte(oob):
    template = engines["django"].from_string(STATS_TEMPLATE.read_text())
    done = whale()
    running = wallet_in(
        BackfillState.RUNNING,
        backfill_started_at=NOW,
        backfill_until=NOW - timedelta(days=7),
        backfill_reached=NOW - timedelta(days=2, minutes=7),
        backfill_retry_at=NOW + timedelta(seconds=95),
    )
    rich = {
        "total_pnl": Decimal("-1234.5"),
        "realized_pnl": Decimal("250.125"),
        "unrealized_pnl": Decimal("-1484.625"),
        "roi": Decimal("-0.0834"),
        "win_rate": Decimal("0.6"),
        "win_rate_low": Decimal("0.2"),
        "win_rate_high": Decimal("0.9"),
        "cycles": 5,
        "cycle_wins": 3,
        "rankable": True,
        "adjusted_win_rate": Decimal("0.5"),
        "adjusted_win_rate_low": Decimal("0.18"),
        "adjusted_win_rate_high": Decimal("0.81"),
        "dead_bags": 1,
        "sell_win_rate": Decimal("0.75"),
        "sell_win_rate_low": Decimal("0.3"),
        "sell_win_rate_high": Decimal("0.95"),
        "sells": 8,
        "sell_wins": 6,
        "volume_usd": Decimal("1250000"),
        "swap_count": 42,
    }
    cases = [
        (wallet_in(BackfillState.PENDING), [None, None, None, None]),
        (done, [{}, {"volume_usd": Decimal("12.5"), "swap_count": 1}, rich, {**rich, "unpriced_positions": 1}]),
        (done, [rich, None, {**rich, "pending_trades": 3}, {**rich, "incomplete": True, "unpriced_positions": 2}]),
        (running, [rich, {**rich, "pending_trades": 2}, None, {**rich, "pending_trades": 2, "incomplete": True}]),
        (wallet_in(BackfillState.RUNNING, backfill_started_at=NOW), [{}, {}, {}, {**rich, "unpriced_positions": 1}]),
    ]
    for wallet, figures in cases:
        windows = [
            (window, None if values is None else window_figures(wallet, window.value, **values))
            for window, values in zip(Window, figures, strict=True)
        ]
        context = {"wallet": wallet, "windows": windows, "oob": oob}
        expected = template.render(context)
        assert rows.wallet_stats(wallet, windows, oob=oob) + "\n" == expected
        assert render_to_string("whales/_wallet_stats.html", context) == expected


def a_position(**values) -> Position:
    token = Token(id=3, mint=address("bonk"), symbol="BONK", name="Bonk", price_usd=Decimal("0.002"))
    token.price_source, token.price_updated_at = "birdeye", NOW - timedelta(minutes=1)
    fields = {
        "id": 21,
        "wallet_id": 7,
        "holdings": Decimal("1000"),
        "cost_basis": Decimal("1.5"),
        "incomplete": False,
        "opened_at": NOW - timedelta(hours=3),
        "unrealized_pnl": Decimal("0.5"),
        "pending_trades": 0,
    }
    position = Position(token=token, **{**fields, **values})
    position.lot_count, position.price_stale = 2, False
    return position


def test_a_position_row_shows_a_changed_holding_price_or_lot_count_and_its_age_now():
    first = rows.position_row(a_position(), NOW)
    assert "<summary>2</summary>" in first and ">3h</time>" in first and "+$0.50" in first
    assert rows.position_row(a_position(), NOW) == first

    assert ">5d</time>" in rows.position_row(a_position(), NOW + timedelta(days=5) - timedelta(hours=3))
    assert "+$0.75" in rows.position_row(a_position(unrealized_pnl=Decimal("0.75")), NOW)
    more_lots = a_position()
    more_lots.lot_count = 3
    assert "<summary>3</summary>" in rows.position_row(more_lots, NOW)
    stale = a_position()
    stale.price_stale = True
    assert '<span class="marker stale">stale</span>' in rows.position_row(stale, NOW)
    repriced = a_position()
    repriced.token.price_usd = None
    assert "pricing" in rows.position_row(repriced, NOW)
    assert rows.position_row(a_position(), NOW) == first
