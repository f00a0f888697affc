"""The stored side of P&L: keeps positions, cycles and realizations equal to a replay of the valued
trades (`whales.books.pnl`) — swaps, and token transfers in and out.

Called by the writers (booking, ingest, valuation, prices) inside their database transactions, the
wallets concerned already locked there with `lock_wallets`; `recompute` rebuilds many wallets at
once; nothing else writes these tables.

The lock order: every writer of a wallet's swaps, transfers, positions, cycles, realizations or
statistics first locks the wallets' rows (`lock_wallets`, in id order) and only then touches those
rows. Writers of one wallet so queue instead of interleaving (two bookings of one position, a
replay racing an incremental booking), and they all wait in one order, never in a circle.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from aura.prepared import BindAny, Prepared
from whales.books import pnl
from whales.books.trades import (
    ZERO,
    datetime_at,
    position_figures,
    replay_order,
    replay_pair,
    swap_rows,
    trade_of,
    transfer_rows,
    transfer_trade_of,
)
from whales.models import Direction, Position, PositionCycle, Realization, Swap, Token, TokenTransfer, TrackedWallet


def lock_wallets(wallet_ids: Iterable[int]) -> list[TrackedWallet]:
    """Lock these wallets' rows until the end of the transaction, in id order; returns those that exist.

    FOR NO KEY UPDATE: writers of one wallet exclude each other, but rows inserted elsewhere that
    merely point to the wallet (a foreign-key check takes KEY SHARE) need not wait for them.
    """
    ids = sorted(set(wallet_ids))
    if not ids:
        return []
    if connection.get_autocommit():
        # Django checks this when it builds a select_for_update's SQL, which a prepared query does once.
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    return _LOCKED_WALLETS.rows(wallets=ids)


_LOCKED_WALLETS = Prepared(
    lambda: TrackedWallet.objects.select_for_update(no_key=True).filter(BindAny("id", "wallets")).order_by("id")
)


def _priced(transfers: Iterable[TokenTransfer]) -> list[TokenTransfer]:
    return [t for t in transfers if not t.needs_price]


@dataclass
class Booked:
    """What `apply_new_trades` did: the wallets it touched; the swaps it booked and the cycles it
    closed incrementally (what the wallets' running sums add), and the transfers it booked; the
    wallets of which a position was replayed from the tables instead (their sums are aggregated again)."""

    wallet_ids: set[int] = field(default_factory=set)
    swap_ids: list[int] = field(default_factory=list)
    transfer_ids: list[int] = field(default_factory=list)
    closed_cycle_ids: list[int] = field(default_factory=list)
    replayed_wallet_ids: set[int] = field(default_factory=set)


def apply_new_trades(swaps: Sequence[Swap], transfers: Sequence[TokenTransfer] = ()) -> Booked:
    """Put freshly stored swaps and transfers into their positions.

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
    booked = Booked(wallet_ids={wallet_id for wallet_id, _ in pairs})
    if not pairs:
        return booked
    wallet_ids, token_ids = list({w for w, _ in pairs}), list({t for _, t in pairs})
    tokens = {token.id: token for token in _BOOKED_TOKENS.rows(tokens=token_ids)}
    positions = {(p.wallet_id, p.token_id): p for p in _POSITIONS.rows(wallets=wallet_ids, tokens=token_ids)}
    pending = _pending_counts(pairs)
    rows = EventRows.for_pairs(pairs)
    saved: list[tuple[Position, pnl.TokenBook, Token]] = []
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
            booked.replayed_wallet_ids.add(wallet_id)
            continue
        rows.add(wallet_id, token_id, events)
        position.pending_trades = pending.get((wallet_id, token_id), 0)
        position.bought_usd += _usd(valued, "buy")
        position.sold_usd += _usd(valued, "sell")
        saved.append((position, book, tokens[token_id]))
        booked.swap_ids += [s.id for s in valued]
        booked.transfer_ids += [t.id for t in priced]
    booked.closed_cycle_ids = rows.write()
    _save_positions(saved, rows)
    _mark_in_books(Swap, booked.swap_ids)
    _mark_in_books(TokenTransfer, booked.transfer_ids)
    return booked


# What a booking reads of its tokens (their mint names the book; their price values it).
_BOOKED_TOKENS = Prepared(lambda: Token.objects.filter(BindAny("id", "tokens")).only("mint", "price_usd").order_by())
_POSITIONS = Prepared(
    lambda: Position.objects.filter(BindAny("wallet_id", "wallets"), BindAny("token_id", "tokens")).order_by()
)


def _mark_in_books(model: type[Swap] | type[TokenTransfer], ids: list[int]) -> None:
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {model._meta.db_table} SET in_books = true WHERE id = ANY(%s)", [ids])


# Trades of some (wallet, token) pairs without a USD price: swaps, and transfers in (a transfer out
# needs none). One round trip for both tables, each read through its partial index of unpriced rows.
_UNPRICED = f"""
    SELECT wallet_id, token_id, COUNT(*) FROM (
        SELECT wallet_id, token_id FROM {Swap._meta.db_table}
         WHERE usd_price IS NULL AND wallet_id = ANY(%(wallets)s) AND token_id = ANY(%(tokens)s)
        UNION ALL
        SELECT wallet_id, token_id FROM {TokenTransfer._meta.db_table}
         WHERE direction = '{Direction.IN.value}' AND usd_price IS NULL
           AND wallet_id = ANY(%(wallets)s) AND token_id = ANY(%(tokens)s)
    ) unpriced GROUP BY wallet_id, token_id
"""


def _pending_counts(pairs: Iterable[tuple[int, int]]) -> Counter[tuple[int, int]]:
    """(wallet id, token id) → its trades without a USD price (counted from the tables, so a replay
    and an incremental application never count one twice)."""
    pairs = set(pairs)
    params = {"wallets": list({w for w, _ in pairs}), "tokens": list({t for _, t in pairs})}
    with connection.cursor() as cursor:
        cursor.execute(_UNPRICED, params)
        rows = cursor.fetchall()
    return Counter({(wallet_id, token_id): n for wallet_id, token_id, n in rows if (wallet_id, token_id) in pairs})


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
    TokenTransfer.objects.filter(pair, in_books=False).ready_for_books().update(in_books=True)
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


class EventRows:
    """The rows a replay's or an application's events become — realizations, cycles opened, cycles
    closed — gathered over many positions and written in a few bulk statements."""

    def __init__(self, open_cycles: dict[tuple[int, int, str], PositionCycle] | None = None) -> None:
        self.realizations: list[Realization] = []
        self.opened: dict[tuple[int, int, str], PositionCycle] = {}
        self.closed: list[PositionCycle] = []
        # Cycles of earlier bookings still open, by (wallet id, token id, opened key): what a sell closes.
        self.open_cycles = open_cycles or {}

    @classmethod
    def for_pairs(cls, pairs: Iterable[tuple[int, int]]) -> EventRows:
        pairs = set(pairs)
        candidates = _OPEN_CYCLES.rows(wallets=list({w for w, _ in pairs}), tokens=list({t for _, t in pairs}))
        return cls(
            {(c.wallet_id, c.token_id, c.opened_key): c for c in candidates if (c.wallet_id, c.token_id) in pairs}
        )

    def add(self, wallet_id: int, token_id: int, events: list[pnl.Event]) -> None:
        for event in events:
            if type(event) is pnl.SellRealized:
                self.realizations.append(
                    Realization(
                        swap_id=event.key,
                        wallet_id=wallet_id,
                        token_id=token_id,
                        at=datetime_at(event.time),
                        amount=event.amount,
                        proceeds=event.proceeds,
                        cost_basis=event.cost_basis,
                        realized_pnl=event.realized_pnl,
                        missing_amount=event.missing_amount,
                    )
                )
            elif type(event) is pnl.CycleOpened:
                self.opened[(wallet_id, token_id, str(event.key))] = PositionCycle(
                    wallet_id=wallet_id, token_id=token_id, opened_key=str(event.key), opened_at=datetime_at(event.time)
                )
            elif type(event) is pnl.CycleClosed:
                opened_key = str(event.opened_key)
                cycle = self.open_cycle(wallet_id, token_id, opened_key)
                if cycle is None:
                    cycle = PositionCycle.objects.get(wallet_id=wallet_id, token_id=token_id, opened_key=opened_key)
                cycle.closed_key = str(event.closed_key)
                cycle.closed_at = datetime_at(event.closed_time)
                cycle.realized_pnl = event.realized_pnl
                cycle.complete = event.complete
                if cycle.pk is not None:
                    self.closed.append(cycle)

    def write(self) -> list[int]:
        """Store what was added; returns the ids of the cycles it closed."""
        Realization.objects.bulk_create(self.realizations)
        PositionCycle.objects.bulk_create(self.opened.values())
        _update(PositionCycle, self.closed, ["closed_key", "closed_at", "realized_pnl", "complete"])
        return [cycle.pk for cycle in [*self.opened.values(), *self.closed] if cycle.closed_at is not None]

    def open_cycle(self, wallet_id: int, token_id: int, opened_key: str) -> PositionCycle | None:
        key = (wallet_id, token_id, opened_key)
        return self.opened.get(key) or self.open_cycles.get(key)


_OPEN_CYCLES = Prepared(
    lambda: PositionCycle.objects.filter(
        BindAny("wallet_id", "wallets"), BindAny("token_id", "tokens"), closed_at=None
    ).order_by()
)


def _record_events(wallet_id: int, token_id: int, events: list[pnl.Event]) -> list[int]:
    """Store the events of one position's replay; returns the ids of the cycles they closed."""
    rows = EventRows()
    rows.add(wallet_id, token_id, events)
    return rows.write()


def _save_position(position: Position, book: pnl.TokenBook, token: Token) -> None:
    for name, value in position_figures(book, token.price_usd).items():
        setattr(position, name, value)
    position.save()
    if book.cycle is not None:  # the open cycle's running figures, shown on the wallet page
        PositionCycle.objects.filter(
            wallet_id=position.wallet_id, token_id=position.token_id, opened_key=str(book.cycle.opened_key)
        ).update(realized_pnl=book.cycle.realized_pnl, complete=book.cycle.complete)


_POSITION_COLUMNS = [f.name for f in Position._meta.concrete_fields if f.name not in ("id", "wallet", "token")]


def _save_positions(saved: list[tuple[Position, pnl.TokenBook, Token]], rows: EventRows) -> None:
    """`_save_position` for many positions at once: new ones inserted, the others updated, in two
    statements, and their open cycles' running figures in one more."""
    now = timezone.now()
    running: list[PositionCycle] = []
    in_bulk: list[Position] = []
    for position, book, token in saved:
        if book.cycle is not None:
            cycle = rows.open_cycle(position.wallet_id, position.token_id, str(book.cycle.opened_key))
            if cycle is None:  # an open cycle neither prefetched nor opened here
                _save_position(position, book, token)
                continue
            cycle.realized_pnl, cycle.complete = book.cycle.realized_pnl, book.cycle.complete
            running.append(cycle)
        for name, value in position_figures(book, token.price_usd).items():
            setattr(position, name, value)
        position.updated_at = now
        in_bulk.append(position)
    Position.objects.bulk_create([p for p in in_bulk if p.pk is None])
    _update(Position, [p for p in in_bulk if p.pk is not None], _POSITION_COLUMNS)
    _update(PositionCycle, running, ["realized_pnl", "complete"])


def _update(model, rows: list, columns: list[str]) -> None:
    """Write these columns of these saved rows in one UPDATE … FROM (VALUES …): what `bulk_update`
    does, without the cost of building its CASE per row and column."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in columns]
    casts = ", ".join(["%s::bigint", *(f"%s::{field.cast_db_type(connection)}" for field in fields)])
    values = ", ".join([f"({casts})"] * len(rows))
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    assignments = ", ".join(f"{name} = v.{name}" for name in (connection.ops.quote_name(f.column) for f in fields))
    params = [
        value
        for row in rows
        for value in [row.pk, *(field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields)]
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} AS t SET {assignments} FROM (VALUES {values}) AS v(id, {names})"
            " WHERE t.id = v.id",
            params,
        )


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
