"""Each wallet's per-window statistics (`WalletStats`), written from exact running sums (`WindowTotals`)
and the wallet's open positions.

Three ways the sums move, none of which reads a wallet's history but the first:
- `refresh_stats`: aggregated again from every stored realization, cycle and booked swap (a
  replay, a new wallet, the reconciliation);
- `add_booked`: a booking adds the rows it wrote, after taking off what the windows' starts passed
  since the sums were last moved (`as_of`);
- `roll_stats`: time alone moves the windows (the beat, a price tick).

`reconcile_stats` compares the running sums with a full aggregate and logs any difference.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Context, Decimal

from django.db import connection
from django.db.models import BooleanField, Count, DateTimeField, F, Max, Q, Sum
from django.db.models.aggregates import Aggregate
from django.utils import timezone

from aura.prepared import Bind, BindAny, Prepared
from whales.books import pnl
from whales.books.trades import ZERO
from whales.models import (
    Position,
    PositionCycle,
    Realization,
    Swap,
    TrackedWallet,
    WalletStats,
    WindowTotals,
)

logger = logging.getLogger(__name__)

# Sums of 18-place amounts need more digits than the default context keeps (28).
_EXACT = Context(prec=80)


class BoolOr(Aggregate):
    function = "BOOL_OR"
    output_field = BooleanField()


@dataclass(frozen=True)
class Totals:
    """What one window of one wallet sums: its realizations (sells), closed complete cycles and booked swaps."""

    realized: Decimal = ZERO
    sold_cost: Decimal = ZERO
    sells: int = 0
    sell_wins: int = 0
    cycles: int = 0
    cycle_wins: int = 0
    volume: Decimal = ZERO
    swaps: int = 0

    def plus(self, other: Totals, sign: int = 1) -> Totals:
        return Totals(
            **{
                f.name: (
                    _EXACT.add(getattr(self, f.name), _EXACT.multiply(sign, getattr(other, f.name)))
                    if isinstance(getattr(self, f.name), Decimal)
                    else getattr(self, f.name) + sign * getattr(other, f.name)
                )
                for f in fields(Totals)
            }
        )


SUMMED = [f.name for f in fields(Totals)]
Key = tuple[int, str]  # (wallet id, window)


def refresh_stats(wallet_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Aggregate the sums of `wallet_ids` (all wallets when None) again from the stored rows, and
    write their figures. A handful of grouped queries whatever the count."""
    now = now or timezone.now()
    ids = list(TrackedWallet.objects.values_list("id", flat=True)) if wallet_ids is None else sorted(set(wallet_ids))
    if not ids:
        return 0
    totals, last_active = full_totals(ids, now)
    _save_totals(ids, totals, last_active, now)
    _write_figures(ids, totals, last_active, now)
    return len(ids)


def add_booked(
    wallet_ids: Collection[int], swap_ids: Collection[int], closed_cycle_ids: Collection[int], now: datetime
) -> None:
    """After a booking wrote the realizations and cycles of these newly booked swaps (and closed these
    cycles): move the wallets' sums to `now` and add those rows. Wallets without sums yet are
    aggregated in full."""
    if not wallet_ids:
        return
    stored, last_active = _stored_totals(wallet_ids)
    missing = [w for w in wallet_ids if any((w, window) not in stored for window in pnl.WINDOWS)]
    if missing:
        refresh_stats(missing, now)
    ids = sorted(set(wallet_ids) - set(missing))
    if not ids:
        return
    rolled = _rolled(stored, ids, now, exclude_swaps=swap_ids, exclude_cycles=closed_cycle_ids)
    new, new_active = _booked_sums(ids, swap_ids, closed_cycle_ids, now) if swap_ids or closed_cycle_ids else ({}, {})
    totals = {key: rolled[key].plus(new.get(key, Totals())) for key in rolled}
    for wallet_id, at in new_active.items():
        last_active[wallet_id] = max(filter(None, [last_active.get(wallet_id), at]))
    _save_totals(ids, totals, last_active, now)
    _write_figures(ids, totals, last_active, now)


def roll_stats(wallet_ids: Collection[int], now: datetime | None = None) -> None:
    """Move the wallets' sums to `now` (what the windows' starts passed leaves them) and write their
    figures again with their positions' current values."""
    add_booked(wallet_ids, (), (), now or timezone.now())


def reconcile_stats(wallet_ids: Collection[int], now: datetime | None = None) -> int:
    """Compare the wallets' running sums, moved to `now`, with a full aggregate; log each difference,
    keep the aggregate. Returns how many (wallet, window) rows differed."""
    now = now or timezone.now()
    ids = sorted(set(wallet_ids))
    if not ids:
        return 0
    stored, stored_active = _stored_totals(ids)
    present = [w for w in ids if all((w, window) in stored for window in pnl.WINDOWS)]
    running = _rolled(stored, present, now)
    totals, last_active = full_totals(ids, now)
    drifted = 0
    for key, full in sorted(totals.items()):
        kept = running.get(key)
        if kept is None:
            continue
        differences = {
            name: (getattr(kept, name), getattr(full, name))
            for name in SUMMED
            if getattr(kept, name) != getattr(full, name)
        }
        if stored_active.get(key[0]) != last_active.get(key[0]):
            differences["last_active"] = (stored_active.get(key[0]), last_active.get(key[0]))
        if differences:
            drifted += 1
            logger.warning("stats drift: wallet %d, window %s: %s (running, full)", key[0], key[1], differences)
    _save_totals(ids, totals, last_active, now)
    _write_figures(ids, totals, last_active, now)
    return drifted


def full_totals(ids: Collection[int], now: datetime) -> tuple[dict[Key, Totals], dict[int, datetime | None]]:
    """Every window's sums of these wallets from all their stored rows, and each one's last booked swap's time."""
    totals, last_active = _window_sums(
        Realization.objects.filter(wallet_id__in=ids),
        PositionCycle.objects.filter(wallet_id__in=ids),
        Swap.objects.filter(wallet_id__in=ids),
        now,
    )
    return {(w, window): totals.get((w, window), Totals()) for w in ids for window in pnl.WINDOWS}, last_active


def _window_sums(realizations, cycles, swaps, now: datetime) -> tuple[dict[Key, Totals], dict[int, datetime]]:
    """The windows' sums of these rows (whichever they are: all of some wallets', or a booking's own)."""
    since = {
        window: (None if seconds is None else now - timedelta(seconds=seconds))
        for window, seconds in pnl.WINDOWS.items()
    }

    def within(field: str, window: str) -> Q:
        return Q() if since[window] is None else Q(**{f"{field}__gt": since[window]})

    counted_sell = Q(amount__gt=F("missing_amount"))
    sells = _grouped(
        realizations,
        {
            f"{name}_{w}": aggregate
            for w in pnl.WINDOWS
            for name, aggregate in {
                "realized": Sum("realized_pnl", filter=within("at", w)),
                "sold_cost": Sum("cost_basis", filter=within("at", w)),
                "sells": Count("id", filter=within("at", w) & counted_sell),
                "sell_wins": Count("id", filter=within("at", w) & counted_sell & Q(realized_pnl__gt=0)),
            }.items()
        },
    )
    closed = _grouped(
        cycles.filter(complete=True).exclude(closed_at=None),
        {
            f"{name}_{w}": aggregate
            for w in pnl.WINDOWS
            for name, aggregate in {
                "cycles": Count("id", filter=within("closed_at", w)),
                "cycle_wins": Count("id", filter=within("closed_at", w) & Q(realized_pnl__gt=0)),
            }.items()
        },
    )
    activity = _grouped(
        swaps.filter(in_books=True),
        {
            "last_active": Max("block_time"),
            **{f"volume_{w}": Sum("usd_value", filter=within("block_time", w)) for w in pnl.WINDOWS},
            **{f"swaps_{w}": Count("id", filter=within("block_time", w)) for w in pnl.WINDOWS},
        },
    )
    totals: dict[Key, Totals] = {}
    for wallet_id in sells.keys() | closed.keys() | activity.keys():
        row = {**sells.get(wallet_id, {}), **closed.get(wallet_id, {}), **activity.get(wallet_id, {})}
        for w in pnl.WINDOWS:
            totals[(wallet_id, w)] = Totals(**{name: row.get(f"{name}_{w}") or _zero(name) for name in SUMMED})
    return totals, {w: row["last_active"] for w, row in activity.items() if row["last_active"] is not None}


# A booking's own rows, as stored (at their columns' scale): its swaps' realizations, the cycles it
# closed, its swaps.
_BOOKED = f"""
    SELECT 'sell', wallet_id, at, realized_pnl, cost_basis, amount > missing_amount
      FROM {Realization._meta.db_table} WHERE swap_id = ANY(%(swaps)s) AND wallet_id = ANY(%(wallets)s)
    UNION ALL
    SELECT 'cycle', wallet_id, closed_at, realized_pnl, NULL, NULL
      FROM {PositionCycle._meta.db_table}
     WHERE id = ANY(%(cycles)s) AND complete AND closed_at IS NOT NULL AND wallet_id = ANY(%(wallets)s)
    UNION ALL
    SELECT 'swap', wallet_id, block_time, usd_value, NULL, NULL
      FROM {Swap._meta.db_table} WHERE id = ANY(%(swaps)s) AND in_books AND wallet_id = ANY(%(wallets)s)
"""


def _booked_sums(
    ids: Collection[int], swap_ids: Collection[int], cycle_ids: Collection[int], now: datetime
) -> tuple[dict[Key, Totals], dict[int, datetime]]:
    """`_window_sums` of a booking's own rows: a few rows, summed here rather than by a grouped query."""
    since = {window: None if s is None else now - timedelta(seconds=s) for window, s in pnl.WINDOWS.items()}
    sums: dict[Key, dict[str, Decimal | int]] = {}
    last_active: dict[int, datetime] = {}
    with connection.cursor() as cursor:
        cursor.execute(_BOOKED, {"swaps": list(swap_ids), "cycles": list(cycle_ids), "wallets": list(ids)})
        rows = cursor.fetchall()
    for kind, wallet_id, at, value, cost, counted in rows:
        if kind == "swap":
            last_active[wallet_id] = max(at, last_active.get(wallet_id, at))
        for window, start in since.items():
            if start is not None and at <= start:
                continue
            row = sums.get((wallet_id, window))
            if row is None:
                row = sums[(wallet_id, window)] = {name: _zero(name) for name in SUMMED}
            if kind == "sell":
                row["realized"] = _EXACT.add(row["realized"], value)
                row["sold_cost"] = _EXACT.add(row["sold_cost"], cost)
                row["sells"] += counted
                row["sell_wins"] += counted and value > 0
            elif kind == "cycle":
                row["cycles"] += 1
                row["cycle_wins"] += value > 0
            else:
                row["volume"] = _EXACT.add(row["volume"], value or ZERO)
                row["swaps"] += 1
    return {key: Totals(**row) for key, row in sums.items()}, last_active


def _zero(name: str) -> Decimal | int:
    return ZERO if name in ("realized", "sold_cost", "volume") else 0


def _grouped(queryset, aggregates: dict) -> dict[int, dict]:
    return {row.pop("wallet_id"): row for row in queryset.values("wallet_id").annotate(**aggregates)}


_WINDOW_TOTALS = Prepared(lambda: WindowTotals.objects.filter(BindAny("wallet_id", "wallets")).order_by())


def _stored_totals(wallet_ids: Collection[int]) -> tuple[dict[Key, WindowTotals], dict[int, datetime | None]]:
    rows = {(t.wallet_id, t.window): t for t in _WINDOW_TOTALS.rows(wallets=list(wallet_ids))}
    return rows, {wallet_id: row.last_active for (wallet_id, _), row in rows.items()}


# The rows a window's start passed between two moments, for many (wallet, window, from, to) at once:
# three index range scans of that wallet's rows by time per range (LATERAL keeps them so; a join on
# the ranges may be planned as a scan of the whole table).
_PASSED = f"""
    SELECT b.wallet_id, b.win, r.realized, r.sold_cost, r.sells, r.sell_wins, c.cycles, c.cycle_wins, s.volume, s.swaps
    FROM unnest(%(wallets)s::bigint[], %(windows)s::text[], %(los)s::timestamptz[], %(his)s::timestamptz[])
         AS b(wallet_id, win, lo, hi)
    CROSS JOIN LATERAL (
        SELECT SUM(realized_pnl) AS realized, SUM(cost_basis) AS sold_cost,
               COUNT(*) FILTER (WHERE amount > missing_amount) AS sells,
               COUNT(*) FILTER (WHERE amount > missing_amount AND realized_pnl > 0) AS sell_wins
        FROM {Realization._meta.db_table}
        WHERE wallet_id = b.wallet_id AND at > b.lo AND at <= b.hi AND NOT (swap_id = ANY(%(swaps)s::bigint[]))
    ) r
    CROSS JOIN LATERAL (
        SELECT COUNT(*) AS cycles, COUNT(*) FILTER (WHERE realized_pnl > 0) AS cycle_wins
        FROM {PositionCycle._meta.db_table}
        WHERE wallet_id = b.wallet_id AND complete AND closed_at > b.lo AND closed_at <= b.hi
          AND NOT (id = ANY(%(cycles)s::bigint[]))
    ) c
    CROSS JOIN LATERAL (
        SELECT SUM(usd_value) AS volume, COUNT(*) AS swaps
        FROM {Swap._meta.db_table}
        WHERE wallet_id = b.wallet_id AND in_books AND block_time > b.lo AND block_time <= b.hi
          AND NOT (id = ANY(%(swaps)s::bigint[]))
    ) s
"""
_PASSED_COLUMNS = ("realized", "sold_cost", "sells", "sell_wins", "cycles", "cycle_wins", "volume", "swaps")


def _rolled(
    stored: dict[Key, WindowTotals],
    ids: Iterable[int],
    now: datetime,
    exclude_swaps: Collection[int] = (),
    exclude_cycles: Collection[int] = (),
) -> dict[Key, Totals]:
    """The stored sums of these wallets moved to `now`: less the rows dated between each window's
    start at `as_of` and its start at `now` (or plus them, should `now` be the earlier). Rows of
    `exclude_*` were never counted: they were just booked."""
    totals = {(w, window): _totals_of(stored[(w, window)]) for w in ids for window in pnl.WINDOWS}
    ranges, signs = [], {}
    for (w, window), _ in totals.items():
        seconds, as_of = pnl.WINDOWS[window], stored[(w, window)].as_of
        if seconds is None or as_of == now:
            continue
        start_then, start_now = as_of - timedelta(seconds=seconds), now - timedelta(seconds=seconds)
        ranges.append((w, window, min(start_then, start_now), max(start_then, start_now)))
        signs[(w, window)] = -1 if as_of < now else 1
    if not ranges:
        return totals
    wallets, windows, los, his = (list(column) for column in zip(*ranges, strict=True))
    params = {
        "wallets": wallets,
        "windows": windows,
        "los": los,
        "his": his,
        "swaps": list(exclude_swaps),
        "cycles": list(exclude_cycles),
    }
    with connection.cursor() as cursor:
        cursor.execute(_PASSED, params)
        for wallet_id, window, *values in cursor.fetchall():
            passed = Totals(**{n: v or _zero(n) for n, v in zip(_PASSED_COLUMNS, values, strict=True)})
            key = (wallet_id, window)
            totals[key] = totals[key].plus(passed, sign=signs[key])
    return totals


def _totals_of(row: WindowTotals) -> Totals:
    return Totals(**{name: getattr(row, name) for name in SUMMED})


def _save_totals(
    ids: Iterable[int], totals: dict[Key, Totals], last_active: dict[int, datetime | None], now: datetime
) -> None:
    WindowTotals.objects.bulk_create(
        [
            WindowTotals(
                wallet_id=w, window=window, as_of=now, last_active=last_active.get(w), **vars(totals[(w, window)])
            )
            for w in ids
            for window in pnl.WINDOWS
        ],
        update_conflicts=True,
        unique_fields=["wallet", "window"],
        update_fields=["as_of", "last_active", *SUMMED],
    )


# Each wallet's open positions summed, for its figures (`dead_bag_age`: opened before it, a dead bag).
_HOLDINGS = Prepared(
    lambda: (
        Position.objects.filter(BindAny("wallet_id", "wallets"))
        .values("wallet_id")
        .annotate(
            unrealized=Sum("unrealized_pnl", filter=Q(holdings__gt=0)),
            open_cost=Sum("cost_basis", filter=Q(holdings__gt=0)),
            open_positions=Count("id", filter=Q(opened_at__isnull=False)),
            incomplete=BoolOr("incomplete"),
            pending=Sum("pending_trades"),
            unpriced=Count("id", filter=Q(holdings__gt=0, unrealized_pnl=None)),
            dead_bags=Count(
                "id",
                filter=Q(
                    opened_at__lt=Bind("dead_bag_age", DateTimeField()),
                    cycle_complete=True,
                    cost_basis__gt=0,
                    unrealized_pnl__lt=F("cost_basis") * pnl.DEAD_BAG_LOSS,
                ),
            ),
        )
        .order_by()
    )
)
_ACTIVE = Prepared(
    lambda: (
        TrackedWallet.objects.filter(BindAny("id", "wallets"), is_active=True).order_by().values_list("id", flat=True)
    )
)


def _write_figures(
    ids: Collection[int], totals: dict[Key, Totals], last_active: dict[int, datetime | None], now: datetime
) -> None:
    """WalletStats of every window of these wallets: the sums, with their open positions' figures."""
    dead_bag_age = now - timedelta(days=pnl.DEAD_BAG_AGE_DAYS)
    holdings = {row.pop("wallet_id"): row for row in _HOLDINGS.rows(wallets=list(ids), dead_bag_age=dead_bag_age)}
    active = set(_ACTIVE.rows(wallets=list(ids)))
    rows = [
        _stats_row(
            wallet_id,
            wallet_id in active,
            window,
            totals[(wallet_id, window)],
            holdings.get(wallet_id, {}),
            last_active.get(wallet_id),
            now,
        )
        for wallet_id in ids
        for window in pnl.WINDOWS
    ]
    _upsert_stats(rows)


_STATS_FIELDS = [f for f in WalletStats._meta.concrete_fields if not f.primary_key]
_STATS_COLUMNS = [f'"{f.column}"' for f in _STATS_FIELDS]
_STATS_UPDATED = ", ".join(f"{c} = EXCLUDED.{c}" for c in _STATS_COLUMNS if c not in ('"wallet_id"', '"window"'))
_STATS_UPSERT_ROWS = 1000


def _upsert_stats(rows: list[WalletStats]) -> None:
    """`bulk_create(update_conflicts=True)` on (wallet, window), the statement written here: Django
    building an INSERT of 30 columns a row cost more CPU than PostgreSQL running it."""
    placeholders = f"({', '.join(['%s'] * len(_STATS_FIELDS))})"
    for start in range(0, len(rows), _STATS_UPSERT_ROWS):
        batch = rows[start : start + _STATS_UPSERT_ROWS]
        params = [
            field.get_db_prep_save(getattr(row, field.attname), connection) for row in batch for field in _STATS_FIELDS
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WalletStats._meta.db_table} ({', '.join(_STATS_COLUMNS)})"
                f" VALUES {', '.join([placeholders] * len(batch))}"
                f' ON CONFLICT ("wallet_id", "window") DO UPDATE SET {_STATS_UPDATED}',
                params,
            )


def _stats_row(
    wallet_id: int,
    wallet_active: bool,
    window: str,
    totals: Totals,
    holdings: dict,
    last_active: datetime | None,
    now: datetime,
) -> WalletStats:
    realized = totals.realized
    unrealized = holdings.get("unrealized") or ZERO
    capital = totals.sold_cost + (holdings.get("open_cost") or ZERO)
    total = realized + unrealized
    by_cycle = pnl.WinRate.of(totals.cycle_wins, totals.cycles)
    by_sell = pnl.WinRate.of(totals.sell_wins, totals.sells)
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
        volume_usd=totals.volume,
        swap_count=totals.swaps,
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
        last_active=last_active,
        updated_at=now,
    )
