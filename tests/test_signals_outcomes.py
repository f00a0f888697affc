"""signals.scoring, outcomes: the price after a signal, hits, drawdown, and the scoreboard per kind."""

from __future__ import annotations

from decimal import Decimal

import pytest

from signals.scoring import (
    BIG_TRADE,
    MOMENTUM,
    NEW_LISTING,
    WHALE_ACCUMULATION,
    WHALE_DISTRIBUTION,
    Parameters,
    median,
    outcome,
    scoreboard,
)
from tests.signal_streams import HOUR, D

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
