"""signals.scoring's Detector: the order swaps are taken in, its bounded state, rebuilding it per batch, parameters."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from signals.scoring import (
    BIG_TRADE,
    FIRED,
    UPDATED,
    WHALE_ACCUMULATION,
    WHALE_DISTRIBUTION,
    Detector,
    InvalidSwap,
    Parameters,
    Signal,
    Swap,
    WalletStats,
    context_bounds,
)
from tests.signal_streams import BONK, SIX_HOURS, WIF, D, Stream, events_of, final_signals, summary

REPO_DIR = Path(__file__).resolve().parent.parent


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
