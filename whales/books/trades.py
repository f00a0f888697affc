"""Stored swaps and transfers as the P&L engine's trades (`whales.books.pnl`), and one (wallet, token)
replayed from its stored rows: the figures its position shows.

A swap without a USD price, or an incoming transfer without a market price, is not in the books
yet: it is counted in `pending_trades` and enters by a replay of its position once valued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import BigIntegerField
from django.db.models.functions import Cast, Extract, Floor

from whales.books import pnl
from whales.models import Direction, Side, Swap, TokenTransfer

ZERO = Decimal(0)


FEE_FREE = ZERO  # a swap's quote amount is all-in (platform and bot fees inside), so its price carries them


TRANSFER_KEY_PREFIX = "t"  # a swap's trade key is its id; a transfer's is "t<id>"


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def datetime_at(time: pnl.Time) -> datetime:
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


def position_figures(book: pnl.TokenBook, price: Decimal | None) -> dict[str, Any]:
    """The Position columns a book determines; unrealized P&L at `price` (None when unknown or flat)."""
    cycle = book.cycle
    return {
        "book": book.to_dict(),
        "holdings": book.holdings,
        "cost_basis": book.cost_basis,
        "realized_pnl": book.realized_pnl,
        "missing_amount": book.missing_amount,
        "incomplete": book.incomplete,
        "opened_at": datetime_at(cycle.opened_time) if cycle else None,
        "cycle_complete": cycle.complete if cycle else True,
        "unrealized_pnl": pnl.unrealized(book, price) if book.holdings else None,
        "last_trade_at": datetime_at(book.last_position[0]) if book.last_position else None,
    }
