"""Rebuilding the books of many wallets at once from their stored trades (`manage.py recompute_pnl`):
the rows `ledger.recompute_position` writes, pair by pair, written in bulk with COPY."""

from __future__ import annotations

import gc
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice

from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from whales.books import pnl
from whales.books.ledger import lock_wallets
from whales.books.stats import refresh_stats
from whales.books.trades import (
    ZERO,
    PairReplay,
    SwapRow,
    TransferRow,
    datetime_at,
    position_figures,
    replay_pair,
    swap_rows,
    transfer_rows,
)
from whales.models import Position, PositionCycle, Realization, Swap, Token, TokenTransfer, TrackedWallet

# A batch is one transaction and reads its wallets' swaps in one pass over the swap table (a wallet's
# swaps are spread all over it): big batches make few passes. But ingest for a batch's wallets waits
# until it commits: 250,000 swaps take ~15 s on the 2-core development machine (bench/README.md).
BATCH_SWAPS = 250_000


BATCH_WALLETS = 1_000  # at most, however few swaps they have: bounds the IN list and the locks


READ_CHUNK = 2_000  # rows per FETCH from the server-side cursor: Django's default; larger was no faster


FLUSH_ROWS = 50_000  # derived rows held in memory before they go to PostgreSQL in one COPY


# A cursor is planned for its first 10 % of rows: an index scan visiting the heap in random order,
# about twice as slow over a whole batch as reading the table once and sorting, which this makes it do.
CURSOR_FOR_THROUGHPUT = "SET LOCAL cursor_tuple_fraction = 1"


REALIZATION_COLUMNS = (
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


CYCLE_COLUMNS = (
    "wallet_id",
    "token_id",
    "opened_key",
    "opened_at",
    "closed_key",
    "closed_at",
    "realized_pnl",
    "complete",
)


POSITION_COLUMNS = (
    "wallet_id",
    "token_id",
    "book",
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
    "updated_at",
)


@dataclass
class RecomputeSummary:
    """What `recompute_all` read and wrote, and how long it took.

    `seconds` is the whole run. Within it: `read_seconds` fetching and decoding stored swaps,
    transfers and tokens; `replay_seconds` turning them into Trades, sorting and replaying;
    `write_seconds` deleting the old rows, building the new ones, COPY and COMMIT; `stats_seconds`
    in `refresh_stats`. The rest is planning the batches and waiting for the wallets' locks.
    """

    wallets: int = 0
    swaps: int = 0
    transfers: int = 0
    positions: int = 0
    cycles: int = 0
    realizations: int = 0
    batches: int = 0
    seconds: float = 0.0
    read_seconds: float = 0.0
    replay_seconds: float = 0.0
    write_seconds: float = 0.0
    stats_seconds: float = 0.0


def recompute_all(
    wallet_ids: Iterable[int] | None = None, *, progress: Callable[[int, int], None] | None = None
) -> RecomputeSummary:
    """Rebuild the positions, cycles and realizations of these wallets (every wallet when None) from
    their stored swaps and transfers, mark every trade replayed into a book as booked (`in_books`),
    then refresh their WalletStats; ids of no wallet are ignored.

    The rows are those `recompute_position` writes for each (wallet, token), figure for figure
    (unrealized P&L at each token's current price), positions with new ids. Wallets go in batches
    (`BATCH_SWAPS`), each one transaction holding its wallets locked as ingest does; a failure
    leaves earlier batches rebuilt and its own untouched. `progress(wallets done, wallets in all)`
    is called after each batch. (Inside a transaction the batches are savepoints of it.)
    """
    started = time.perf_counter()
    wallets = TrackedWallet.objects.order_by("id")
    swaps = Swap.objects.all()
    if wallet_ids is not None:
        wallets = wallets.filter(id__in=set(wallet_ids))
        swaps = swaps.filter(wallet_id__in=wallets.values("id"))
    ids = list(wallets.values_list("id", flat=True))
    counts = dict(swaps.order_by().values_list("wallet_id").annotate(Count("id")))
    summary = RecomputeSummary()
    collecting = gc.isenabled()
    # Replaying allocates millions of Trades, lots and events, none of them in reference cycles;
    # the collections their allocation would trigger cost several seconds per million swaps.
    gc.disable()
    try:
        for batch in _batches(ids, counts):
            _recompute_batch(batch, summary)
            if progress is not None:
                progress(summary.wallets, len(ids))
    finally:
        if collecting:
            gc.enable()
    summary.seconds = time.perf_counter() - started
    return summary


def _batches(wallet_ids: list[int], swap_counts: dict[int, int]) -> Iterator[list[int]]:
    batch: list[int] = []
    swaps = 0
    for wallet_id in wallet_ids:
        count = swap_counts.get(wallet_id, 0)
        if batch and (swaps + count > BATCH_SWAPS or len(batch) == BATCH_WALLETS):
            yield batch
            batch, swaps = [], 0
        batch.append(wallet_id)
        swaps += count
    if batch:
        yield batch


def _recompute_batch(wallet_ids: list[int], summary: RecomputeSummary) -> None:
    """One batch of `recompute_all`, in one transaction."""
    with transaction.atomic():
        locked = [wallet.id for wallet in lock_wallets(wallet_ids)]
        step = time.perf_counter()
        prices = Token.objects.order_by().values_list("id", "mint", "price_usd")
        tokens = {token_id: (mint, price) for token_id, mint, price in prices}
        transfers: dict[tuple[int, int], list[TransferRow]] = defaultdict(list)
        for row in transfer_rows(TokenTransfer.objects.filter(wallet_id__in=locked), "wallet_id", "token_id"):
            transfers[(row[0], row[1])].append(row[2:])
            summary.transfers += 1
        summary.read_seconds += time.perf_counter() - step

        step = time.perf_counter()
        derived = _DerivedRows(timezone.now())
        # A position whose trades are all gone stays, empty, as recompute_position leaves it.
        unreplayed = set(Position.objects.filter(wallet_id__in=locked).values_list("wallet_id", "token_id"))
        for model in (Realization, PositionCycle, Position):
            model.objects.filter(wallet_id__in=locked).delete()
        summary.write_seconds += time.perf_counter() - step

        def replay(wallet_id: int, token_id: int, swaps: list[SwapRow]) -> None:
            step = time.perf_counter()
            mint, price = tokens[token_id]
            replayed = replay_pair(mint, swaps, transfers.pop((wallet_id, token_id), ()))
            replayed_at = time.perf_counter()
            derived.add(wallet_id, token_id, replayed, price)
            unreplayed.discard((wallet_id, token_id))
            if len(derived) >= FLUSH_ROWS:
                derived.flush(summary)
            summary.replay_seconds += replayed_at - step
            summary.write_seconds += time.perf_counter() - replayed_at

        with connection.cursor() as cursor:
            cursor.execute(CURSOR_FOR_THROUGHPUT)
        rows = swap_rows(
            Swap.objects.filter(wallet_id__in=locked).order_by("wallet_id", "token_id"), "wallet_id", "token_id"
        ).iterator(chunk_size=READ_CHUNK)
        wallet_id = token_id = None
        swaps: list[SwapRow] = []
        while True:
            step = time.perf_counter()
            chunk = list(islice(rows, READ_CHUNK))
            summary.read_seconds += time.perf_counter() - step
            if not chunk:
                break
            summary.swaps += len(chunk)
            for row in chunk:
                if row[1] != token_id or row[0] != wallet_id:
                    if swaps:
                        replay(wallet_id, token_id, swaps)
                    wallet_id, token_id, swaps = row[0], row[1], []
                swaps.append(row[2:])
        if swaps:
            replay(wallet_id, token_id, swaps)
        for pair in list(transfers):  # pairs with transfers and no swap
            replay(*pair, [])
        for pair in list(unreplayed):
            replay(*pair, [])

        step = time.perf_counter()
        derived.flush(summary)
        # Bulk-imported trades arrive unbooked; left so, the straggler sweep would replay them pair by pair.
        Swap.objects.filter(wallet_id__in=locked, in_books=False, usd_price__isnull=False).update(in_books=True)
        TokenTransfer.objects.filter(wallet_id__in=locked, in_books=False).ready_for_books().update(in_books=True)
        summary.write_seconds += time.perf_counter() - step
        step = time.perf_counter()
        refresh_stats(locked)
        summary.stats_seconds += time.perf_counter() - step
        committing = time.perf_counter()
    summary.write_seconds += time.perf_counter() - committing
    summary.wallets += len(locked)
    summary.batches += 1


class _DerivedRows:
    """Positions, cycles and realizations of replayed pairs, as `recompute_position` writes them,
    held as tuples until `flush` writes them with COPY."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.realizations: list[tuple] = []
        self.cycles: list[list] = []
        self.positions: list[tuple] = []

    def __len__(self) -> int:
        return len(self.realizations) + len(self.cycles) + len(self.positions)

    def add(self, wallet_id: int, token_id: int, replayed: PairReplay, price: Decimal | None) -> None:
        realizations = self.realizations
        cycles: dict[pnl.TradeKey, list] = {}  # opening trade's key → CYCLE_COLUMNS
        for event in replayed.events:
            kind = type(event)
            if kind is pnl.SellRealized:
                realizations.append(
                    (
                        event.key,
                        wallet_id,
                        token_id,
                        datetime_at(event.time),
                        event.amount,
                        event.proceeds,
                        event.cost_basis,
                        event.realized_pnl,
                        event.missing_amount,
                    )
                )
            elif kind is pnl.CycleOpened:
                cycles[event.key] = [wallet_id, token_id, str(event.key), datetime_at(event.time), "", None, ZERO, True]
            elif kind is pnl.CycleClosed:
                closed = (str(event.closed_key), datetime_at(event.closed_time), event.realized_pnl, event.complete)
                cycles[event.opened_key][4:] = closed
        book = replayed.book
        if book.cycle is not None:  # the open cycle's running figures, as _save_position keeps them
            cycles[book.cycle.opened_key][6:] = (book.cycle.realized_pnl, book.cycle.complete)
        self.cycles.extend(cycles.values())
        position = {
            "wallet_id": wallet_id,
            "token_id": token_id,
            **position_figures(book, price),
            "pending_trades": replayed.pending_trades,
            "bought_usd": replayed.bought_usd,
            "sold_usd": replayed.sold_usd,
            "updated_at": self.now,
        }
        position["book"] = json.dumps(position["book"])
        self.positions.append(tuple(position[column] for column in POSITION_COLUMNS))

    def flush(self, summary: RecomputeSummary) -> None:
        """COPY the rows held into their tables (psycopg's COPY on Django's connection) and let them go."""
        with connection.cursor() as cursor:
            for model, columns, rows in (
                (Realization, REALIZATION_COLUMNS, self.realizations),
                (PositionCycle, CYCLE_COLUMNS, self.cycles),
                (Position, POSITION_COLUMNS, self.positions),
            ):
                if rows:
                    with cursor.cursor.copy(_copy_statement(model, columns)) as copy:
                        for row in rows:
                            copy.write_row(row)
        summary.realizations += len(self.realizations)
        summary.cycles += len(self.cycles)
        summary.positions += len(self.positions)
        self.realizations, self.cycles, self.positions = [], [], []


def _copy_statement(model: type[models.Model], columns: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(column).column) for column in columns)
    return f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
