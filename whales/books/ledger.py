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
from decimal import Decimal

from django.db.models import Count, F, Q

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
    return list(TrackedWallet.objects.select_for_update(no_key=True).filter(id__in=ids).order_by("id"))


def _priced(transfers: Iterable[TokenTransfer]) -> list[TokenTransfer]:
    return [t for t in transfers if not t.needs_price]


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


def _record_events(wallet_id: int, token_id: int, events: list[pnl.Event]) -> None:
    realizations, opened, closed = [], {}, []
    for event in events:
        if type(event) is pnl.SellRealized:
            realizations.append(
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
            opened[event.key] = PositionCycle(
                wallet_id=wallet_id, token_id=token_id, opened_key=str(event.key), opened_at=datetime_at(event.time)
            )
        elif type(event) is pnl.CycleClosed:
            cycle = opened.get(event.opened_key) or PositionCycle.objects.get(
                wallet_id=wallet_id, token_id=token_id, opened_key=str(event.opened_key)
            )
            cycle.closed_key = str(event.closed_key)
            cycle.closed_at = datetime_at(event.closed_time)
            cycle.realized_pnl = event.realized_pnl
            cycle.complete = event.complete
            if cycle.pk is not None:
                closed.append(cycle)
    Realization.objects.bulk_create(realizations)
    PositionCycle.objects.bulk_create(opened.values())
    PositionCycle.objects.bulk_update(closed, ["closed_key", "closed_at", "realized_pnl", "complete"])


def _save_position(position: Position, book: pnl.TokenBook, token: Token) -> None:
    for name, value in position_figures(book, token.price_usd).items():
        setattr(position, name, value)
    position.save()
    if book.cycle is not None:  # the open cycle's running figures, shown on the wallet page
        PositionCycle.objects.filter(
            wallet_id=position.wallet_id, token_id=position.token_id, opened_key=str(book.cycle.opened_key)
        ).update(realized_pnl=book.cycle.realized_pnl, complete=book.cycle.complete)


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
