"""signals.scoring, big trades: the threshold, growth within thirty minutes, the score."""

from __future__ import annotations

import pytest

from signals.scoring import (
    BIG_TRADE,
    FIRED,
    UPDATED,
    Detector,
    WalletStats,
)
from tests.signal_streams import BONK, WIF, D, Stream, events_of, final_signals

# --- Example 3: big trades ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usd", "fired"),
    [
        ("10000", [(FIRED, BIG_TRADE, BONK, 1000, ["W1"])]),
        ("9999.99", []),
        ("10000.00", [(FIRED, BIG_TRADE, BONK, 1000, ["W1"])]),
    ],
)
def test_a_trade_of_exactly_ten_thousand_dollars_is_a_big_trade(usd, fired):
    assert events_of(Stream().buy(1000, "W1", usd)) == fired


def test_a_big_trade_grows_with_the_same_wallets_trades_on_the_same_side_within_thirty_minutes():
    stream = (
        Stream()
        .buy(1000, "W1", 12000)  # fires
        .sell(1500, "W1", 20000)  # other side: a big trade of its own
        .buy(1600, "W2", 10000)  # other wallet: its own
        .buy(2000, "W1", 9000)  # under the threshold: not a big trade, grows nothing
        .buy(2800, "W1", 15000)  # 1800 s after it fired: grows it
        .buy(2801, "W1", 11000, token=WIF)  # other token: its own
        .buy(2801, "W1", 11000)  # 1801 s after: a new big trade
    )

    signals = final_signals(stream)

    assert [
        (s.token, s.side, s.fired_at, s.updated_at, s.wallet_addresses(), s.swap_ids, s.score) for s in signals
    ] == [
        (BONK, "buy", 1000, 2800, ["W1"], [0, 4], 50),
        (BONK, "sell", 1500, 1500, ["W1"], [1], 40),
        (BONK, "buy", 1600, 1600, ["W2"], [2], 40),
        (WIF, "buy", 2801, 2801, ["W1"], [5], 40),
        (BONK, "buy", 2801, 2801, ["W1"], [6], 40),
    ]
    assert signals[0].reasons[0] == {
        "reason": "big_trade",
        "side": "buy",
        "usd": "27000",
        "swaps": 2,
        "threshold_usd": "10000",
        "growth_window_seconds": 1800,
        "last_at": 2800,
    }
    assert [event.action for event in Detector().process(stream.swaps) if event.signal.fired_at == 1000] == [
        FIRED,
        UPDATED,
    ]


@pytest.mark.parametrize(
    ("usd", "record", "score"),
    [
        ("10000", None, 40),
        ("24999.99", None, 40),
        ("25000", None, 50),
        ("50000", None, 60),
        ("100000", None, 70),
        ("250000", None, 80),
        ("10000", WalletStats(D("0.75"), 8), 55),  # 40 + 20 × 0.75
        ("10000", WalletStats(D("0.75"), 4), 40),  # fewer than 5 cycles: unproven
        ("250000", WalletStats(D(1), 5), 100),
    ],
)
def test_the_big_trade_score_grows_with_size_and_the_wallets_record(usd, record, score):
    wallets = {} if record is None else {"W1": record}

    (signal,) = final_signals(Stream().buy(1000, "W1", usd), wallets)

    assert signal.score == score
