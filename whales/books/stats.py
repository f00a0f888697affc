"""Each wallet's per-window statistics (`WalletStats`), computed in SQL from its stored realizations,
cycles, positions and swaps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import BooleanField, Count, F, Max, Q, Sum
from django.db.models.aggregates import Aggregate
from django.utils import timezone

from whales.books import pnl
from whales.books.trades import ZERO
from whales.models import Position, PositionCycle, Realization, Swap, TrackedWallet, WalletStats


class BoolOr(Aggregate):
    function = "BOOL_OR"
    output_field = BooleanField()


def refresh_stats(wallet_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Recompute WalletStats (every window) of `wallet_ids` (all wallets when None) from the stored
    realizations, cycles, positions and swaps. A handful of grouped queries whatever the count."""
    now = now or timezone.now()
    ids = list(TrackedWallet.objects.values_list("id", flat=True)) if wallet_ids is None else sorted(set(wallet_ids))
    if not ids:
        return 0
    since = {
        window: (None if seconds is None else now - timedelta(seconds=seconds))
        for window, seconds in pnl.WINDOWS.items()
    }

    def within(field: str, window: str) -> Q:
        return Q() if since[window] is None else Q(**{f"{field}__gt": since[window]})

    sells = _grouped(
        Realization.objects.filter(wallet_id__in=ids),
        {
            f"{kind}_{w}": aggregate
            for w in pnl.WINDOWS
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
            for w in pnl.WINDOWS
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
            **{f"volume_{w}": Sum("usd_value", filter=within("block_time", w)) for w in pnl.WINDOWS},
            **{f"swaps_{w}": Count("id", filter=within("block_time", w)) for w in pnl.WINDOWS},
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
        for window in pnl.WINDOWS
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
