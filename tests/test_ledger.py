"""Stored P&L: positions, cycles and realizations follow the engine; stats per window; pages pinned."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.utils import timezone

from providers.birdeye import BirdeyeClient
from tests.builders import address, spl_transfer, usdc_swap
from tests.support.http import Recorded, Reply, serve
from whales.books import ledger
from whales.books.booking import book_stragglers, book_trades
from whales.books.stats import refresh_stats
from whales.ingestion import ingest as ingestion
from whales.market.valuation import value_unvalued_swaps
from whales.models import (
    ArrivedVia,
    Position,
    PositionCycle,
    Realization,
    Swap,
    Token,
    TokenTransfer,
    TrackedWallet,
    WalletStats,
)

pytestmark = pytest.mark.django_db

ALICE = address("alice the whale")
BONK = address("BONK")
WIF = address("WIF")
NOW = int(timezone.now().timestamp())
HOUR = 3600
DAY = 86_400


@pytest.fixture
def server_with_birdeye():
    """A local server answering Birdeye's historical price: $2.50 for any token at any time."""
    for server in serve():

        def respond(request: Recorded) -> Reply:
            unixtime = int(request.param("unixtime") or 0)
            return Reply(200, {"success": True, "data": {"value": 2.5, "updateUnixTime": unixtime}})

        server.responder = respond
        with BirdeyeClient(server.url, "key", rate_per_second=0, sleep=lambda _: None) as birdeye:
            yield server, birdeye


@pytest.fixture
def alice_wallet() -> TrackedWallet:
    return TrackedWallet.objects.create(address=ALICE, label="Alice")


def ingest(*txs, via=ArrivedVia.WEBHOOK):
    return ingestion.ingest(list(txs), via)


def stats(wallet: TrackedWallet, window: str) -> WalletStats:
    return WalletStats.objects.get(wallet=wallet, window=window)


def stored_pnl_rows(wallet: TrackedWallet) -> tuple:
    positions = sorted(
        Position.objects.filter(wallet=wallet).values_list(
            "token__mint", "book", "holdings", "cost_basis", "realized_pnl", "missing_amount", "incomplete", "opened_at"
        )
    )
    cycles = sorted(
        PositionCycle.objects.filter(wallet=wallet).values_list(
            "token__mint", "opened_key", "opened_at", "closed_key", "closed_at", "realized_pnl", "complete"
        )
    )
    sells = sorted(
        Realization.objects.filter(wallet=wallet).values_list(
            "swap_id", "amount", "proceeds", "cost_basis", "realized_pnl", "missing_amount"
        )
    )
    return positions, cycles, sells


def test_a_round_trip_realizes_the_difference_and_closes_a_winning_cycle(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "1000", "10", NOW - 2 * HOUR))
    ingest(usdc_swap(ALICE, BONK, "sell", "1000", "15", NOW - HOUR))

    position = Position.objects.get(wallet=alice_wallet)
    assert (position.holdings, position.realized_pnl, position.opened_at) == (0, Decimal("5"), None)
    cycle = PositionCycle.objects.get(wallet=alice_wallet)
    assert (cycle.realized_pnl, cycle.complete, cycle.closed_at is not None) == (Decimal("5"), True, True)
    day = stats(alice_wallet, "24h")
    assert (day.realized_pnl, day.cycles, day.cycle_wins, day.win_rate) == (Decimal("5"), 1, 1, Decimal("1"))
    assert (day.volume_usd, day.swap_count, day.rankable) == (Decimal("25"), 2, False)
    assert day.roi == Decimal("0.5")  # $5 on the $10 the sold tokens cost


def test_a_partial_sell_keeps_the_position_open_with_its_running_pnl(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "1000", "10", NOW - 3 * HOUR))
    ingest(usdc_swap(ALICE, BONK, "buy", "1000", "20", NOW - 2 * HOUR))
    ingest(usdc_swap(ALICE, BONK, "sell", "1500", "30", NOW - HOUR))

    position = Position.objects.get(wallet=alice_wallet)
    assert (position.holdings, position.cost_basis, position.realized_pnl) == (
        Decimal("500"),
        Decimal("10"),
        Decimal("10"),
    )
    assert position.average_cost == Decimal("0.02")
    assert [(lot["amount"], lot["cost"]) for lot in position.lots] == [(Decimal("500"), Decimal("10"))]
    cycle = PositionCycle.objects.get(wallet=alice_wallet)
    assert (cycle.closed_at, cycle.realized_pnl) == (None, Decimal("10"))
    assert stats(alice_wallet, "all").cycles == 0  # nothing closed yet: no win rate, not 0 %
    assert stats(alice_wallet, "all").win_rate is None
    sell = Realization.objects.get()
    assert (sell.proceeds, sell.cost_basis, sell.realized_pnl) == (Decimal("30"), Decimal("20"), Decimal("10"))


def test_an_oversell_is_matched_as_far_as_holdings_go_and_marked_incomplete(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "100", "1", NOW - 2 * HOUR))
    ingest(usdc_swap(ALICE, BONK, "sell", "300", "6", NOW - HOUR))

    position = Position.objects.get(wallet=alice_wallet)
    assert (position.missing_amount, position.incomplete, position.realized_pnl) == (Decimal("200"), True, Decimal("1"))
    all_time = stats(alice_wallet, "all")
    assert (all_time.incomplete, all_time.cycles, all_time.win_rate) == (True, 0, None)
    assert all_time.realized_pnl == Decimal("1")  # proceeds of the matched third (2) minus its cost (1)


def test_realized_pnl_and_cycles_belong_to_the_window_of_the_sell(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "100", "100", NOW - 10 * DAY))
    ingest(usdc_swap(ALICE, BONK, "sell", "100", "80", NOW - 3 * DAY))  # a losing cycle closed 3 days ago
    ingest(usdc_swap(ALICE, WIF, "buy", "10", "10", NOW - 40 * DAY))
    ingest(usdc_swap(ALICE, WIF, "sell", "10", "30", NOW - 2 * HOUR))  # opened 40 days ago, closed today

    assert (stats(alice_wallet, "24h").realized_pnl, stats(alice_wallet, "24h").cycles) == (Decimal("20"), 1)
    week = stats(alice_wallet, "7d")
    assert (week.realized_pnl, week.cycles, week.cycle_wins) == (
        Decimal("0"),
        2,
        1,
    )
    assert stats(alice_wallet, "7d").win_rate == Decimal("0.5")  # Wilson 95 %: 0.5 ± 1.96/2.9208·√0.3651
    assert (stats(alice_wallet, "7d").win_rate_low, stats(alice_wallet, "7d").win_rate_high) == (
        Decimal("0.094529"),
        Decimal("0.905471"),
    )


def test_five_closed_cycles_make_a_wallet_rankable_by_win_rate(alice_wallet):
    for n in range(5):
        ingest(usdc_swap(ALICE, BONK, "buy", "10", "10", NOW - (20 - 2 * n) * HOUR))
        ingest(usdc_swap(ALICE, BONK, "sell", "10", str(11 if n % 2 else 9), NOW - (19 - 2 * n) * HOUR))
        assert stats(alice_wallet, "24h").rankable is (n == 4)
    assert (stats(alice_wallet, "24h").cycle_wins, stats(alice_wallet, "24h").cycles) == (2, 5)


def test_an_old_heavy_loser_still_held_counts_as_a_dead_bag(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "1000", "100", NOW - 9 * DAY))
    ingest(usdc_swap(ALICE, WIF, "buy", "10", "10", NOW - 2 * DAY))
    ingest(usdc_swap(ALICE, WIF, "sell", "10", "12", NOW - DAY))
    Token.objects.filter(mint=BONK).update(price_usd=Decimal("0.04"), price_updated_at=timezone.now())  # down 60 %
    bonk_ids = Token.objects.filter(mint=BONK).values_list("id", flat=True)
    touched = ledger.revalue_open_positions(bonk_ids, [alice_wallet.id])
    refresh_stats(touched)

    week = stats(alice_wallet, "7d")
    assert (week.dead_bags, week.cycles, week.cycle_wins) == (1, 1, 1)
    assert (week.win_rate, week.adjusted_win_rate) == (Decimal("1"), Decimal("0.5"))
    assert week.unrealized_pnl == Decimal("-60")
    assert week.total_pnl == Decimal("-58")


def test_a_backfilled_swap_older_than_the_book_replays_the_position_from_the_table(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "sell", "100", "30", NOW - HOUR))  # seen first: an oversell
    assert Position.objects.get().incomplete is True

    ingest(usdc_swap(ALICE, BONK, "buy", "100", "10", NOW - 5 * HOUR), via=ArrivedVia.BACKFILL)

    position = Position.objects.get()
    assert (position.incomplete, position.missing_amount, position.realized_pnl) == (False, 0, Decimal("20"))
    assert stats(alice_wallet, "24h").win_rate == Decimal("1")


def test_incremental_ingest_in_any_arrival_order_equals_a_full_recompute(alice_wallet):
    rng = random.Random(7)
    txs, holdings = [], {BONK: Decimal(0), WIF: Decimal(0)}
    for n in range(60):
        mint = rng.choice([BONK, WIF])
        if holdings[mint] > 0 and rng.random() < 0.45:
            amount = min(holdings[mint], Decimal(rng.randint(1, 400)))
            side = "sell"
            holdings[mint] -= amount
        else:
            amount, side = Decimal(rng.randint(1, 400)), "buy"
            holdings[mint] += amount
        price = Decimal(rng.randint(1, 300)) / 100
        timestamp = NOW - 30 * DAY + n * 600 + rng.choice([0, 0, 0, -600])  # some share a second with the last
        txs.append(usdc_swap(ALICE, mint, side, str(amount), str(amount * price), timestamp, seed=f"tx{n}"))
    arrival = txs[:]
    rng.shuffle(arrival)  # backfill and webhooks interleave
    for start in range(0, len(arrival), 7):
        ingest(*arrival[start : start + 7])
    incremental = stored_pnl_rows(alice_wallet)

    for mint in (BONK, WIF):
        ledger.recompute_position(alice_wallet.id, Token.objects.get(mint=mint).id)

    assert stored_pnl_rows(alice_wallet) == incremental
    assert Swap.objects.count() == 60


def test_a_swap_waiting_for_its_usd_value_is_left_out_until_valued_then_counted(alice_wallet):
    sol_quoted = usdc_swap(ALICE, BONK, "buy", "1000", "10", NOW - HOUR)
    ingestion.ingest([sol_quoted], ArrivedVia.WEBHOOK)
    Swap.objects.update(usd_price=None, usd_value=None)
    ledger.recompute_position(alice_wallet.id, Token.objects.get(mint=BONK).id)
    refresh_stats([alice_wallet.id])
    assert (Position.objects.get().pending_trades, Position.objects.get().holdings) == (1, 0)
    assert stats(alice_wallet, "all").pending_trades == 1

    assert value_unvalued_swaps() == 1  # USDC: one dollar each, no provider needed

    assert (Position.objects.get().pending_trades, Position.objects.get().holdings) == (0, Decimal("1000"))
    assert stats(alice_wallet, "all").pending_trades == 0


def test_refreshing_stats_rolls_the_windows_without_new_swaps(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "10", "10", NOW - 3 * HOUR))
    ingest(usdc_swap(ALICE, BONK, "sell", "10", "20", NOW - 2 * HOUR))
    assert stats(alice_wallet, "24h").realized_pnl == Decimal("10")

    refresh_stats(now=datetime.fromtimestamp(NOW, UTC) + timedelta(days=2))

    assert stats(alice_wallet, "24h").realized_pnl == Decimal("0")
    assert stats(alice_wallet, "7d").realized_pnl == Decimal("10")


# --- transfers ---------------------------------------------------------------------------------------

BOB = address("bob the other wallet")


def test_tokens_sent_to_another_tracked_wallet_leave_at_cost_and_arrive_at_market_value(alice_wallet):
    bob_wallet = TrackedWallet.objects.create(address=BOB, label="Bob")
    ingest(usdc_swap(ALICE, BONK, "buy", "1000", "10", NOW - 5 * HOUR))  # alice pays $0.01 a token
    ingest(usdc_swap(ALICE, BONK, "buy", "1000", "30", NOW - 4 * HOUR))  # the market is at $0.03 now
    ingest(spl_transfer(ALICE, BOB, BONK, "1500", NOW - 4 * HOUR + 300))
    ingest(usdc_swap(BOB, BONK, "sell", "1500", "60", NOW - 2 * HOUR))

    alices = Position.objects.get(wallet=alice_wallet)
    assert (alices.holdings, alices.cost_basis, alices.realized_pnl) == (Decimal("500"), Decimal("15"), Decimal("0"))
    assert PositionCycle.objects.get(wallet=alice_wallet).complete is False  # a transfer out: left out of win rates
    bobs = Position.objects.get(wallet=bob_wallet)
    # Bob's lot is worth $0.03 a token on receipt (alice's swap five minutes earlier): $45 for 1500.
    assert (bobs.realized_pnl, bobs.incomplete, bobs.holdings) == (Decimal("15"), False, Decimal("0"))
    [cycle] = PositionCycle.objects.filter(wallet=bob_wallet)
    assert (cycle.opened_key[0], cycle.realized_pnl, cycle.complete) == ("t", Decimal("15"), True)
    assert stats(bob_wallet, "24h").win_rate == Decimal("1")


def test_an_incoming_transfer_without_a_price_waits_then_is_valued_from_birdeye(alice_wallet, server_with_birdeye):
    server, birdeye = server_with_birdeye
    ingest(spl_transfer(BOB, ALICE, WIF, "100", NOW - 3 * HOUR))
    position = Position.objects.get(wallet=alice_wallet)
    assert (position.pending_trades, position.holdings) == (1, Decimal("0"))

    assert value_unvalued_swaps(birdeye=birdeye) == 1

    position = Position.objects.get(wallet=alice_wallet)
    assert (position.pending_trades, position.holdings, position.cost_basis) == (0, Decimal("100"), Decimal("250"))
    assert position.lots[0]["transferred"] is True
    assert server.requests[0].param("address") == WIF
    assert server.requests[0].param("unixtime") == str(NOW - 3 * HOUR)


def test_incremental_and_full_replay_agree_with_transfers_in_the_mix(alice_wallet):
    bob_wallet = TrackedWallet.objects.create(address=BOB, label="Bob")
    txs = [
        usdc_swap(ALICE, BONK, "buy", "300", "3", NOW - 9 * HOUR),
        spl_transfer(ALICE, BOB, BONK, "100", NOW - 8 * HOUR),
        usdc_swap(BOB, BONK, "buy", "50", "1", NOW - 8 * HOUR + 60),
        usdc_swap(ALICE, BONK, "sell", "200", "4", NOW - 7 * HOUR),
        usdc_swap(BOB, BONK, "sell", "150", "3", NOW - 6 * HOUR),
        spl_transfer(BOB, ALICE, BONK, "10", NOW - 5 * HOUR),
    ]
    for tx in reversed(txs):  # newest first, as a backfill brings them
        ingest(tx, via=ArrivedVia.BACKFILL)
    incremental = stored_pnl_rows(alice_wallet), stored_pnl_rows(bob_wallet)

    for wallet in (alice_wallet, bob_wallet):
        ledger.recompute_position(wallet.id, Token.objects.get(mint=BONK).id)

    assert (stored_pnl_rows(alice_wallet), stored_pnl_rows(bob_wallet)) == incremental


def test_trades_are_marked_as_booked_once_in_their_position(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "100", "10", NOW - 3 * HOUR))
    ingest(spl_transfer(BOB, ALICE, WIF, "5", NOW - 2 * HOUR))  # no price for it yet: pending

    assert list(Swap.objects.values_list("in_books", flat=True)) == [True]
    assert list(TokenTransfer.objects.values_list("in_books", flat=True)) == [False]


def test_trades_stored_but_never_booked_are_booked_by_the_straggler_sweep(alice_wallet):
    ingest(usdc_swap(ALICE, BONK, "buy", "100", "10", NOW - 3 * HOUR))
    ingest(usdc_swap(ALICE, BONK, "sell", "100", "15", NOW - 2 * HOUR))
    booked = stored_pnl_rows(alice_wallet)
    # As if the process had died between storing the swaps and booking them.
    Position.objects.all().delete()
    PositionCycle.objects.all().delete()
    Swap.objects.update(in_books=False, ingested_at=timezone.now() - timedelta(minutes=5))

    assert book_stragglers() == 1

    assert stored_pnl_rows(alice_wallet) == booked
    assert not Swap.objects.filter(in_books=False).exists()
    assert stats(alice_wallet, "24h").realized_pnl == Decimal("5")
    assert book_stragglers() == 0


def test_trades_booked_by_a_replay_before_their_own_booking_are_not_counted_twice(alice_wallet):
    result = ingest(usdc_swap(ALICE, BONK, "buy", "100", "10", NOW - 3 * HOUR))
    ingest(spl_transfer(BOB, ALICE, BONK, "5", NOW - 2 * HOUR))  # pending: no price for it
    before = stored_pnl_rows(alice_wallet), Position.objects.get().pending_trades, Position.objects.get().bought_usd
    ledger.recompute_position(alice_wallet.id, Token.objects.get(mint=BONK).id)  # a replay in between

    book_trades(result.new_swaps, list(TokenTransfer.objects.all()))  # the late booking

    after = stored_pnl_rows(alice_wallet), Position.objects.get().pending_trades, Position.objects.get().bought_usd
    assert after == before
    assert before[1:] == (1, Decimal("10"))


def test_bookings_of_one_wallet_run_in_one_ordered_lane_so_a_later_delivery_booked_first_replays_nothing():
    TrackedWallet.objects.create(address=ALICE, label="alice")
    first = ingestion.ingest([usdc_swap(ALICE, BONK, "buy", "100", "10", NOW - 120)], ArrivedVia.WEBHOOK, book=False)
    second = ingestion.ingest([usdc_swap(ALICE, BONK, "sell", "40", "8", NOW - 60)], ArrivedVia.WEBHOOK, book=False)

    with patch.object(ledger, "recompute_position", wraps=ledger.recompute_position) as replays:
        second.book()  # a second worker got the later delivery first
        first.book()

    assert replays.call_count == 0
    assert not Swap.objects.filter(in_books=False).exists()
    position = Position.objects.get(wallet__address=ALICE, token__mint=BONK)
    assert position.holdings == Decimal(60)
    assert Realization.objects.get().realized_pnl == Decimal(4)  # 40 bought for 4, sold for 8


def test_one_booking_books_every_live_trade_waiting_and_the_later_tasks_find_theirs_done():
    """A backlog of deliveries (they came faster than one at a time is booked) is booked in one
    transaction by the first task; trades stored as history wait for their own booking."""
    carol = address("carol the whale")
    for wallet in (ALICE, BOB, carol):
        TrackedWallet.objects.create(address=wallet, label=wallet[:6])
    deliveries = [
        ingestion.ingest([usdc_swap(wallet, BONK, "buy", "100", "10", NOW - 60)], ArrivedVia.WEBHOOK, book=False)
        for wallet in (ALICE, BOB)
    ]
    history = ingestion.ingest(
        [usdc_swap(carol, BONK, "buy", "5", "1", NOW - 30 * DAY)], ArrivedVia.BACKFILL, book=False
    )

    with patch.object(ledger, "apply_new_trades", wraps=ledger.apply_new_trades) as bookings:
        deliveries[0].book()
        deliveries[1].book()

    assert bookings.call_count == 1
    assert set(Swap.objects.filter(in_books=True).values_list("wallet__address", flat=True)) == {ALICE, BOB}
    assert stats(TrackedWallet.objects.get(address=BOB), "24h").swap_count == 1
    assert not Swap.objects.get(id=history.new_swaps[0].id).in_books
    history.book()
    assert Swap.objects.get(id=history.new_swaps[0].id).in_books


def test_a_task_whose_trades_a_committed_booking_of_this_process_took_returns_without_a_query(
    django_capture_on_commit_callbacks, django_assert_num_queries
):
    for wallet in (ALICE, BOB):
        TrackedWallet.objects.create(address=wallet, label=wallet[:6])
    first, second = (
        ingestion.ingest([usdc_swap(wallet, BONK, "buy", "100", "10", NOW - 60)], ArrivedVia.WEBHOOK, book=False)
        for wallet in (ALICE, BOB)
    )
    with django_capture_on_commit_callbacks(execute=True):
        first.book()

    with django_assert_num_queries(0):
        second.book()
    assert set(Swap.objects.filter(in_books=True).values_list("wallet__address", flat=True)) == {ALICE, BOB}


def test_what_follows_a_booking_is_done_once_by_the_booking_that_took_the_trades(
    django_capture_on_commit_callbacks,
):
    """Signals judge each booked swap once: the booking that took a backlog queues them all, the
    tasks that find theirs done queue nothing, and the straggler sweep queues what it books."""
    for wallet in (ALICE, BOB):
        TrackedWallet.objects.create(address=wallet, label=wallet[:6])
    first, second = (
        ingestion.ingest([usdc_swap(wallet, BONK, "buy", "100", "10", NOW - 60)], ArrivedVia.WEBHOOK, book=False)
        for wallet in (ALICE, BOB)
    )
    with patch("whales.queue.enqueue_named") as queued, django_capture_on_commit_callbacks(execute=True):
        first.book()
        second.book()
    judged = [call.args[1] for call in queued.call_args_list if call.args[0] == "signals.tasks.detect_swap_signals"]
    assert judged == [[first.new_swaps[0].id, second.new_swaps[0].id]]

    late = ingestion.ingest([usdc_swap(ALICE, WIF, "buy", "5", "1", NOW - 30)], ArrivedVia.WEBHOOK, book=False)
    Swap.objects.filter(id=late.new_swaps[0].id).update(ingested_at=timezone.now() - timedelta(minutes=5))
    with patch("whales.queue.enqueue_named") as queued, django_capture_on_commit_callbacks(execute=True):
        assert book_stragglers() == 1
    assert [call.args for call in queued.call_args_list] == [
        ("signals.tasks.detect_swap_signals", [late.new_swaps[0].id])
    ]
