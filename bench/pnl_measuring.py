"""bench/pnl's measuring tools: memory and GC clocks, timings, ledger totals to compare runs, and
running a stage as production serves (DEBUG off), in a fresh process of its own.

Imported by bench/pnl.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import TypeVar

from django.db.models import Count, Q, Sum
from django.test.utils import override_settings

from bench.pnl_market import EXACT, MB, ZERO, Config
from whales.books import pnl
from whales.models import Position, PositionCycle, Realization


def max_rss_mb() -> float:
    """The process's largest resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


class GcClock:
    """Wall time spent in the cyclic garbage collector while running (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _callback(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)


@dataclass
class Timings:
    """Repeated measurements of one thing, in milliseconds."""

    samples: list[float] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]

    @property
    def p50(self) -> float:
        return self.percentile(0.5)

    @property
    def p95(self) -> float:
        return self.percentile(0.95)

    @property
    def max(self) -> float:
        return max(self.samples)

    def line(self) -> str:
        return f"p50 {self.p50:7.2f} ms   p95 {self.p95:7.2f} ms   max {self.max:7.2f} ms   (n={len(self.samples)})"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "-"


@dataclass
class LedgerTotals:
    """What the replays produced, summed over wallets: the pure and database runs must agree."""

    positions: int = 0
    sells: int = 0
    oversells: int = 0
    closed_cycles: int = 0
    open_cycles: int = 0
    realized_pnl: Decimal = ZERO

    @classmethod
    def stored(cls) -> LedgerTotals:
        """The same totals from the rows in the database."""
        sells = Realization.objects.aggregate(
            n=Count("id"), oversold=Count("id", filter=Q(missing_amount__gt=0)), realized=Sum("realized_pnl")
        )
        cycles = PositionCycle.objects.aggregate(
            closed=Count("id", filter=Q(closed_at__isnull=False)), open=Count("id", filter=Q(closed_at=None))
        )
        return cls(
            positions=Position.objects.count(),
            sells=sells["n"],
            oversells=sells["oversold"],
            closed_cycles=cycles["closed"],
            open_cycles=cycles["open"],
            realized_pnl=sells["realized"] or ZERO,
        )

    def agrees_with(self, other: LedgerTotals) -> bool:
        """Same counts, and realized P&L equal to within the rounding of each stored sell (18 places)."""
        counts = attrgetter("positions", "sells", "oversells", "closed_cycles", "open_cycles")
        tolerance = Decimal(max(self.sells, other.sells)) * Decimal("5E-19")
        return counts(self) == counts(other) and abs(self.realized_pnl - other.realized_pnl) <= tolerance

    def add(self, replayed: pnl.Ledger) -> None:
        self.positions += len(replayed.books)
        self.open_cycles += sum(1 for book in replayed.books.values() if book.cycle is not None)
        self.realized_pnl = EXACT.add(self.realized_pnl, replayed.realized_pnl)
        for event in replayed.events:
            kind = type(event)
            if kind is pnl.SellRealized:
                self.sells += 1
                self.oversells += event.missing_amount > 0
            elif kind is pnl.CycleClosed:
                self.closed_cycles += 1

    def line(self) -> str:
        return (
            f"{self.positions:,} positions, {self.sells:,} sells ({self.oversells:,} oversold), "
            f"{self.closed_cycles:,} closed and {self.open_cycles:,} open cycles, "
            f"realized P&L ${self.realized_pnl:,.2f}"
        )


_Result = TypeVar("_Result")


def as_served(function: Callable[[Config], _Result], config: Config) -> _Result:
    """`function(config)` with DEBUG off, as production serves: no query log, no template debug."""
    with override_settings(DEBUG=False):
        return function(config)


def in_fresh_process(function: Callable[[Config], _Result], config: Config) -> _Result:
    """`as_served(function, config)` in a new interpreter, so that its max RSS is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(as_served, function, config).result()
