"""signals.scoring, whale clusters: accumulation, distribution, one active signal per token and kind, their score."""

from __future__ import annotations

import pytest

from signals.scoring import (
    FIRED,
    UPDATED,
    WHALE_ACCUMULATION,
    WHALE_DISTRIBUTION,
    WalletStats,
)
from tests.signal_streams import BONK, HOUR, SIX_HOURS, WIF, D, Stream, events_of, final_signals, summary

# --- Example 1: a cluster -------------------------------------------------------------------------


def test_three_wallets_net_buying_within_thirty_minutes_fire_whale_accumulation():
    stream = Stream().buy(1000, "W1").buy(1060, "W2").buy(1120, "W3")

    (signal,) = final_signals(stream)

    assert summary([signal]) == [(WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3"], 30)]
    assert signal.side == "buy"
    assert signal.reasons == [
        {
            "reason": "cluster",
            "side": "buy",
            "wallets": 3,
            "min_wallets": 3,
            "window_seconds": 1800,
            "cooldown_seconds": 21600,
            "net_usd": "300",
        },
        {"reason": "wallet", "wallet": "W1", "net_usd": "100", "joined_at": 1120, "win_rate": None, "cycles": None},
        {"reason": "wallet", "wallet": "W2", "net_usd": "100", "joined_at": 1120, "win_rate": None, "cycles": None},
        {"reason": "wallet", "wallet": "W3", "net_usd": "100", "joined_at": 1120, "win_rate": None, "cycles": None},
        {"reason": "score", "component": "wallets", "value": 3, "points": 30, "max_points": 50},
        {"reason": "score", "component": "net_usd", "value": "300", "points": 0, "max_points": 20},
        {"reason": "score", "component": "wallet_quality", "value": "0", "points": 0, "max_points": 30,
         "min_cycles": 5},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("wallets", "fired"),
    [
        (["W1", "W2"], []),
        (["W1", "W2", "W3"], [(FIRED, WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3"])]),
        (["W1", "W1", "W2"], []),  # two buys by one wallet are one wallet
    ],
)
def test_two_wallets_are_not_a_cluster(wallets, fired):
    stream = Stream()
    for index, wallet in enumerate(wallets):
        stream.buy(1000 + 60 * index, wallet)

    assert events_of(stream) == fired


@pytest.mark.parametrize(
    ("third_at", "fired"),
    [
        (2800, [(FIRED, WHALE_ACCUMULATION, BONK, 2800, ["W1", "W2", "W3"])]),  # W1's 1000 = 2800 − 1800: in
        (2801, []),  # W1's buy left the window one second before
    ],
)
def test_the_thirty_minute_window_includes_its_start(third_at, fired):
    stream = Stream().buy(1000, "W1").buy(2000, "W2").buy(third_at, "W3")

    assert events_of(stream) == fired


def test_a_net_seller_among_buyers_is_not_counted():
    stream = Stream().buy(1000, "W1").buy(1100, "W2").sell(1200, "W3", 5000).buy(1300, "W4")

    assert summary(final_signals(stream)) == [(WHALE_ACCUMULATION, BONK, 1300, ["W1", "W2", "W4"], 30)]


@pytest.mark.parametrize(
    ("sold", "fired"),
    [
        ("100", []),  # net 0: neither a buyer nor a seller
        ("150", []),  # net −50: a seller
        ("99.99", [(FIRED, WHALE_ACCUMULATION, BONK, 1300, ["W1", "W2", "W3"])]),  # net +0.01: still a buyer
    ],
)
def test_a_wallet_that_sold_what_it_bought_is_not_a_buyer(sold, fired):
    stream = Stream().buy(1000, "W1", "100").sell(1030, "W1", sold).buy(1200, "W2").buy(1300, "W3")

    assert events_of(stream) == fired


def test_three_net_sellers_fire_whale_distribution():
    stream = Stream().sell(1000, "W1", 2000).sell(1100, "W2", 3000).buy(1150, "W2", 500).sell(1200, "W3", 7000)

    (signal,) = final_signals(stream)

    assert summary([signal]) == [(WHALE_DISTRIBUTION, BONK, 1200, ["W1", "W2", "W3"], 40)]
    assert signal.side == "sell"
    assert signal.reasons[0]["net_usd"] == "-11500"
    assert [(r["wallet"], r["net_usd"]) for r in signal.reasons[1:4]] == [
        ("W1", "-2000"),
        ("W2", "-2500"),
        ("W3", "-7000"),
    ]
    assert signal.reasons[5] == {"reason": "score", "component": "net_usd", "value": "11500", "points": 10,
                                 "max_points": 20}  # fmt: skip


# --- Example 2: one active signal per token and kind ----------------------------------------------


def test_a_later_wallet_joins_the_active_signal_instead_of_repeating_it():
    stream = Stream().buy(1000, "W1").buy(1060, "W2").buy(1120, "W3").buy(1300, "W4", 2000)

    assert events_of(stream) == [
        (FIRED, WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3"]),
        (UPDATED, WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3", "W4"]),
    ]
    (signal,) = final_signals(stream)
    assert (signal.fired_at, signal.updated_at, signal.score) == (1120, 1300, 45)  # 40 + $2,300 → 5
    assert signal.reasons[4] == {
        "reason": "wallet",
        "wallet": "W4",
        "net_usd": "2000",
        "joined_at": 1300,
        "win_rate": None,
        "cycles": None,
    }


@pytest.mark.parametrize(
    ("second_cluster_at", "expected"),
    [
        (
            1120 + SIX_HOURS - 1,
            [(WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3", "W4", "W5", "W6"], 50)],
        ),
        (
            1120 + SIX_HOURS,
            [
                (WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3"], 30),
                (WHALE_ACCUMULATION, BONK, 1120 + SIX_HOURS, ["W4", "W5", "W6"], 30),
            ],
        ),
    ],
)
def test_a_cluster_within_six_hours_joins_the_active_signal_and_one_at_six_hours_fires_anew(
    second_cluster_at, expected
):
    stream = Stream().buy(1000, "W1").buy(1060, "W2").buy(1120, "W3")
    stream.buy(second_cluster_at - 600, "W4").buy(second_cluster_at - 300, "W5").buy(second_cluster_at, "W6")

    assert summary(final_signals(stream)) == expected


def test_a_lone_wallet_buying_later_does_not_join():
    # Two hours on, the first cluster has left the window: W4 alone is no cluster, so nothing joins.
    stream = Stream().buy(1000, "W1").buy(1060, "W2").buy(1120, "W3").buy(1120 + 2 * HOUR, "W4")

    assert events_of(stream) == [(FIRED, WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3"])]


def test_accumulation_and_distribution_of_one_token_are_separate_signals():
    stream = Stream().buy(1000, "W1").buy(1010, "W2").buy(1020, "W3")
    stream.sell(1030, "W4").sell(1040, "W5").sell(1050, "W6").buy(1060, "W7", token=WIF)

    assert [(kind, fired_at, wallets) for kind, _, fired_at, wallets, _ in summary(final_signals(stream))] == [
        (WHALE_ACCUMULATION, 1020, ["W1", "W2", "W3"]),
        (WHALE_DISTRIBUTION, 1050, ["W4", "W5", "W6"]),
    ]


def test_the_cluster_score_adds_wallets_flow_and_proven_win_rates():
    stream = Stream().buy(1000, "W1", 30000).buy(1010, "W2", 20000).buy(1020, "W3", 5000).buy(1030, "W4", 1000)
    wallets = {
        "W1": WalletStats(D("0.8"), 20),
        "W2": WalletStats(D("0.6"), 5),
        "W3": WalletStats(D("0.9"), 4),  # too few cycles to count
        "W4": WalletStats(None, 0),
    }

    big_w1, big_w2, cluster = final_signals(stream, wallets)  # $30,000 and $20,000 are big trades too

    assert (cluster.kind, cluster.wallet_addresses(), cluster.score) == (
        WHALE_ACCUMULATION,
        ["W1", "W2", "W3", "W4"],
        66,  # wallets 40 + net $56,000 → 15 + quality 30 × (0.8 + 0.6 + 0 + 0) / 4 = 10.5 → 11
    )
    assert [r for r in cluster.reasons if r["reason"] == "score"] == [
        {"reason": "score", "component": "wallets", "value": 4, "points": 40, "max_points": 50},
        {"reason": "score", "component": "net_usd", "value": "56000", "points": 15, "max_points": 20},
        {"reason": "score", "component": "wallet_quality", "value": "0.35", "points": 11, "max_points": 30,
         "min_cycles": 5},
    ]  # fmt: skip
    assert cluster.reasons[1] == {
        "reason": "wallet",
        "wallet": "W1",
        "net_usd": "30000",
        "joined_at": 1020,
        "win_rate": "0.8",
        "cycles": 20,
    }
