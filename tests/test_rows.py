"""Rows written once are remembered by every value they show (whales.rows): what changes must show."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.builders import address, signature
from whales import rows
from whales.models import BackfillState, Swap, Token, TrackedWallet, WalletStats

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
