"""The stored side of P&L: keeps positions, cycles and realizations equal to a replay of the valued
trades (whales.pnl) — swaps, and token transfers in and out — and each wallet's per-window statistics.

Called by `whales.actions` inside its database transactions (the wallets concerned are already
locked there); nothing else writes these tables. A swap without a USD price, or an incoming
transfer without a market price, is not in the books yet: it is counted in `pending_trades` and
enters by a replay of its position once valued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import BooleanField, Count, F, Max, Q, Sum
from django.db.models.aggregates import Aggregate
from django.utils import timezone

from whales import pnl
from whales.models import (
    Direction,
    Position,
    PositionCycle,
    Realization,
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


def trade_of(swap: Swap, mint: str) -> pnl.Trade:
    """The engine's view of a valued swap: USD per token, keyed by the swap's id."""
    return pnl.Trade(
        key=swap.id,
        time=_unix(swap.block_time),
        side=swap.side,
        token=mint,
        amount=swap.token_amount,
        price=swap.usd_price,
        fee=FEE_FREE,
        order=swap.position,
    )


def transfer_trade_of(transfer: TokenTransfer, mint: str) -> pnl.Trade:
    """The engine's view of a transfer: in at its market value on receipt, out at cost (price unused)."""
    incoming = transfer.direction == Direction.IN
    return pnl.Trade(
        key=f"{TRANSFER_KEY_PREFIX}{transfer.id}",
        time=_unix(transfer.block_time),
        side=pnl.TRANSFER_IN if incoming else pnl.TRANSFER_OUT,
        token=mint,
        amount=transfer.amount,
        price=transfer.usd_price if incoming else ZERO,
        fee=ZERO,
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
        position.pending_trades += len(pair_swaps) - len(valued) + len(pair_transfers) - len(priced)
        position.bought_usd += _usd(valued, "buy")
        position.sold_usd += _usd(valued, "sell")
        _save_position(position, book, tokens[token_id])
    return {wallet_id for wallet_id, _ in pairs}


def recompute_position(wallet_id: int, token_id: int) -> None:
    """Rebuild one (wallet, token) from its stored swaps and transfers: book, cycles and realizations."""
    token = Token.objects.get(id=token_id)
    swaps = list(
        Swap.objects.filter(wallet_id=wallet_id, token_id=token_id).only(
            "id", "block_time", "side", "token_amount", "usd_price", "usd_value", "position"
        )
    )
    transfers = list(TokenTransfer.objects.filter(wallet_id=wallet_id, token_id=token_id))
    valued = [s for s in swaps if s.usd_price is not None]
    priced = _priced(transfers)
    trades = sorted(
        [trade_of(s, token.mint) for s in valued] + [transfer_trade_of(t, token.mint) for t in priced],
        key=replay_order,
    )
    book = pnl.TokenBook(token.mint)
    events = [event for trade in trades for event in book.apply(trade)]
    Realization.objects.filter(wallet_id=wallet_id, token_id=token_id).delete()
    PositionCycle.objects.filter(wallet_id=wallet_id, token_id=token_id).delete()
    _record_events(wallet_id, token_id, events)
    position = Position.objects.filter(wallet_id=wallet_id, token_id=token_id).first() or Position(
        wallet_id=wallet_id, token_id=token_id, book={}
    )
    position.pending_trades = len(swaps) - len(valued) + len(transfers) - len(priced)
    position.bought_usd, position.sold_usd = _usd(valued, "buy"), _usd(valued, "sell")
    if not swaps and not transfers and position.pk is None:
        return
    _save_position(position, book, token)


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


def _save_position(position: Position, book: pnl.TokenBook, token: Token) -> None:
    position.book = book.to_dict()
    position.holdings = book.holdings
    position.cost_basis = book.cost_basis
    position.realized_pnl = book.realized_pnl
    position.missing_amount = book.missing_amount
    position.incomplete = book.incomplete
    position.opened_at = _datetime(book.cycle.opened_time) if book.cycle else None
    position.cycle_complete = book.cycle.complete if book.cycle else True
    position.unrealized_pnl = pnl.unrealized(book, token.price_usd) if book.holdings else None
    position.last_trade_at = _datetime(book.last_position[0]) if book.last_position else None
    position.save()
    if book.cycle is not None:  # the open cycle's running figures, shown on the wallet page
        PositionCycle.objects.filter(
            wallet_id=position.wallet_id, token_id=position.token_id, opened_key=str(book.cycle.opened_key)
        ).update(realized_pnl=book.cycle.realized_pnl, complete=book.cycle.complete)


# --- prices ------------------------------------------------------------------------------------------


def revalue_open_positions(token_ids: Iterable[int]) -> set[int]:
    """Unrealized P&L of every position in these tokens at their latest price; returns the wallets touched."""
    wallets: set[int] = set()
    for token_id, price in Token.objects.filter(id__in=list(token_ids)).values_list("id", "price_usd"):
        held = Position.objects.filter(token_id=token_id, holdings__gt=0)
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
        last_active=activity.get("last_active"),
        updated_at=now,
    )
