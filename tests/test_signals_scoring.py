"""signals.scoring: the rules, scores and outcomes of SIGNALS.md, each worked example a test, numbers written out."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from signals.scoring import (
    BIG_TRADE,
    DEFAULT_PARAMETERS,
    FIRED,
    MOMENTUM,
    NEW_LISTING,
    UPDATED,
    WHALE_ACCUMULATION,
    WHALE_DISTRIBUTION,
    Detector,
    InvalidSwap,
    MarketInputs,
    Observed,
    Parameters,
    Promotion,
    Signal,
    Swap,
    TokenSecurity,
    WalletStats,
    assess_new_listing,
    check_safety,
    context_bounds,
    median,
    outcome,
    score_momentum,
    scoreboard,
    settle,
)

D = Decimal
REPO_DIR = Path(__file__).resolve().parent.parent
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
WIF = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"
HOUR = 3600
SIX_HOURS = 6 * HOUR


class Stream:
    """Swaps numbered in the order they are written, as the CLI numbers a file's swaps."""

    def __init__(self) -> None:
        self.swaps: list[Swap] = []

    def buy(self, t: int, wallet: str, usd: str | int = 100, token: str = BONK) -> Stream:
        self.swaps.append(Swap(len(self.swaps), t, wallet, token, "buy", D(usd)))
        return self

    def sell(self, t: int, wallet: str, usd: str | int = 100, token: str = BONK) -> Stream:
        self.swaps.append(Swap(len(self.swaps), t, wallet, token, "sell", D(usd)))
        return self


def events_of(stream: Stream, wallets=None, params=DEFAULT_PARAMETERS) -> list[tuple]:
    """(action, kind, token, fired_at, sorted wallets) of every event, in order."""
    events = Detector(params).process(stream.swaps, wallets)
    return [(e.action, e.signal.kind, e.signal.token, e.signal.fired_at, e.signal.wallet_addresses()) for e in events]


def final_signals(stream: Stream, wallets=None, params=DEFAULT_PARAMETERS) -> list[Signal]:
    """Each signal once, in firing order, as it stands at the end (what the CLI prints)."""
    signals: dict[tuple, Signal] = {}
    for event in Detector(params).process(stream.swaps, wallets):
        signals[event.signal.key] = event.signal
    return list(signals.values())


def summary(signals: list[Signal]) -> list[tuple]:
    return [(s.kind, s.token, s.fired_at, s.wallet_addresses(), s.score) for s in signals]


def observed(value: str | None, age: int = 60) -> Observed:
    """A number measured `age` seconds ago (None: measured, and there is none)."""
    return Observed(None if value is None else D(value), age)


def authority(address: str | None, age: int = 60) -> Observed:
    return Observed(address, age)


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


# --- Example 4: order ------------------------------------------------------------------------------


def test_signals_fired_by_swaps_in_the_same_second_come_in_file_order():
    stream = Stream().buy(1000, "W1", token=WIF).buy(1000, "W1").buy(1010, "W2").buy(1010, "W2", token=WIF)
    stream.buy(2000, "W3").buy(2000, "W3", 50000, token=WIF)

    assert [(s.kind, s.token, s.fired_at) for s in final_signals(stream)] == [
        (WHALE_ACCUMULATION, BONK, 2000),
        (WHALE_ACCUMULATION, WIF, 2000),  # the same swap: the cluster first, then the big trade
        (BIG_TRADE, WIF, 2000),
    ]


def test_swaps_are_taken_in_time_order_whatever_the_order_of_the_file():
    stream = Stream().buy(1120, "W3").buy(1000, "W1").buy(1060, "W2")

    assert events_of(stream) == [(FIRED, WHALE_ACCUMULATION, BONK, 1120, ["W1", "W2", "W3"])]


def test_swaps_in_the_same_second_are_taken_one_at_a_time():
    # W3's buy makes the third buyer: the signal fires. W3's sell in the same second comes after
    # and does not take it back (wallets never leave a signal).
    stream = Stream().buy(1000, "W1").buy(1010, "W2").buy(2000, "W3").sell(2000, "W3", 200)

    assert summary(final_signals(stream)) == [(WHALE_ACCUMULATION, BONK, 2000, ["W1", "W2", "W3"], 30)]


# --- The detector's state -------------------------------------------------------------------------


def test_a_swap_seen_twice_counts_once():
    detector = Detector()
    first = Swap("sig-1:0", 1000, "W1", BONK, "buy", D(20000))

    assert [e.action for e in detector.process([first])] == [FIRED]
    assert detector.process([first]) == []
    assert [s.swap_ids for s in detector.active_signals()] == [["sig-1:0"]]
    assert detector.process([Swap("sig-2:0", 1001, "W2", BONK, "buy", D(100))]) == []
    assert sorted(detector._windows[BONK].nets.items()) == [("W1", D(20000)), ("W2", D(100))]


def test_a_swap_more_than_a_window_older_than_the_latest_is_history():
    detector = Detector()
    detector.process(Stream().buy(5000, "W1").buy(5010, "W2").swaps)

    assert detector.process([Swap("late", 5010 - 1801, "W3", BONK, "buy", D(100))]) == []
    assert detector.held_swap_count() == 2


def test_a_late_swap_within_the_window_is_judged_at_the_tokens_latest_swap():
    detector = Detector()
    detector.process(Stream().buy(1000, "W1").buy(1600, "W2").swaps)

    (event,) = detector.process([Swap("late", 1300, "W3", BONK, "buy", D(100))])

    assert (event.action, event.signal.fired_at, event.signal.wallet_addresses()) == (FIRED, 1600, ["W1", "W2", "W3"])
    assert [swap.t for swap in detector.recent_swaps()] == [1000, 1300, 1600]


def test_a_detector_stored_and_restored_mid_stream_gives_the_same_events():
    swaps = random_stream(seed=3, count=3000)
    whole = Detector().process(swaps)

    first = Detector()
    events = first.process(swaps[:1500])
    state = json.loads(json.dumps(first.to_dict()))
    events += Detector.from_dict(state).process(swaps[1500:])

    assert [e.to_dict() for e in events] == [e.to_dict() for e in whole]
    assert len(whole) > 50


def test_a_detector_rebuilt_for_each_batch_from_rows_matches_one_fed_the_whole_stream():
    """The app's way: per batch, a new Detector from the rows the database holds (recent swaps of the
    batch's tokens, their active signals), judging only the batch."""
    swaps = random_stream(seed=7, count=4000)
    wallets = {f"W{n}": WalletStats(D(n % 10) / 10, n) for n in range(0, 40, 3)}
    expected = {}
    for event in Detector().process(swaps, wallets):
        expected[event.signal.key] = event.signal.to_dict()

    stored_swaps: list[Swap] = []
    stored_signals: dict[tuple, dict] = {}
    rng = random.Random(11)
    position = 0
    while position < len(swaps):
        batch = swaps[position : position + rng.randint(1, 60)]
        position += len(batch)
        bounds = context_bounds(batch)
        tokens = {swap.token for swap in batch}
        context = [s for s in stored_swaps if s.token in tokens and s.t >= bounds.swaps_since]
        active = [
            Signal.from_dict(row)
            for row in stored_signals.values()
            if row["token"] in tokens
            and row["fired_at"]
            >= (bounds.big_trades_fired_since if row["kind"] == BIG_TRADE else bounds.clusters_fired_since)
        ]
        for event in Detector(active=active, recent_swaps=context).process(batch, wallets):
            stored_signals[event.signal.key] = event.signal.to_dict()
        stored_swaps += batch

    assert stored_signals == expected
    kinds = {key[0] for key in expected}
    assert kinds == {WHALE_ACCUMULATION, WHALE_DISTRIBUTION, BIG_TRADE}
    assert any(len(row["wallets"]) > 3 for row in expected.values())  # joins happened


def test_the_detector_state_holds_only_recent_swaps_and_live_signals():
    swaps = random_stream(seed=5, count=20000, days=20)
    detector = Detector()
    peak = 0
    for swap in swaps:
        detector.process_swap(swap)
        peak = max(peak, detector.held_swap_count())

    clock = detector.clock
    assert clock == swaps[-1].t
    assert all(swap.t >= clock - 3 * 1800 for swap in detector.recent_swaps())
    assert peak < 400  # ~1,000 swaps a day: a few windows' worth, never the 20 days
    for signal in detector.active_signals():
        limit = SIX_HOURS if signal.kind != BIG_TRADE else 1800 + 1
        assert signal.fired_at + limit + 1800 > clock


def test_the_active_signals_handed_in_block_a_repeat_and_take_joins():
    earlier = final_signals(Stream().buy(1000, "W1").buy(1060, "W2").buy(1120, "W3"))
    context = Stream().buy(1000, "W1").buy(1060, "W2").buy(1120, "W3").swaps

    detector = Detector(active=earlier, recent_swaps=context)
    events = detector.process([Swap(99, 1200, "W4", BONK, "buy", D(100))])

    assert [(e.action, e.signal.fired_at, e.signal.wallet_addresses()) for e in events] == [
        (UPDATED, 1120, ["W1", "W2", "W3", "W4"])
    ]


def test_a_signal_handed_in_without_its_reasons_is_scored_from_its_wallets():
    (earlier,) = final_signals(Stream().buy(1000, "W1", 5000).buy(1060, "W2").buy(1120, "W3"))
    bare = Signal.from_dict(earlier.to_dict() | {"reasons": [], "score": 0})
    context = Stream().buy(1000, "W1", 5000).buy(1060, "W2").buy(1120, "W3").swaps
    joining = [Swap(99, 1200, "W4", BONK, "buy", D(100))]

    (from_bare,) = Detector(active=[bare], recent_swaps=context).process(joining)
    (from_full,) = Detector(active=[earlier], recent_swaps=context).process(joining)

    assert from_bare.signal.to_dict() == from_full.signal.to_dict()
    assert (from_full.signal.score, from_full.signal.reasons[0]["net_usd"]) == (45, "5300")
    assert bare.reasons == [] and len(earlier.wallets) == 3  # the caller's signals are left as they were


def test_context_bounds_name_what_a_batch_needs():
    batch = [Swap(1, 50000, "W1", BONK, "buy", D(1)), Swap(2, 40000, "W2", BONK, "buy", D(1))]

    bounds = context_bounds(batch)

    assert (bounds.swaps_since, bounds.clusters_fired_since, bounds.big_trades_fired_since) == (
        40000 - 1800,
        40000 - SIX_HOURS + 1,
        40000 - 1800,
    )
    assert context_bounds([]) is None


def test_parameters_change_the_rules():
    params = Parameters(window_seconds=600, min_wallets=2, big_trade_usd=D(500))
    stream = Stream().buy(1000, "W1").buy(1500, "W2", 600).buy(2200, "W3")

    assert events_of(stream, params=params) == [
        (FIRED, WHALE_ACCUMULATION, BONK, 1500, ["W1", "W2"]),
        (FIRED, BIG_TRADE, BONK, 1500, ["W2"]),
    ]


@pytest.mark.parametrize(
    "values",
    [
        {"window_seconds": 0},
        {"min_wallets": True},
        {"cooldown_seconds": -1},
        {"big_trade_usd": 10000},
        {"big_trade_usd": D("NaN")},
        {"momentum_publish_score": 101},
        {"safety_max_top10_share": D("1.5")},
        {"hit_threshold": D(-1)},
    ],
)
def test_parameters_refuse_nonsense(values):
    with pytest.raises(ValueError):
        Parameters(**values)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"side": "hold"}, "side"),
        ({"t": 1000.0}, "t must be an integer"),
        ({"t": True}, "t must be an integer"),
        ({"usd": D(-1)}, "usd"),
        ({"usd": D("Infinity")}, "usd"),
        ({"usd": 100.0}, "usd"),
        ({"wallet": ""}, "wallet"),
    ],
)
def test_a_swap_out_of_its_domain_is_refused(fields, message):
    values = {"id": 1, "t": 1000, "wallet": "W1", "token": BONK, "side": "buy", "usd": D(1)} | fields

    with pytest.raises(InvalidSwap, match=message):
        Swap(**values)


def test_the_engine_imports_no_django():
    code = "import sys, signals.scoring; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_DIR, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


# --- Example 5: momentum --------------------------------------------------------------------------


def momentum_inputs(**changes) -> MarketInputs:
    values = {
        "token": BONK,
        "at": 50000,
        "price_change_1h_percent": observed("10", 60),
        "price_change_24h_percent": observed("25", 300),
        "volume_1h_usd": observed("30000", 120),
        "volume_24h_usd": observed("240000", 600),
        "liquidity_usd": observed("80000", 60),
        "holder_growth_24h_percent": observed("2", 900),
        "tracked_net_flow_usd": observed("12000", 0),
    }
    return MarketInputs(**(values | changes))


def test_momentum_adds_its_six_components():
    assessment = score_momentum(momentum_inputs())

    assert (assessment.kind, assessment.token, assessment.at, assessment.score, assessment.publish) == (
        MOMENTUM,
        BONK,
        50000,
        53,
        True,
    )
    assert assessment.reasons == [
        {"reason": "score", "component": "price_change_1h", "value": "10", "points": 10, "max_points": 20,
         "unit": "percent", "age_seconds": 60, "status": "ok"},
        {"reason": "score", "component": "price_change_24h", "value": "25", "points": 8, "max_points": 15,
         "unit": "percent", "age_seconds": 300, "status": "ok"},
        {"reason": "score", "component": "volume_acceleration", "value": "3", "points": 13, "max_points": 20,
         "unit": "x_hourly_average", "volume_1h_usd": "30000", "volume_24h_usd": "240000", "age_seconds": 600,
         "status": "ok"},
        {"reason": "score", "component": "liquidity", "value": "80000", "points": 10, "max_points": 15,
         "unit": "usd", "age_seconds": 60, "status": "ok"},
        {"reason": "score", "component": "holder_growth_24h", "value": "2", "points": 2, "max_points": 10,
         "unit": "percent", "age_seconds": 900, "status": "ok"},
        {"reason": "score", "component": "tracked_net_flow", "value": "12000", "points": 10, "max_points": 20,
         "unit": "usd", "age_seconds": 0, "status": "ok"},
        {"reason": "threshold", "publish_score": 25, "max_input_age_seconds": 3600},
    ]  # fmt: skip
    assert assessment.signal().to_dict() | {"reasons": None} == {
        "version": "v1",
        "kind": MOMENTUM,
        "token": BONK,
        "side": None,
        "fired_at": 50000,
        "updated_at": 50000,
        "wallets": [],
        "swap_ids": [],
        "score": 53,
        "reasons": None,
    }


@pytest.mark.parametrize(
    ("price_change_1h", "score", "published"),
    [("19", 24, False), ("20", 25, True), ("200", 25, True), ("-30", 5, False)],
)
def test_momentum_is_published_at_twenty_five(price_change_1h, score, published):
    inputs = MarketInputs(BONK, 50000, price_change_1h_percent=observed(price_change_1h), liquidity_usd=observed(10000))

    assessment = score_momentum(inputs)

    assert (assessment.score, assessment.publish, assessment.signal() is not None) == (score, published, published)


def test_stale_or_missing_momentum_inputs_score_nothing_and_say_so():
    inputs = momentum_inputs(price_change_1h_percent=observed("10", 3601), volume_24h_usd=None)

    assessment = score_momentum(inputs)

    assert assessment.score == 53 - 10 - 13
    statuses = {r["component"]: (r["points"], r["status"], r["age_seconds"]) for r in assessment.reasons[:-1]}
    assert statuses["price_change_1h"] == (0, "stale", 3601)
    assert statuses["volume_acceleration"] == (0, "missing", None)
    assert statuses["price_change_24h"] == (8, "ok", 300)
    assert score_momentum(momentum_inputs(price_change_1h_percent=observed("10", 3600))).score == 53


@pytest.mark.parametrize(
    ("volume_1h", "volume_24h", "points"),
    [("10000", "240000", 0), ("20000", "240000", 7), ("40000", "240000", 20), ("5000", "0", 0), ("0", "0", 0)],
)
def test_volume_acceleration_compares_the_last_hour_with_the_days_hourly_average(volume_1h, volume_24h, points):
    inputs = MarketInputs(BONK, 1, volume_1h_usd=observed(volume_1h), volume_24h_usd=observed(volume_24h))

    reason = score_momentum(inputs).reasons[2]

    assert (reason["component"], reason["points"]) == ("volume_acceleration", points)


# --- Example 6: new listings ----------------------------------------------------------------------


def safe_token(**changes) -> TokenSecurity:
    values = {
        "mint_authority": authority(None, 300),
        "freeze_authority": authority(None, 300),
        "top10_holder_share": observed("0.15", 300),
        "liquidity_usd": observed("60000", 120),
    }
    return TokenSecurity(**(values | changes))


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({}, []),
        ({"mint_authority": authority("9AhKqLR67hwapvG8SA2JFXaCshXc9nALJjpKaHZrsbkw")}, ["mint_authority"]),
        ({"freeze_authority": authority("9AhKqLR67hwapvG8SA2JFXaCshXc9nALJjpKaHZrsbkw")}, ["freeze_authority"]),
        ({"top10_holder_share": observed("0.3")}, []),
        ({"top10_holder_share": observed("0.3001")}, ["top10_holder_share"]),
        ({"liquidity_usd": observed("10000")}, []),
        ({"liquidity_usd": observed("9999.99")}, ["liquidity"]),
        ({"mint_authority": None}, ["mint_authority"]),  # unknown
        ({"liquidity_usd": observed("60000", 86401)}, ["liquidity"]),  # stale
        ({"top10_holder_share": observed(None)}, ["top10_holder_share"]),
    ],
)
def test_a_new_listing_is_kept_only_when_every_safety_check_passes(changes, failed):
    security = safe_token(**changes)

    passed, checks = check_safety(security)
    assessment = assess_new_listing(BONK, 49000, 50000, security)

    assert [check["check"] for check in checks if not check["passed"]] == failed
    assert passed is (not failed) is assessment.publish
    assert (assessment.signal() is None) is bool(failed)
    if failed:
        assert assessment.score == 0


def test_a_new_listings_reasons_carry_every_check_and_its_age():
    assessment = assess_new_listing(BONK, 49000, 50000, safe_token(liquidity_usd=None))

    assert assessment.reasons == [
        {"reason": "listing", "source": "birdeye_new_listing", "listed_at": 49000, "age_seconds": 1000},
        {"reason": "safety", "check": "mint_authority", "passed": True, "value": None, "rule": "absent",
         "threshold": None, "age_seconds": 300, "status": "ok"},
        {"reason": "safety", "check": "freeze_authority", "passed": True, "value": None, "rule": "absent",
         "threshold": None, "age_seconds": 300, "status": "ok"},
        {"reason": "safety", "check": "top10_holder_share", "passed": True, "value": "0.15", "rule": "at_most",
         "threshold": "0.3", "age_seconds": 300, "status": "ok"},
        {"reason": "safety", "check": "liquidity", "passed": False, "value": None, "rule": "at_least",
         "threshold": "10000", "age_seconds": None, "status": "missing"},
    ]  # fmt: skip


def test_a_dexscreener_boost_is_paid_promotion_and_adds_nothing():
    boost = Promotion(D(100), D(500), 30)

    plain = assess_new_listing(BONK, 49000, 50000, safe_token())
    boosted = assess_new_listing(BONK, 49000, 50000, safe_token(), source="dexscreener_profile", promotion=boost)

    assert plain.score == boosted.score == 75  # safety 40 + liquidity 6× the floor → 20 + spread 0.5 → 15
    assert boosted.reasons[-1] == {
        "reason": "paid_promotion",
        "source": "dexscreener_boost",
        "amount": "100",
        "total_amount": "500",
        "age_seconds": 30,
        "points": 0,
    }
    assert boosted.reasons[0]["source"] == "dexscreener_profile"
    assert score_momentum(momentum_inputs(), promotion=boost).score == 53
    assert assess_new_listing(BONK, 49000, 50000, safe_token(top10_holder_share=observed("0.3"))).score == 60


def test_a_market_signal_within_the_cooldown_updates_the_active_one():
    first = score_momentum(momentum_inputs()).signal()
    stronger = score_momentum(momentum_inputs(at=51000, liquidity_usd=observed("300000"))).signal()
    same = score_momentum(momentum_inputs(at=52000)).signal()
    later = score_momentum(momentum_inputs(at=50000 + SIX_HOURS)).signal()

    assert settle(None, first).action == FIRED
    update = settle(first, stronger)
    assert (update.action, update.signal.fired_at, update.signal.updated_at, update.signal.score) == (
        UPDATED,
        50000,
        51000,
        58,
    )
    assert settle(first, same) is None
    assert settle(update.signal, first) is None  # older evidence
    assert (settle(first, later).action, settle(first, later).signal.fired_at) == (FIRED, 50000 + SIX_HOURS)


# --- Example 7: outcomes --------------------------------------------------------------------------

PATH = [(600, "1.10"), (1800, "1.20"), (3500, "1.08"), (7200, "0.90"), (43200, "0.60"), (86000, "0.80")]


def prices(path=PATH, offset=0) -> list[tuple[int, Decimal]]:
    return [(t + offset, D(price)) for t, price in path]


def test_an_outcome_reads_the_price_at_one_and_twenty_four_hours_and_the_worst_fall_between():
    up = outcome(WHALE_ACCUMULATION, 1000, D("1.00"), prices(offset=1000))
    down = outcome(WHALE_DISTRIBUTION, 1000, D("1.00"), prices(offset=1000))

    assert up.to_dict() == {
        "kind": WHALE_ACCUMULATION,
        "direction": "up",
        "fired_at": 1000,
        "price_at_firing": "1",
        "price_1h": "1.08",
        "price_24h": "0.8",
        "return_1h": "0.08",
        "return_24h": "-0.2",
        "max_drawdown": "0.5",  # from the 1.20 peak to 0.60
        "hit_1h": True,
        "hit_24h": False,
    }
    assert (down.direction, down.hit_1h, down.hit_24h) == ("down", False, True)
    assert (down.signal_return_1h, down.signal_return_24h) == (D("-0.08"), D("0.2"))


@pytest.mark.parametrize(
    ("kind", "side", "price_1h", "threshold", "hit"),
    [
        (WHALE_ACCUMULATION, None, "1.05", "0.05", True),
        (WHALE_ACCUMULATION, None, "1.0499", "0.05", False),
        (MOMENTUM, None, "1.05", "0.1", False),
        (NEW_LISTING, None, "1.2", "0.1", True),
        (BIG_TRADE, "buy", "1.05", "0.05", True),
        (BIG_TRADE, "sell", "1.05", "0.05", False),
        (BIG_TRADE, "sell", "0.95", "0.05", True),
        (WHALE_DISTRIBUTION, None, "0.9501", "0.05", False),
    ],
)
def test_a_hit_needs_the_threshold_move_the_signalled_way(kind, side, price_1h, threshold, hit):
    params = Parameters(hit_threshold=D(threshold))

    result = outcome(kind, 0, D(1), [(HOUR, D(price_1h))], side=side, params=params)

    assert (result.hit_1h, result.hit_24h, result.price_24h) == (hit, None, None)


@pytest.mark.parametrize(
    ("last_price_at", "price_1h"),
    [(HOUR - 600, D("1.5")), (HOUR - 601, None), (HOUR, D("1.5")), (HOUR + 1, None)],
)
def test_a_price_more_than_ten_minutes_before_the_mark_is_not_the_price_at_the_mark(last_price_at, price_1h):
    assert outcome(MOMENTUM, 0, D(1), [(last_price_at, D("1.5"))]).price_1h == price_1h


def test_an_outcome_without_later_prices_is_not_known_yet():
    result = outcome(WHALE_ACCUMULATION, 0, D(2), [])

    assert (result.return_1h, result.max_drawdown, result.hit_1h, result.hit_24h) == (None, None, None, None)
    assert outcome(MOMENTUM, 0, D(2), [(60, D(3)), (120, D(4))]).max_drawdown == 0
    with pytest.raises(ValueError):
        outcome(WHALE_ACCUMULATION, 0, D(0), [])
    with pytest.raises(ValueError):
        outcome(BIG_TRADE, 0, D(1), [])  # a big trade's direction needs its side


def scored(kind, return_1h, return_24h=None, fired_at=1000, side=None):
    path = [(fired_at + HOUR, D(1) + D(return_1h))]
    if return_24h is not None:
        path.append((fired_at + 86400, D(1) + D(return_24h)))
    return outcome(kind, fired_at, D(1), path, side=side)


def test_the_scoreboard_gives_each_kind_its_hit_rate_with_a_wilson_interval_and_median_return():
    outcomes = [scored(WHALE_ACCUMULATION, r, "0.1") for r in ("0.2", "0.1", "0.06", "0.05", "0.3", "0.07", "0.08")]
    outcomes += [scored(WHALE_ACCUMULATION, r) for r in ("0.09", "-0.1", "0.01")]
    outcomes += [scored(WHALE_DISTRIBUTION, "-0.2"), scored(WHALE_DISTRIBUTION, "0.1")]
    outcomes += [scored(BIG_TRADE, "-0.1", side="sell"), scored(BIG_TRADE, "0.3", side="buy", fired_at=500)]

    board = scoreboard(outcomes)

    accumulation = board[WHALE_ACCUMULATION]
    assert (accumulation.signals, accumulation.hits_1h.wins, accumulation.hits_1h.n) == (10, 8, 10)
    assert (round(accumulation.hits_1h.low, 4), round(accumulation.hits_1h.high, 4)) == (D("0.4902"), D("0.9433"))
    assert (accumulation.hits_24h.wins, accumulation.hits_24h.n, accumulation.hits_24h.rate) == (7, 7, 1)
    assert accumulation.median_return_1h == D("0.075")  # middle of 10: (0.07 + 0.08) / 2
    assert accumulation.median_return_24h == D("0.1")
    distribution = board[WHALE_DISTRIBUTION]
    assert (distribution.hits_1h.wins, distribution.hits_1h.n) == (1, 2)
    assert (round(distribution.hits_1h.low, 4), round(distribution.hits_1h.high, 4)) == (D("0.0945"), D("0.9055"))
    assert distribution.median_return_1h == D("0.05")  # the signalled way: +0.2 and −0.1
    assert (board[BIG_TRADE].hits_1h.wins, board[BIG_TRADE].median_return_1h) == (2, D("0.2"))
    momentum = board[MOMENTUM]
    assert (momentum.signals, momentum.hits_1h.n, momentum.hits_1h.rate, momentum.median_return_1h) == (
        0,
        0,
        None,
        None,
    )
    assert list(board) == [WHALE_ACCUMULATION, WHALE_DISTRIBUTION, BIG_TRADE, MOMENTUM, NEW_LISTING]
    shown = board[WHALE_DISTRIBUTION].to_dict()["hits_1h"]
    assert (shown["hits"], shown["n"], shown["rate"], shown["low"][:6], shown["high"][:6]) == (
        1,
        2,
        "0.5",
        "0.0945",
        "0.9054",
    )


def test_the_scoreboard_counts_the_signals_fired_since_a_time():
    outcomes = [scored(MOMENTUM, "0.1", fired_at=100), scored(MOMENTUM, "-0.1", fired_at=200)]

    assert scoreboard(outcomes, since=100)[MOMENTUM].hits_1h.n == 1  # fired_at 100 is not after 100
    assert scoreboard(outcomes, since=99)[MOMENTUM].hits_1h.n == 2
    assert scoreboard(outcomes, until=100)[MOMENTUM].hits_1h.wins == 1


@pytest.mark.parametrize(
    ("values", "middle"),
    [([], None), (["3"], "3"), (["5", "1", "3"], "3"), (["4", "1", "3", "2"], "2.5"), (["-1", "0.5"], "-0.25")],
)
def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(values, middle):
    assert median([D(value) for value in values]) == (None if middle is None else D(middle))


# --- SIGNALS.md and these tests -------------------------------------------------------------------


def test_every_worked_example_in_signals_md_is_a_test():
    document = (REPO_DIR / "SIGNALS.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", document))

    assert len(named) >= 15
    assert named <= {name for name in globals() if name.startswith("test_")}
    assert "v1" in document.splitlines()[0]


# --- A seeded stream for the state tests ----------------------------------------------------------


def random_stream(seed: int, count: int, days: float = 1) -> list[Swap]:
    """Swaps of 40 wallets on 6 tokens: bursts of several wallets on one token, sells, some big trades."""
    rng = random.Random(seed)
    tokens = [f"T{n}" for n in range(6)]
    swaps: list[Swap] = []
    t = 1_700_000_000
    step = int(days * 86400 / count * 2)
    while len(swaps) < count:
        t += rng.randint(0, step)
        token = rng.choice(tokens)
        side = "buy" if rng.random() < 0.55 else "sell"
        for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):  # a burst: wallets following each other
            wallet = f"W{rng.randrange(40)}"
            usd = D(rng.choice((50, 200, 900, 3000, 10000, 25000))) + D(rng.randrange(100)) / 100
            swaps.append(Swap(len(swaps), t, wallet, token, side if rng.random() < 0.85 else "sell", usd))
            t += rng.randint(0, 120)
    return swaps
