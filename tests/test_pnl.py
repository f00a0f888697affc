"""whales.books.pnl: the worked examples of METRICS.md, one test each, numbers written out."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from whales.books.pnl import (
    WINDOWS,
    CycleClosed,
    CycleOpened,
    InvalidTrade,
    OpenPosition,
    OutOfOrder,
    SellRealized,
    TokenBook,
    Trade,
    TransferredOut,
    WinRate,
    average_cost,
    cycle_win_rate,
    dead_bag_adjusted_win_rate,
    is_dead_bag,
    is_rankable,
    open_position,
    replay,
    sell_win_rate,
    sort_key,
    unrealized,
    wilson_interval,
    window_metrics,
)

D = Decimal
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
WIF = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"
DAY = 86400


def buy(key, time, amount, price, fee="0", token=BONK, order=0) -> Trade:
    return Trade(key, time, "buy", token, D(amount), D(price), D(fee), order)


def sell(key, time, amount, price, fee="0", token=BONK, order=0) -> Trade:
    return Trade(key, time, "sell", token, D(amount), D(price), D(fee), order)


def transfer_in(key, time, amount, price, token=BONK) -> Trade:
    return Trade(key, time, "transfer_in", token, D(amount), D(price), D(0))


def transfer_out(key, time, amount, token=BONK) -> Trade:
    return Trade(key, time, "transfer_out", token, D(amount), D(0), D(0))


def sells_of(ledger) -> dict:
    return {event.key: event for event in ledger.sells()}


def closed(realized, complete=True, closed_time=1000, token=BONK) -> CycleClosed:
    return CycleClosed(token, "open", "close", 0, closed_time, D(realized), complete)


# --- Example 1 ------------------------------------------------------------------------------------


def test_a_sell_takes_the_oldest_lots_first_and_splits_a_lot_across_sells():
    ledger = replay([buy("b1", 100, 100, 1), buy("b2", 200, 100, 2), sell("s1", 300, 150, 3), sell("s2", 400, 50, 1)])

    s1, s2 = ledger.sells()
    assert s1 == SellRealized("s1", BONK, 300, D(150), D(450), D(200), D(250), D(0), (("b1", D(100)), ("b2", D(50))))
    assert s2 == SellRealized("s2", BONK, 400, D(50), D(50), D(100), D(-50), D(0), (("b2", D(50)),))
    assert ledger.realized_pnl == D(200)
    assert ledger.closed_cycles() == [CycleClosed(BONK, "b1", "s2", 100, 400, D(200), True)]
    book = ledger.books[BONK]
    assert (book.holdings, book.cost_basis, book.cycle) == (D(0), D(0), None)


def test_unrealized_pnl_values_open_lots_at_the_current_price():
    book = replay([buy("b1", 100, 100, 1), buy("b2", 200, 100, 2), sell("s1", 300, 150, 3)]).books[BONK]

    assert (book.holdings, book.cost_basis) == (D(50), D(100))
    assert average_cost(book) == D(2)
    assert unrealized(book, D(3)) == D(50)
    assert unrealized(book, D("0.5")) == D(-75)
    assert unrealized(book, None) is None
    assert average_cost(TokenBook(BONK)) is None


# --- Example 2 ------------------------------------------------------------------------------------


def test_buying_again_after_a_full_exit_starts_a_second_cycle():
    ledger = replay([buy("b1", 100, 10, 1), sell("s1", 200, 10, 2), buy("b2", 300, 10, 3), sell("s2", 400, 10, 2)])

    assert ledger.closed_cycles() == [
        CycleClosed(BONK, "b1", "s1", 100, 200, D(10), True),
        CycleClosed(BONK, "b2", "s2", 300, 400, D(-10), True),
    ]
    assert [event.key for event in ledger.events if type(event) is CycleOpened] == ["b1", "b2"]
    assert cycle_win_rate(ledger.closed_cycles()) == WinRate.of(1, 2)
    assert cycle_win_rate(ledger.closed_cycles()).rate == D("0.5")


# --- Example 3 ------------------------------------------------------------------------------------


def test_a_sell_larger_than_holdings_matches_what_exists_and_records_the_rest_as_missing():
    ledger = replay([buy(0, 1, 10, 1), buy(1, 2, 10, 2), sell(2, 3, 15, 3), sell(3, 4, 10, 3)])

    second = sells_of(ledger)[3]
    assert (second.amount, second.missing_amount, second.matched) == (D(10), D(5), ((1, D(5)),))
    assert (second.proceeds, second.cost_basis, second.realized_pnl) == (D(15), D(10), D(5))
    assert ledger.realized_pnl == D(30)  # 25 + 5: the 5 missing tokens' 15 of proceeds are left out
    book = ledger.books[BONK]
    assert (book.missing_amount, book.incomplete, book.holdings) == (D(5), True, D(0))
    assert ledger.closed_cycles() == [CycleClosed(BONK, 0, 3, 1, 4, D(30), False)]
    assert cycle_win_rate(ledger.closed_cycles()) == WinRate(0, 0, None, None, None)
    assert sell_win_rate(ledger.sells()).n == 2


def test_the_fee_of_an_oversell_is_shared_pro_rata_with_the_missing_part():
    ledger = replay([buy("b1", 1, 10, 1), sell("s1", 2, 20, 2, fee=4)])

    (s1,) = ledger.sells()
    assert (s1.proceeds, s1.cost_basis, s1.realized_pnl, s1.missing_amount) == (D(18), D(10), D(8), D(10))


def test_a_sell_with_nothing_held_realizes_nothing_and_is_not_rated():
    ledger = replay([sell("s1", 1, 5, 1, fee="0.1")])

    assert ledger.sells() == [SellRealized("s1", BONK, 1, D(5), D(0), D(0), D(0), D(5), ())]
    assert ledger.closed_cycles() == []
    assert ledger.books[BONK].missing_amount == D(5)
    assert sell_win_rate(ledger.sells()) == WinRate(0, 0, None, None, None)


# --- Example 4 ------------------------------------------------------------------------------------


def test_a_buy_fee_adds_to_cost_and_a_sell_fee_comes_off_proceeds():
    ledger = replay([buy("b1", 1, 100, 1, fee=2), sell("s1", 2, 40, "1.5", fee=1), sell("s2", 3, 60, "1.5", fee=1)])

    s1, s2 = ledger.sells()
    assert (s1.proceeds, s1.cost_basis, s1.realized_pnl) == (D(59), D("40.8"), D("18.2"))
    assert (s2.proceeds, s2.cost_basis, s2.realized_pnl) == (D(89), D("61.2"), D("27.8"))
    assert ledger.realized_pnl == D(46)


# --- Example 5 ------------------------------------------------------------------------------------


def test_many_small_lots_are_consumed_in_order_and_the_rest_keeps_its_cost():
    buys = [buy(f"b{price}", price, 1, price) for price in range(1, 11)]
    ledger = replay([*buys, sell("s1", 11, "5.5", 10)])

    (s1,) = ledger.sells()
    assert s1.matched == (("b1", D(1)), ("b2", D(1)), ("b3", D(1)), ("b4", D(1)), ("b5", D(1)), ("b6", D("0.5")))
    assert (s1.proceeds, s1.cost_basis, s1.realized_pnl) == (D(55), D(18), D(37))
    book = ledger.books[BONK]
    assert [(lot.key, lot.amount, lot.cost) for lot in book.lots] == [
        ("b6", D("0.5"), D(3)),
        ("b7", D(1), D(7)),
        ("b8", D(1), D(8)),
        ("b9", D(1), D(9)),
        ("b10", D(1), D(10)),
    ]
    assert (book.holdings, book.cost_basis) == (D("4.5"), D(37))


# --- Example 6 ------------------------------------------------------------------------------------


def test_tokens_keep_separate_lots_and_a_trade_touches_only_its_own_book():
    trades = [buy("a1", 1, 10, 1, token=WIF), buy("b1", 2, 10, 5), sell("a2", 3, 10, 2, token=WIF), sell("b2", 4, 5, 4)]
    before_wif_sell = replay(trades[:2]).books[BONK].to_dict()
    ledger = replay(trades)

    assert replay(trades[:3]).books[BONK].to_dict() == before_wif_sell
    assert [type(event).__name__ for event in ledger.events] == [
        "CycleOpened",
        "CycleOpened",
        "SellRealized",
        "CycleClosed",
        "SellRealized",
    ]
    assert (ledger.books[WIF].realized_pnl, ledger.books[BONK].realized_pnl, ledger.realized_pnl) == (
        D(10),
        D(-5),
        D(5),
    )
    assert (ledger.books[BONK].holdings, ledger.books[BONK].cost_basis) == (D(5), D(25))
    assert ledger.closed_cycles() == [CycleClosed(WIF, "a1", "a2", 1, 3, D(10), True)]


# --- Example 7 ------------------------------------------------------------------------------------


def test_a_sell_leaving_a_twentieth_of_a_percent_closes_the_cycle_but_five_percent_does_not():
    closes = replay([buy("b1", 1, 10000, 1), sell("s1", 2, 9995, 2)])
    stays_open = replay([buy("b1", 1, 10000, 1), sell("s1", 2, 9500, 2)])
    at_the_line = replay([buy("b1", 1, 10000, 1), sell("s1", 2, 9990, 2)])
    just_above = replay([buy("b1", 1, 10000, 1), sell("s1", 2, 9989, 2)])

    assert closes.closed_cycles() == [CycleClosed(BONK, "b1", "s1", 1, 2, D(9995), True)]
    assert (closes.books[BONK].holdings, closes.books[BONK].cycle) == (D(5), None)
    assert stays_open.closed_cycles() == []
    assert stays_open.books[BONK].cycle.peak == D(10000)
    assert len(at_the_line.closed_cycles()) == 1  # exactly 0.1 % left is dust
    assert just_above.closed_cycles() == []  # 0.11 % left is not
    assert just_above.books[BONK].holdings == D(11)


def test_leftover_dust_is_sold_first_in_the_next_cycle():
    ledger = replay([buy("b1", 1, 10000, 1), sell("s1", 2, 9995, 2), buy("b2", 3, 100, 1), sell("s2", 4, 105, "1.5")])

    s2 = sells_of(ledger)["s2"]
    assert s2.matched == (("b1", D(5)), ("b2", D(100)))
    assert (s2.proceeds, s2.cost_basis, s2.realized_pnl) == (D("157.5"), D(105), D("52.5"))
    assert ledger.closed_cycles()[1] == CycleClosed(BONK, "b2", "s2", 3, 4, D("52.5"), True)


def test_a_sell_of_leftover_dust_while_flat_belongs_to_no_cycle():
    ledger = replay([buy("b1", 1, 10000, 1), sell("s1", 2, 9995, 2), sell("s2", 3, 5, 3)])

    assert sells_of(ledger)["s2"].realized_pnl == D(10)
    assert ledger.realized_pnl == D(10005)
    assert [cycle.realized_pnl for cycle in ledger.closed_cycles()] == [D(9995)]


def test_the_dust_fraction_is_a_parameter():
    trades = [buy("b1", 1, 10000, 1), sell("s1", 2, 9500, 2)]

    assert len(replay(trades, dust_fraction=D("0.05")).closed_cycles()) == 1
    assert replay(trades, dust_fraction=D(0)).closed_cycles() == []
    with pytest.raises(ValueError):
        replay([], dust_fraction=D(1))


# --- Example 8 ------------------------------------------------------------------------------------


def test_realized_pnl_and_cycles_belong_to_the_window_of_the_sell_or_close():
    now = 1_000_000
    trades = [
        buy("w1", now - 10 * DAY, 10, 1, token=WIF),
        sell("w2", now - 3 * DAY, 5, 3, token=WIF),
        buy("b1", now - 2 * DAY, 1, 1),
        sell("b2", now - DAY, 1, "0.5"),
        sell("w3", now - 7200, 5, "0.5", token=WIF),
    ]
    ledger = replay(sorted(trades, key=sort_key))

    metrics = window_metrics(ledger.sells(), ledger.closed_cycles(), [], now)
    day, week = metrics["24h"], metrics["7d"]
    assert day.realized_pnl == D("-2.5")
    assert (day.cycles.wins, day.cycles.n) == (1, 1)  # opened 10 days ago, closed 2 hours ago
    assert (day.sells.wins, day.sells.n) == (0, 1)
    assert week.realized_pnl == D(7)  # the BONK close exactly 24 h ago is in 7d, not in 24h
    assert (week.cycles.wins, week.cycles.n) == (1, 2)
    assert (week.sells.wins, week.sells.n) == (1, 3)
    assert _window_values(metrics["30d"]) == _window_values(metrics["all"]) == _window_values(week)
    assert list(WINDOWS) == ["24h", "7d", "30d", "all"]


def _window_values(metrics):
    return metrics.realized_pnl, metrics.cycles, metrics.sells, metrics.dead_bag_adjusted


# --- Example 9 ------------------------------------------------------------------------------------


def test_breakeven_is_not_a_win():
    flat = replay([buy("b1", 1, 10, 1), sell("s1", 2, 10, 1)])
    flat_after_fees = replay([buy("b1", 1, 10, 1, fee="0.1"), sell("s1", 2, 10, "1.02", fee="0.1")])

    assert cycle_win_rate(flat.closed_cycles()) == WinRate.of(0, 1)
    assert flat_after_fees.closed_cycles()[0].realized_pnl == D(0)
    assert cycle_win_rate(flat_after_fees.closed_cycles()).rate == D(0)


# --- Example 10 -----------------------------------------------------------------------------------


def test_no_closed_cycles_gives_no_win_rate_rather_than_zero():
    still_holding = replay([buy("b1", 1, 10, 1), sell("s1", 2, 5, 2)])

    assert cycle_win_rate(still_holding.closed_cycles()) == WinRate(0, 0, None, None, None)
    assert cycle_win_rate([]).rate is None
    assert sell_win_rate(still_holding.sells()).rate == D(1)


# --- Example 11 -----------------------------------------------------------------------------------


def test_the_wilson_interval_matches_known_values():
    def rounded(interval):
        return tuple(bound.quantize(D("0.0001")) for bound in interval)

    assert rounded(wilson_interval(8, 10)) == (D("0.4902"), D("0.9433"))
    assert rounded(wilson_interval(1, 2)) == (D("0.0945"), D("0.9055"))
    assert rounded(wilson_interval(0, 5)) == (D("0"), D("0.4345"))
    assert rounded(wilson_interval(5, 5)) == (D("0.5655"), D("1"))
    assert wilson_interval(0, 0) is None
    assert WinRate.of(8, 10).rate == D("0.8")
    assert rounded((WinRate.of(8, 10).low, WinRate.of(8, 10).high)) == (D("0.4902"), D("0.9433"))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


# --- Example 12 -----------------------------------------------------------------------------------


def test_a_transfer_in_is_a_flagged_lot_at_market_value():
    ledger = replay([transfer_in("r1", 1, 50, "0.5"), sell("s1", 2, 50, 1)])

    (s1,) = ledger.sells()
    assert (s1.proceeds, s1.cost_basis, s1.realized_pnl) == (D(50), D(25), D(25))
    assert ledger.closed_cycles() == [CycleClosed(BONK, "r1", "s1", 1, 2, D(25), True)]
    lot = replay([transfer_in("r1", 1, 50, "0.5")]).books[BONK].lots[0]
    assert (lot.key, lot.amount, lot.cost, lot.transferred) == ("r1", D(50), D(25), True)


def test_a_transfer_out_removes_lots_at_cost_and_realizes_nothing():
    ledger = replay([buy("b1", 1, 100, 1), transfer_out("x1", 2, 40), sell("s1", 3, 60, 2)])

    assert ledger.events[1] == TransferredOut("x1", BONK, 2, D(40), D(40), D(0), (("b1", D(40)),))
    assert sells_of(ledger)["s1"].realized_pnl == D(60)
    assert ledger.realized_pnl == D(60)
    assert ledger.closed_cycles() == [CycleClosed(BONK, "b1", "s1", 1, 3, D(60), False)]
    assert cycle_win_rate(ledger.closed_cycles()).n == 0
    assert sell_win_rate(ledger.sells()) == WinRate.of(1, 1)


def test_a_transfer_out_of_more_than_is_held_is_recorded_as_missing():
    ledger = replay([buy("b1", 1, 10, 1), transfer_out("x1", 2, 15)])

    assert ledger.events[1] == TransferredOut("x1", BONK, 2, D(15), D(10), D(5), (("b1", D(10)),))
    assert (ledger.books[BONK].missing_amount, ledger.books[BONK].incomplete) == (D(5), True)


# --- Example 13 -----------------------------------------------------------------------------------


def test_dead_bags_count_as_losses_in_the_adjusted_win_rate():
    now = 2_000_000
    cycles = [closed(5, closed_time=now - DAY)] * 3 + [closed(-5, closed_time=now - DAY), closed(9, complete=False)]
    ten_days_down_60 = open_position(replay([buy("b1", now - 10 * DAY, 100, 1)]).books[BONK], D("0.4"))
    positions = [
        ten_days_down_60,
        OpenPosition(WIF, now - 3 * DAY, D(100), D(-80), True),  # too young
        OpenPosition(WIF, now - 10 * DAY, D(100), D(-40), True),  # not down enough
        OpenPosition(WIF, now - 10 * DAY, D(100), D(-50), True),  # exactly -50 % is not below it
        OpenPosition(WIF, now - 10 * DAY, D(100), None, True),  # no price
        OpenPosition(WIF, now - 7 * DAY, D(100), D(-90), True),  # exactly 7 days is not older
        OpenPosition(WIF, now - 10 * DAY, D(100), D(-90), False),  # incomplete cost basis
    ]

    assert ten_days_down_60 == OpenPosition(BONK, now - 10 * DAY, D(100), D(-60), True)
    assert [is_dead_bag(position, now) for position in positions] == [True] + [False] * 6
    assert dead_bag_adjusted_win_rate(cycles, positions, now) == WinRate.of(3, 5)
    assert dead_bag_adjusted_win_rate(cycles, positions, now).rate == D("0.6")
    assert cycle_win_rate(cycles) == WinRate.of(3, 4)
    assert dead_bag_adjusted_win_rate(cycles, positions, now, since=now - DAY // 2) == WinRate.of(0, 1)
    assert is_dead_bag(OpenPosition(WIF, now - 7 * DAY - 1, D(100), D("-50.01"), True), now)  # just past both lines
    assert is_dead_bag(positions[1], now, age_days=2)


# --- Example 14 -----------------------------------------------------------------------------------


def test_a_wallet_ranks_by_win_rate_only_with_five_complete_closed_cycles():
    four = [closed(1)] * 4 + [closed(1, complete=False)] * 3

    assert not is_rankable(cycle_win_rate(four))
    assert is_rankable(cycle_win_rate([*four, closed(-1)]))
    assert is_rankable(cycle_win_rate(four), minimum=4)


# --- Example 15 -----------------------------------------------------------------------------------


def test_the_sell_level_win_rate_is_inflated_by_scaling_out():
    scale_out = [sell(f"s{i}", 1 + i, 10, "1.5") for i in range(1, 4)]
    ledger = replay([buy("b1", 1, 100, 1), *scale_out, sell("s4", 5, 70, "0.5")])

    assert ledger.closed_cycles() == [CycleClosed(BONK, "b1", "s4", 1, 5, D(-20), True)]
    assert cycle_win_rate(ledger.closed_cycles()) == WinRate.of(0, 1)
    assert sell_win_rate(ledger.sells()) == WinRate.of(3, 4)
    assert sell_win_rate(ledger.sells()).rate == D("0.75")


# --- Example 16 -----------------------------------------------------------------------------------


def test_acquisitions_sort_before_disposals_at_the_same_time():
    trades = [sell("s1", 5, 10, 2), buy("b1", 5, 10, 1, order=3), sell("s0", 4, 1, 1), buy("b0", 5, 1, 1, order=1)]

    assert [trade.key for trade in sorted(trades, key=sort_key)] == ["s0", "b0", "b1", "s1"]
    ledger = replay(sorted(trades, key=sort_key))
    assert sells_of(ledger)["s1"].missing_amount == D(0)


def test_a_trade_older_than_the_last_applied_one_is_refused_without_changing_the_book():
    book = TokenBook(BONK)
    book.apply(buy("b1", 100, 10, 1))
    book.apply(sell("s1", 100, 4, 2))
    state = book.to_dict()

    with pytest.raises(OutOfOrder):
        book.apply(buy("b0", 99, 1, 1))
    with pytest.raises(OutOfOrder):
        book.apply(buy("b2", 100, 1, 1))  # same second, but a buy sorts before the sell
    assert book.to_dict() == state
    assert book.apply(sell("s2", 100, 1, 2))[0].matched == (("b1", D(1)),)
    with pytest.raises(OutOfOrder):
        replay([buy("b1", 2, 1, 1), buy("b0", 1, 1, 1)])
    assert replay([buy("b1", 2, 1, 1), buy("b0", 1, 1, 1)], check_order=False).books[BONK].holdings == D(2)


# --- The engine's contracts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("side", "hold"),
        ("amount", D(0)),
        ("amount", D(-1)),
        ("amount", D("NaN")),
        ("amount", 1.5),
        ("price", D(-1)),
        ("price", D("Infinity")),
        ("fee", D("-0.01")),
        ("time", 1.5),
    ],
)
def test_a_trade_out_of_its_domain_is_refused(field, value):
    arguments = {"key": 1, "time": 1, "side": "buy", "token": BONK, "amount": D(1), "price": D(1), "fee": D(0)}

    with pytest.raises(InvalidTrade):
        Trade(**{**arguments, field: value})


def test_a_book_refuses_a_trade_of_another_token():
    with pytest.raises(ValueError):
        TokenBook(BONK).apply(buy("b1", 1, 1, 1, token=WIF))


def test_a_book_survives_a_json_round_trip_exactly():
    book = replay([buy(0, 1, "0.1", 3, fee="0.001"), transfer_in(1, D("2.5"), 7, "0.3"), sell(2, 3, 2, 1)]).books[BONK]

    restored = TokenBook.from_dict(json.loads(json.dumps(book.to_dict())))

    assert restored == book
    assert restored.to_dict() == book.to_dict()
    assert restored.last_position == (3, 1, 0)
    assert restored.lots[0].time == D("2.5")
    with pytest.raises(ValueError):
        TokenBook.from_dict({**book.to_dict(), "version": "v0"})


def test_a_partial_lot_keeps_the_cost_that_is_not_taken():
    ledger = replay([buy("b1", 1, 3, 0, fee=1), sell("s1", 2, 1, 1), sell("s2", 3, 1, 1)])

    s1, s2 = ledger.sells()
    assert s1.cost_basis == D("0.333333333333333333")
    assert s2.cost_basis == D("0.333333333333333333")
    assert ledger.books[BONK].cost_basis == D("0.333333333333333334")


# --- METRICS.md and these tests -------------------------------------------------------------------


def test_every_worked_example_in_metrics_md_is_a_test():
    metrics = (Path(__file__).resolve().parent.parent / "METRICS.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", metrics))

    assert len(named) >= 16
    assert named <= {name for name in globals() if name.startswith("test_")}
    assert "v1" in metrics.splitlines()[0]
