"""Races in the books: ingest and booking (webhook deliveries booked by the worker, backfills booked as
they go, deliveries whose booking never came), the straggler sweep, valuation and repricing, and the
stats refresh, all at once over the same wallets on real PostgreSQL. Each runs as its Celery task
does (retries included). No task may fail, no trade may stay unbooked, and the books must equal
what a full recompute makes of the stored trades."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from tests.builders import address, sol_swap, usdc_swap
from tests.support.http import Recorded, Reply, ScriptedServer
from whales import tasks
from whales.books.recompute import recompute_all
from whales.ingestion.ingest import ingest
from whales.market.prices import sol_token
from whales.models import (
    ArrivedVia,
    Position,
    PositionCycle,
    Realization,
    Swap,
    TokenTransfer,
    TrackedWallet,
    WalletStats,
)
from whales.solana import WSOL_MINT

pytestmark = pytest.mark.django_db(transaction=True)

WALLETS = 5
TOKENS = 3
ROUNDS = 14
SOL_USD = Decimal("150")


def birdeye_answers(request: Recorded) -> Reply:
    """Prices for any mint; SOL/USD history every 15 minutes over whatever span is asked."""
    if request.path == "/defi/multi_price":
        mints = (request.param("list_address") or "").split(",")
        now = int(time.time())
        return Reply(200, {"success": True, "data": {m: {"value": 2.5, "updateUnixTime": now} for m in mints}})
    if request.path == "/defi/history_price":
        start, end = int(request.param("time_from")), int(request.param("time_to"))
        items = [{"unixTime": t, "value": float(SOL_USD)} for t in range(start - start % 900, end + 900, 900)]
        return Reply(200, {"success": True, "data": {"items": items}})
    return Reply(200, {"success": True, "data": None})


class Trading:
    """Deterministic trades of `whales` in `mints`: live ones (USDC, valued as they arrive) after
    `live_from`, history (SOL, valued later) going back from `history_from`, each pair buying more
    than it sells so positions stay open and cycles open and close."""

    def __init__(self, whales: list[TrackedWallet], mints: list[str], seed: int) -> None:
        self.whales, self.mints = whales, mints
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        now = int(time.time())
        self.live_clock = now - 3_600
        self.history_clock = now - 3 * 86_400

    def _batch(self, quote: str, step: int) -> list[dict]:
        with self.lock:
            batch = []
            for whale in self.rng.sample(self.whales, 3):
                mint = self.rng.choice(self.mints)
                if quote == "usdc":
                    self.live_clock += step
                    when = self.live_clock
                else:
                    self.history_clock -= step
                    when = self.history_clock
                side = "buy" if self.rng.random() < 0.6 else "sell"
                amount = str(self.rng.randint(1, 40))
                if quote == "usdc":
                    batch.append(usdc_swap(whale.address, mint, side, amount, str(self.rng.randint(5, 90)), when))
                else:
                    sol = f"0.{self.rng.randint(10, 99)}"
                    batch.append(sol_swap(whale.address, mint, side, amount, sol, when))
            return batch

    def live(self) -> list[dict]:
        return self._batch("usdc", 7)

    def history(self) -> list[dict]:
        return self._batch("sol", 301)


def books() -> dict[str, list[tuple]]:
    """Everything booking writes, in a comparable form (row ids and refresh times left out)."""
    return {
        "positions": sorted(
            Position.objects.values_list(
                "wallet_id",
                "token_id",
                "holdings",
                "cost_basis",
                "realized_pnl",
                "missing_amount",
                "incomplete",
                "opened_at",
                "cycle_complete",
                "unrealized_pnl",
                "pending_trades",
                "bought_usd",
                "sold_usd",
                "last_trade_at",
            )
        ),
        "books": sorted((p.wallet_id, p.token_id, repr(p.book)) for p in Position.objects.all()),
        "cycles": sorted(
            PositionCycle.objects.values_list(
                "wallet_id",
                "token_id",
                "opened_key",
                "opened_at",
                "closed_key",
                "closed_at",
                "realized_pnl",
                "complete",
            )
        ),
        "realizations": sorted(
            Realization.objects.values_list(
                "swap_id",
                "wallet_id",
                "token_id",
                "at",
                "amount",
                "proceeds",
                "cost_basis",
                "realized_pnl",
                "missing_amount",
            )
        ),
        "stats": sorted(
            WalletStats.objects.values_list(
                "wallet_id",
                "window",
                "realized_pnl",
                "unrealized_pnl",
                "total_pnl",
                "cycles",
                "cycle_wins",
                "sells",
                "swap_count",
                "volume_usd",
                "open_positions",
                "pending_trades",
                "incomplete",
            )
        ),
    }


def test_booking_sweeping_valuing_and_repricing_at_once_leave_the_books_a_full_recompute_would(
    settings, server: ScriptedServer
):
    settings.BIRDEYE_API_KEY = "race-key"
    settings.BIRDEYE_BASE_URL = settings.DEXSCREENER_BASE_URL = settings.JUPITER_BASE_URL = server.url
    settings.BIRDEYE_RATE_PER_SECOND = 0
    server.responder = birdeye_answers
    whales = [TrackedWallet.objects.create(address=address(f"race whale {n}")) for n in range(WALLETS)]
    trading = Trading(whales, [address(f"race token {n}") for n in range(TOKENS)], seed=9)
    sol_token()
    failures: list[str] = []
    booked_by_workers: list[int] = []
    crashed: list[int] = []

    def run_task(task, *args) -> None:
        result = task.apply(args=args)
        if result.failed():
            raise result.result

    def webhook() -> None:
        # A delivery: stored and pushed by the web process, booked by a worker.
        result = ingest(trading.live(), ArrivedVia.WEBHOOK, book=False)
        run_task(tasks.book_trades, [s.id for s in result.new_swaps], [t.id for t in result.new_transfers])
        booked_by_workers.extend(s.id for s in result.new_swaps)

    def backfill() -> None:
        # A history page: older than the books, SOL-quoted with no SOL price yet.
        ingest(trading.history(), ArrivedVia.BACKFILL)

    def crash() -> None:
        # A delivery whose worker died before booking it, found later by the sweep.
        result = ingest(trading.live(), ArrivedVia.WEBHOOK, book=False)
        ids = [s.id for s in result.new_swaps]
        Swap.objects.filter(id__in=ids).update(ingested_at=timezone.now() - timedelta(minutes=5))
        crashed.extend(ids)

    jobs: dict[str, Callable[[], None]] = {
        "webhook": webhook,
        "backfill": backfill,
        "crash": crash,
        "stragglers": lambda: run_task(tasks.book_stragglers),
        "valuation": lambda: run_task(tasks.value_swaps),
        "prices": lambda: run_task(tasks.refresh_prices),
        "stats": lambda: run_task(tasks.refresh_all_stats),
    }
    start = threading.Barrier(len(jobs))

    def loop(name: str, job: Callable[[], None]) -> None:
        start.wait()
        try:
            for round_number in range(ROUNDS):
                try:
                    job()
                except Exception as error:  # noqa: BLE001 - every failure is reported below
                    failures.append(f"{name} round {round_number}: {type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=loop, args=item, name=item[0]) for item in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)

    assert not any(thread.is_alive() for thread in threads), "a task hung"
    assert failures == []
    # Whatever a worker was asked to book is booked: none lost to a race.
    assert not Swap.objects.filter(id__in=booked_by_workers, in_books=False).exists()
    # Beat's next sweeps: what a dead worker left, and what had no price, are booked now.
    run_task(tasks.value_swaps)
    run_task(tasks.book_stragglers)
    assert not Swap.objects.filter(in_books=False).exists()
    assert not TokenTransfer.objects.filter(in_books=False).exists()
    assert Swap.objects.filter(quote_mint=WSOL_MINT).count() > 10  # valuation had work
    assert Realization.objects.exists() and PositionCycle.objects.exists()

    incremental = books()
    recompute_all()
    assert books() == incremental


def test_a_booking_that_loses_a_deadlock_is_run_again_and_books_its_trades():
    from celery.signals import task_retry
    from django.db import connection, transaction

    first, second = (TrackedWallet.objects.create(address=address(f"deadlock whale {n}")) for n in range(2))
    mint = address("deadlock token")
    delivered = ingest(
        [
            usdc_swap(w.address, mint, "buy", "5", "10", int(time.time()) - 60 + n)
            for n, w in enumerate((first, second))
        ],
        ArrivedVia.WEBHOOK,
        book=False,
    )
    retries: list[str] = []
    task_retry.connect(lambda request=None, reason=None, **_: retries.append(str(reason)), weak=False)
    outcome: dict = {}

    def worker() -> None:
        try:
            ids = [s.id for s in delivered.new_swaps]
            outcome["result"] = tasks.book_trades.apply(args=(ids, []))
        finally:
            connections.close_all()

    def waiting_for_a_lock() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")  # live, unlike pg_stat_activity
            return cursor.fetchone()[0]

    with transaction.atomic():
        # Another writer holds the second wallet, the worker takes the first and waits for it...
        list(TrackedWallet.objects.select_for_update(no_key=True).filter(id=second.id))
        thread = threading.Thread(target=worker)
        thread.start()
        deadline = time.monotonic() + 10
        while waiting_for_a_lock() == 0:
            assert time.monotonic() < deadline, "the booking never waited for the lock"
            time.sleep(0.05)
        # ...and the other writer now wants the first: PostgreSQL breaks the circle by failing one.
        list(TrackedWallet.objects.select_for_update(no_key=True).filter(id=first.id))
    thread.join(timeout=60)

    assert outcome["result"].successful()
    assert len(retries) == 1 and "deadlock" in retries[0]
    assert not Swap.objects.filter(in_books=False).exists()
    assert Position.objects.filter(wallet__in=[first, second], holdings=5).count() == 2
