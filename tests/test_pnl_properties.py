"""whales.books.pnl over random trade sequences (hypothesis): incremental = replay, and cost is conserved."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from whales.books.pnl import (
    ACQUISITIONS,
    CycleClosed,
    CycleOpened,
    SellRealized,
    TokenBook,
    Trade,
    TransferredOut,
    replay,
    sort_key,
)

TOKENS = ("BONK", "WIF")
# Round numbers make exact full exits and dust closes likely; random decimals make uneven lot splits.
round_amounts = st.sampled_from([Decimal(n) for n in ("1", "2", "5", "10", "0.5", "9.99", "10000")])
random_amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000000"), places=6)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal("1000"), places=9)
fees = st.one_of(st.just(Decimal(0)), st.decimals(min_value=Decimal(0), max_value=Decimal("5"), places=6))
dust_fractions = st.sampled_from([Decimal("0.001"), Decimal(0), Decimal("0.05")])


@st.composite
def trade_lists(draw) -> list[Trade]:
    """Up to 40 trades, keyed by position, with times and in-transaction orders that often tie."""
    count = draw(st.integers(min_value=0, max_value=40))
    return [
        Trade(
            key=index,
            time=draw(st.integers(min_value=0, max_value=30)),
            side=draw(st.sampled_from(["buy", "buy", "sell", "sell", "transfer_in", "transfer_out"])),
            token=draw(st.sampled_from(TOKENS)),
            amount=draw(st.one_of(round_amounts, random_amounts)),
            price=draw(prices),
            fee=draw(fees),
            order=draw(st.integers(min_value=0, max_value=2)),
        )
        for index in range(count)
    ]


@settings(max_examples=300, deadline=None)
@given(trade_lists(), dust_fractions)
def test_applying_trades_one_by_one_through_stored_json_state_equals_a_full_replay(trades, dust_fraction):
    trades = sorted(trades, key=sort_key)
    stored: dict[str, str] = {}
    events = []
    for trade in trades:
        state = stored.get(trade.token)
        book = TokenBook(trade.token, dust_fraction) if state is None else TokenBook.from_dict(json.loads(state))
        events += book.apply(trade)
        stored[trade.token] = json.dumps(book.to_dict())

    ledger = replay(trades, dust_fraction=dust_fraction)

    assert events == ledger.events
    assert {token: json.loads(state) for token, state in stored.items()} == {
        token: book.to_dict() for token, book in ledger.books.items()
    }


@settings(max_examples=300, deadline=None)
@given(trade_lists(), dust_fractions)
def test_cost_is_conserved_and_amounts_never_go_negative(trades, dust_fraction):
    ledger = replay(trades, dust_fraction=dust_fraction, check_order=False)  # any order, as the CLI allows

    with localcontext(prec=500):  # exact for these sizes, whatever the engine does
        for token in TOKENS:
            acquired = [trade for trade in trades if trade.token == token and trade.side in ACQUISITIONS]
            disposals = [event for event in ledger.events if isinstance(event, SellRealized | TransferredOut)]
            disposals = [event for event in disposals if event.token == token]
            book = ledger.books.get(token, TokenBook(token))

            bought_cost = sum((trade.amount * trade.price + trade.fee for trade in acquired), Decimal(0))
            matched_cost = sum((event.cost_basis for event in disposals), Decimal(0))
            assert bought_cost == matched_cost + book.cost_basis

            bought_amount = sum((trade.amount for trade in acquired), Decimal(0))
            matched_amount = sum((amount for event in disposals for _, amount in event.matched), Decimal(0))
            assert bought_amount == matched_amount + book.holdings

            assert book.holdings == sum((lot.amount for lot in book.lots), Decimal(0))
            assert book.cost_basis == sum((lot.cost for lot in book.lots), Decimal(0))
            assert all(lot.amount > 0 and lot.cost >= 0 for lot in book.lots)
            assert book.missing_amount == sum((event.missing_amount for event in disposals), Decimal(0))
            assert book.missing_amount >= 0
            assert book.incomplete == (book.missing_amount > 0)
            for event in disposals:
                assert event.missing_amount >= 0
                assert event.amount == sum((amount for _, amount in event.matched), Decimal(0)) + event.missing_amount
                assert all(amount > 0 for _, amount in event.matched)

            sells = [event for event in disposals if type(event) is SellRealized]
            assert all(sell.realized_pnl == sell.proceeds - sell.cost_basis for sell in sells)
            assert book.realized_pnl == sum((sell.realized_pnl for sell in sells), Decimal(0))


@settings(max_examples=200, deadline=None)
@given(trade_lists(), dust_fractions)
def test_cycles_open_and_close_in_turn_and_carry_the_pnl_of_their_sells(trades, dust_fraction):
    ledger = replay(sorted(trades, key=sort_key), dust_fraction=dust_fraction)

    for token in TOKENS:
        events = [event for event in ledger.events if event.token == token]
        opened, realized, in_cycle = None, Decimal(0), False
        for event in events:
            if type(event) is CycleOpened:
                assert not in_cycle
                opened, realized, in_cycle = event, Decimal(0), True
            elif type(event) is SellRealized and in_cycle:
                realized += event.realized_pnl
            elif type(event) is CycleClosed:
                assert in_cycle and (event.opened_key, event.opened_time) == (opened.key, opened.time)
                assert event.realized_pnl == realized
                in_cycle = False
        book = ledger.books.get(token)
        assert (book is not None and book.cycle is not None) == in_cycle
