"""The stored side of P&L: keeps positions, cycles and realizations equal to a replay of the valued
trades (whales.pnl) — swaps, and token transfers in and out — and each wallet's per-window statistics.

Called by `whales.actions` inside its database transactions (the wallets concerned are already
locked there, with `lock_wallets`), and by `manage.py recompute_pnl` through `recompute_all`, which
locks them itself; nothing else writes these tables.

The lock order: every writer of a wallet's swaps, transfers, positions, cycles, realizations or
statistics first locks the wallets' rows (`lock_wallets`, in id order) and only then touches those
rows. Writers of one wallet so queue instead of interleaving (two bookings of one position, a
replay racing an incremental booking), and they all wait in one order, never in a circle.

A swap without a USD price, or an incoming transfer without a market price, is not in the books
yet: it is counted in `pending_trades` and enters by a replay of its position once valued.
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import connection, models, transaction
from django.db.models import BigIntegerField, BooleanField, Count, F, Max, Q, Sum
from django.db.models.aggregates import Aggregate
from django.db.models.functions import Cast, Extract, Floor
from django.utils import timezone

from whales import pnl
from whales.models import (
    Direction,
    Position,
    PositionCycle,
    Realization,
    Side,
    Swap,
    Token,
    TokenTransfer,
    TrackedWallet,
    WalletStats,
    Window,
)

ZERO = Decimal(0)
FEE_FREE = ZERO  # a swap's quote amount is all-in (platform and bot fees inside), so its price carries them
WINDOW_SECONDS = {Window.DAY: 86_400, Window.WEEK: 7 * 86_400, Window.MONTH: 30 * 86_400, Window.ALL: None}
TRANSFER_KEY_PREFIX = "t"  # a swap's trade key is its id; a transfer's is "t<id>"


class BoolOr(Aggregate):
    function = "BOOL_OR"
    output_field = BooleanField()


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _datetime(time: pnl.Time) -> datetime:
    return datetime.fromtimestamp(int(time), UTC)


def swap_trade(
    swap_id: int, unix: int, side: str, mint: str, amount: Decimal, usd_price: Decimal, position: int
) -> pnl.Trade:
    """The engine's view of a valued swap: USD per token, keyed by the swap's id."""
    return pnl.Trade(
        key=swap_id, time=unix, side=side, token=mint, amount=amount, price=usd_price, fee=FEE_FREE, order=position
    )


def transfer_trade(
    transfer_id: int, unix: int, direction: str, mint: str, amount: Decimal, usd_price: Decimal | None
) -> pnl.Trade:
    """The engine's view of a transfer: in at its market value on receipt (`usd_price`, which must be
    known), out at cost (price unused); keyed "t<id>"."""
    incoming = direction == Direction.IN
    return pnl.Trade(
        key=f"{TRANSFER_KEY_PREFIX}{transfer_id}",
        time=unix,
        side=pnl.TRANSFER_IN if incoming else pnl.TRANSFER_OUT,
        token=mint,
        amount=amount,
        price=usd_price if incoming else ZERO,
        fee=ZERO,
    )


def trade_of(swap: Swap, mint: str) -> pnl.Trade:
    """`swap_trade` of a valued Swap object."""
    return swap_trade(
        swap.id, _unix(swap.block_time), swap.side, mint, swap.token_amount, swap.usd_price, swap.position
    )


def transfer_trade_of(transfer: TokenTransfer, mint: str) -> pnl.Trade:
    """`transfer_trade` of a TokenTransfer object."""
    return transfer_trade(
        transfer.id, _unix(transfer.block_time), transfer.direction, mint, transfer.amount, transfer.usd_price
    )


def replay_order(trade: pnl.Trade) -> tuple:
    """`pnl.sort_key`, then arrival — swaps before transfers, each by id — the order incremental
    application sees same-second trades in."""
    key = trade.key
    if isinstance(key, int):
        return (pnl.sort_key(trade), 0, key)
    return (pnl.sort_key(trade), 1, int(key[len(TRANSFER_KEY_PREFIX) :]))


def _priced(transfers: Iterable[TokenTransfer]) -> list[TokenTransfer]:
    return [t for t in transfers if not t.needs_price]


def lock_wallets(wallet_ids: Iterable[int]) -> list[TrackedWallet]:
    """Lock these wallets' rows until the end of the transaction, in id order; returns those that exist.

    FOR NO KEY UPDATE: writers of one wallet exclude each other, but rows inserted elsewhere that
    merely point to the wallet (a foreign-key check takes KEY SHARE) need not wait for them.
    """
    ids = sorted(set(wallet_ids))
    if not ids:
        return []
    return list(TrackedWallet.objects.select_for_update(no_key=True).filter(id__in=ids).order_by("id"))


# --- replaying one (wallet, token) from its stored rows ------------------------------------------------

# `block_time` as unix seconds, computed by PostgreSQL: equal to `_unix(block_time)`, and it spares
# the pure-Python timestamptz loader several µs a row (~8 s per million swaps).
UNIX_TIME = Cast(Floor(Extract("block_time", "epoch")), BigIntegerField())
SWAP_COLUMNS = ("id", "unix", "side", "token_amount", "usd_price", "usd_value", "position")
TRANSFER_COLUMNS = ("id", "unix", "direction", "amount", "usd_price")
SwapRow = tuple[int, int, str, Decimal, Decimal | None, Decimal | None, int]  # SWAP_COLUMNS
TransferRow = tuple[int, int, str, Decimal, Decimal | None]  # TRANSFER_COLUMNS


def swap_rows(swaps: models.QuerySet[Swap], *leading: str) -> models.QuerySet:
    """`swaps` as tuples: the `leading` columns, then a `SwapRow`."""
    return swaps.annotate(unix=UNIX_TIME).values_list(*leading, *SWAP_COLUMNS)


def transfer_rows(transfers: models.QuerySet[TokenTransfer], *leading: str) -> models.QuerySet:
    """`transfers` as tuples: the `leading` columns, then a `TransferRow`."""
    return transfers.annotate(unix=UNIX_TIME).values_list(*leading, *TRANSFER_COLUMNS)


@dataclass(slots=True)
class PairReplay:
    """One (wallet, token) replayed from scratch: its book, the events in order, and the figures the
    book does not hold — trades waiting for a USD price, USD spent and received on valued swaps."""

    book: pnl.TokenBook
    events: list[pnl.Event]
    pending_trades: int
    bought_usd: Decimal
    sold_usd: Decimal


def replay_pair(mint: str, swaps: Iterable[SwapRow], transfers: Iterable[TransferRow] = ()) -> PairReplay:
    """Replay every stored swap and transfer of one (wallet, token), in `replay_order`, into a new book.

    A swap without a USD price and an incoming transfer without a market price are left out and
    counted in `pending_trades`. The result is what incremental application of the same trades
    leaves, whatever order they arrived in.
    """
    trades: list[pnl.Trade] = []
    pending = 0
    bought = sold = ZERO
    for swap_id, unix, side, amount, usd_price, usd_value, position in swaps:
        if usd_price is None:
            pending += 1
            continue
        if usd_value is not None:
            if side == Side.BUY:
                bought += usd_value
            else:
                sold += usd_value
        trades.append(swap_trade(swap_id, unix, side, mint, amount, usd_price, position))
    for transfer_id, unix, direction, amount, usd_price in transfers:
        if usd_price is None and direction == Direction.IN:
            pending += 1
            continue
        trades.append(transfer_trade(transfer_id, unix, direction, mint, amount, usd_price))
    trades.sort(key=replay_order)
    replayed = pnl.replay(trades)
    return PairReplay(replayed.books.get(mint) or pnl.TokenBook(mint), replayed.events, pending, bought, sold)


# --- applying trades -----------------------------------------------------------------------------------


def apply_new_trades(swaps: Sequence[Swap], transfers: Sequence[TokenTransfer] = ()) -> set[int]:
    """Put freshly stored swaps and transfers into their positions; returns the ids of the wallets touched.

    Trades that sort after everything in their book are applied incrementally (only that book
    changes); one that sorts earlier (a backfilled trade) makes that one book replay from the table.
    """
    swaps_by_pair: dict[tuple[int, int], list[Swap]] = defaultdict(list)
    transfers_by_pair: dict[tuple[int, int], list[TokenTransfer]] = defaultdict(list)
    for swap in swaps:
        swaps_by_pair[(swap.wallet_id, swap.token_id)].append(swap)
    for transfer in transfers:
        transfers_by_pair[(transfer.wallet_id, transfer.token_id)].append(transfer)
    pairs = swaps_by_pair.keys() | transfers_by_pair.keys()
    if not pairs:
        return set()
    tokens = Token.objects.in_bulk({t for _, t in pairs})
    positions = {
        (p.wallet_id, p.token_id): p
        for p in Position.objects.filter(wallet_id__in={w for w, _ in pairs}, token_id__in=tokens)
    }
    pending = _pending_counts(pairs)
    booked_swaps: list[int] = []
    booked_transfers: list[int] = []
    for wallet_id, token_id in pairs:
        pair_swaps, pair_transfers = (
            swaps_by_pair.get((wallet_id, token_id), []),
            transfers_by_pair.get((wallet_id, token_id), []),
        )
        mint = tokens[token_id].mint
        position = positions.get((wallet_id, token_id))
        if position is None:
            position = Position(wallet_id=wallet_id, token_id=token_id, book={})
            book = pnl.TokenBook(mint)
        else:
            book = pnl.TokenBook.from_dict(position.book)
        valued = [s for s in pair_swaps if s.usd_price is not None]
        priced = _priced(pair_transfers)
        trades = sorted(
            [trade_of(s, mint) for s in valued] + [transfer_trade_of(t, mint) for t in priced], key=replay_order
        )
        try:
            events = [event for trade in trades for event in book.apply(trade)]
        except pnl.OutOfOrder:
            recompute_position(wallet_id, token_id)
            continue
        _record_events(wallet_id, token_id, events)
        position.pending_trades = pending.get((wallet_id, token_id), 0)
        position.bought_usd += _usd(valued, "buy")
        position.sold_usd += _usd(valued, "sell")
        _save_position(position, book, tokens[token_id])
        booked_swaps += [s.id for s in valued]
        booked_transfers += [t.id for t in priced]
    Swap.objects.filter(id__in=booked_swaps).update(in_books=True)
    TokenTransfer.objects.filter(id__in=booked_transfers).update(in_books=True)
    return {wallet_id for wallet_id, _ in pairs}


def _pending_counts(pairs: Iterable[tuple[int, int]]) -> Counter[tuple[int, int]]:
    """(wallet id, token id) → its trades without a USD price (counted from the tables, so a replay
    and an incremental application never count one twice)."""
    pairs = set(pairs)
    wallets, tokens = {w for w, _ in pairs}, {t for _, t in pairs}
    counts: Counter[tuple[int, int]] = Counter()
    unpriced = [
        Swap.objects.filter(usd_price__isnull=True),
        TokenTransfer.objects.filter(direction=Direction.IN, usd_price__isnull=True),
    ]
    for rows in unpriced:
        grouped = rows.filter(wallet_id__in=wallets, token_id__in=tokens).values_list("wallet_id", "token_id")
        for wallet_id, token_id, n in grouped.annotate(n=Count("id")):
            if (wallet_id, token_id) in pairs:
                counts[(wallet_id, token_id)] += n
    return counts


def recompute_position(wallet_id: int, token_id: int) -> None:
    """Rebuild one (wallet, token) from its stored swaps and transfers: book, cycles and realizations.

    A position whose trades are all gone is kept, empty. `recompute_all` writes the same rows for
    many wallets at once.
    """
    token = Token.objects.get(id=token_id)
    pair = Q(wallet_id=wallet_id, token_id=token_id)
    swaps = list(swap_rows(Swap.objects.filter(pair)))
    transfers = list(transfer_rows(TokenTransfer.objects.filter(pair)))
    replayed = replay_pair(token.mint, swaps, transfers)
    Realization.objects.filter(pair).delete()
    PositionCycle.objects.filter(pair).delete()
    _record_events(wallet_id, token_id, replayed.events)
    position = Position.objects.filter(pair).first() or Position(wallet_id=wallet_id, token_id=token_id, book={})
    position.pending_trades = replayed.pending_trades
    position.bought_usd, position.sold_usd = replayed.bought_usd, replayed.sold_usd
    Swap.objects.filter(pair, in_books=False, usd_price__isnull=False).update(in_books=True)
    TokenTransfer.objects.filter(pair, in_books=False).filter(
        Q(direction=Direction.OUT) | Q(usd_price__isnull=False)
    ).update(in_books=True)
    if not swaps and not transfers and position.pk is None:
        return
    _save_position(position, replayed.book, token)


def _usd(swaps: Iterable[Swap], side: str) -> Decimal:
    return sum((s.usd_value for s in swaps if s.side == side and s.usd_value is not None), ZERO)


def recompute_positions(pairs: Iterable[tuple[int, int]]) -> set[int]:
    wallets = set()
    for wallet_id, token_id in sorted(set(pairs)):
        recompute_position(wallet_id, token_id)
        wallets.add(wallet_id)
    return wallets


def _record_events(wallet_id: int, token_id: int, events: list[pnl.Event]) -> None:
    realizations, opened, closed = [], {}, []
    for event in events:
        if type(event) is pnl.SellRealized:
            realizations.append(
                Realization(
                    swap_id=event.key,
                    wallet_id=wallet_id,
                    token_id=token_id,
                    at=_datetime(event.time),
                    amount=event.amount,
                    proceeds=event.proceeds,
                    cost_basis=event.cost_basis,
                    realized_pnl=event.realized_pnl,
                    missing_amount=event.missing_amount,
                )
            )
        elif type(event) is pnl.CycleOpened:
            opened[event.key] = PositionCycle(
                wallet_id=wallet_id, token_id=token_id, opened_key=str(event.key), opened_at=_datetime(event.time)
            )
        elif type(event) is pnl.CycleClosed:
            cycle = opened.get(event.opened_key) or PositionCycle.objects.get(
                wallet_id=wallet_id, token_id=token_id, opened_key=str(event.opened_key)
            )
            cycle.closed_key = str(event.closed_key)
            cycle.closed_at = _datetime(event.closed_time)
            cycle.realized_pnl = event.realized_pnl
            cycle.complete = event.complete
            if cycle.pk is not None:
                closed.append(cycle)
    Realization.objects.bulk_create(realizations)
    PositionCycle.objects.bulk_create(opened.values())
    PositionCycle.objects.bulk_update(closed, ["closed_key", "closed_at", "realized_pnl", "complete"])


def _position_figures(book: pnl.TokenBook, price: Decimal | None) -> dict[str, Any]:
    """The Position columns a book determines; unrealized P&L at `price` (None when unknown or flat)."""
    cycle = book.cycle
    return {
        "book": book.to_dict(),
        "holdings": book.holdings,
        "cost_basis": book.cost_basis,
        "realized_pnl": book.realized_pnl,
        "missing_amount": book.missing_amount,
        "incomplete": book.incomplete,
        "opened_at": _datetime(cycle.opened_time) if cycle else None,
        "cycle_complete": cycle.complete if cycle else True,
        "unrealized_pnl": pnl.unrealized(book, price) if book.holdings else None,
        "last_trade_at": _datetime(book.last_position[0]) if book.last_position else None,
    }


def _save_position(position: Position, book: pnl.TokenBook, token: Token) -> None:
    for name, value in _position_figures(book, token.price_usd).items():
        setattr(position, name, value)
    position.save()
    if book.cycle is not None:  # the open cycle's running figures, shown on the wallet page
        PositionCycle.objects.filter(
            wallet_id=position.wallet_id, token_id=position.token_id, opened_key=str(book.cycle.opened_key)
        ).update(realized_pnl=book.cycle.realized_pnl, complete=book.cycle.complete)


# --- rebuilding many wallets ---------------------------------------------------------------------------

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
        TokenTransfer.objects.filter(wallet_id__in=locked, in_books=False).filter(
            Q(direction=Direction.OUT) | Q(usd_price__isnull=False)
        ).update(in_books=True)
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
                        _datetime(event.time),
                        event.amount,
                        event.proceeds,
                        event.cost_basis,
                        event.realized_pnl,
                        event.missing_amount,
                    )
                )
            elif kind is pnl.CycleOpened:
                cycles[event.key] = [wallet_id, token_id, str(event.key), _datetime(event.time), "", None, ZERO, True]
            elif kind is pnl.CycleClosed:
                closed = (str(event.closed_key), _datetime(event.closed_time), event.realized_pnl, event.complete)
                cycles[event.opened_key][4:] = closed
        book = replayed.book
        if book.cycle is not None:  # the open cycle's running figures, as _save_position keeps them
            cycles[book.cycle.opened_key][6:] = (book.cycle.realized_pnl, book.cycle.complete)
        self.cycles.extend(cycles.values())
        position = {
            "wallet_id": wallet_id,
            "token_id": token_id,
            **_position_figures(book, price),
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


# --- prices ------------------------------------------------------------------------------------------


def revalue_open_positions(token_ids: Iterable[int], wallet_ids: Iterable[int]) -> set[int]:
    """Unrealized P&L of the positions of these (locked) wallets in these tokens at the tokens' latest
    price; returns the wallets touched."""
    wallet_ids = list(wallet_ids)
    wallets: set[int] = set()
    for token_id, price in Token.objects.filter(id__in=list(token_ids)).values_list("id", "price_usd"):
        held = Position.objects.filter(token_id=token_id, wallet_id__in=wallet_ids, holdings__gt=0)
        wallets |= set(held.values_list("wallet_id", flat=True))
        if price is None:
            held.update(unrealized_pnl=None)
        else:
            held.update(unrealized_pnl=F("holdings") * price - F("cost_basis"))
    return wallets


# --- per-window statistics ---------------------------------------------------------------------------


def refresh_stats(wallet_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Recompute WalletStats (every window) of `wallet_ids` (all wallets when None) from the stored
    realizations, cycles, positions and swaps. A handful of grouped queries whatever the count."""
    now = now or timezone.now()
    ids = list(TrackedWallet.objects.values_list("id", flat=True)) if wallet_ids is None else sorted(set(wallet_ids))
    if not ids:
        return 0
    since = {
        window: (None if seconds is None else now - timedelta(seconds=seconds))
        for window, seconds in WINDOW_SECONDS.items()
    }

    def within(field: str, window: str) -> Q:
        return Q() if since[window] is None else Q(**{f"{field}__gt": since[window]})

    sells = _grouped(
        Realization.objects.filter(wallet_id__in=ids),
        {
            f"{kind}_{w}": aggregate
            for w in WINDOW_SECONDS
            for kind, aggregate in {
                "realized": Sum("realized_pnl", filter=within("at", w)),
                "sold_cost": Sum("cost_basis", filter=within("at", w)),
                "sells": Count("id", filter=within("at", w) & Q(amount__gt=F("missing_amount"))),
                "sell_wins": Count(
                    "id", filter=within("at", w) & Q(amount__gt=F("missing_amount"), realized_pnl__gt=0)
                ),
            }.items()
        },
    )
    cycles = _grouped(
        PositionCycle.objects.filter(wallet_id__in=ids, complete=True).exclude(closed_at=None),
        {
            f"{kind}_{w}": aggregate
            for w in WINDOW_SECONDS
            for kind, aggregate in {
                "cycles": Count("id", filter=within("closed_at", w)),
                "cycle_wins": Count("id", filter=within("closed_at", w) & Q(realized_pnl__gt=0)),
            }.items()
        },
    )
    dead_bag_age = now - timedelta(days=pnl.DEAD_BAG_AGE_DAYS)
    holdings = _grouped(
        Position.objects.filter(wallet_id__in=ids),
        {
            "unrealized": Sum("unrealized_pnl", filter=Q(holdings__gt=0)),
            "open_cost": Sum("cost_basis", filter=Q(holdings__gt=0)),
            "open_positions": Count("id", filter=Q(opened_at__isnull=False)),
            "incomplete": BoolOr("incomplete"),
            "pending": Sum("pending_trades"),
            "unpriced": Count("id", filter=Q(holdings__gt=0, unrealized_pnl=None)),
            "dead_bags": Count(
                "id",
                filter=Q(
                    opened_at__lt=dead_bag_age,
                    cycle_complete=True,
                    cost_basis__gt=0,
                    unrealized_pnl__lt=F("cost_basis") * pnl.DEAD_BAG_LOSS,
                ),
            ),
        },
    )
    activity = _grouped(
        Swap.objects.filter(wallet_id__in=ids),
        {
            "last_active": Max("block_time"),
            **{f"volume_{w}": Sum("usd_value", filter=within("block_time", w)) for w in WINDOW_SECONDS},
            **{f"swaps_{w}": Count("id", filter=within("block_time", w)) for w in WINDOW_SECONDS},
        },
    )
    active = set(TrackedWallet.objects.filter(id__in=ids, is_active=True).values_list("id", flat=True))
    rows = [
        _stats_row(
            wallet_id,
            wallet_id in active,
            window,
            sells.get(wallet_id, {}),
            cycles.get(wallet_id, {}),
            holdings.get(wallet_id, {}),
            activity.get(wallet_id, {}),
            now,
        )
        for wallet_id in ids
        for window in WINDOW_SECONDS
    ]
    WalletStats.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["wallet", "window"],
        update_fields=[f.name for f in WalletStats._meta.concrete_fields if f.name not in ("id", "wallet", "window")],
    )
    return len(ids)


def _grouped(queryset, aggregates: dict) -> dict[int, dict]:
    return {row.pop("wallet_id"): row for row in queryset.values("wallet_id").annotate(**aggregates)}


def _stats_row(
    wallet_id: int,
    wallet_active: bool,
    window: str,
    sells: dict,
    cycles: dict,
    holdings: dict,
    activity: dict,
    now: datetime,
) -> WalletStats:
    realized = sells.get(f"realized_{window}") or ZERO
    unrealized = holdings.get("unrealized") or ZERO
    capital = (sells.get(f"sold_cost_{window}") or ZERO) + (holdings.get("open_cost") or ZERO)
    total = realized + unrealized
    by_cycle = pnl.WinRate.of(cycles.get(f"cycle_wins_{window}", 0), cycles.get(f"cycles_{window}", 0))
    by_sell = pnl.WinRate.of(sells.get(f"sell_wins_{window}", 0), sells.get(f"sells_{window}", 0))
    dead_bags = holdings.get("dead_bags", 0)
    adjusted = pnl.WinRate.of(by_cycle.wins, by_cycle.n + dead_bags)
    return WalletStats(
        wallet_id=wallet_id,
        window=window,
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        total_pnl=total,
        roi=(total / capital) if capital > 0 else None,
        capital=capital,
        volume_usd=activity.get(f"volume_{window}") or ZERO,
        swap_count=activity.get(f"swaps_{window}", 0),
        cycles=by_cycle.n,
        cycle_wins=by_cycle.wins,
        win_rate=by_cycle.rate,
        win_rate_low=by_cycle.low,
        win_rate_high=by_cycle.high,
        sells=by_sell.n,
        sell_wins=by_sell.wins,
        sell_win_rate=by_sell.rate,
        sell_win_rate_low=by_sell.low,
        sell_win_rate_high=by_sell.high,
        dead_bags=dead_bags,
        adjusted_win_rate=adjusted.rate,
        adjusted_win_rate_low=adjusted.low,
        adjusted_win_rate_high=adjusted.high,
        rankable=pnl.is_rankable(by_cycle),
        wallet_active=wallet_active,
        open_positions=holdings.get("open_positions", 0),
        incomplete=bool(holdings.get("incomplete")),
        pending_trades=holdings.get("pending") or 0,
        unpriced_positions=holdings.get("unpriced", 0),
        last_active=activity.get("last_active"),
        updated_at=now,
    )
