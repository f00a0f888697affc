"""bench/live's figures: distributions of latencies (p50/p95/max) and epoch milliseconds.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Distribution:
    """Milliseconds; percentiles by nearest rank."""

    samples: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if not self.samples:
            return math.nan
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def max(self) -> float:
        return max(self.samples) if self.samples else math.nan

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else math.nan

    def line(self) -> str:
        return (
            f"p50 {self.p50:7.2f}  p95 {self.p95:7.2f}  max {self.max:7.2f}  mean {self.mean:7.2f} ms"
            f"  (n={len(self.samples):,})"
        )


def epoch_ms(moment: datetime) -> float:
    return moment.timestamp() * 1000
