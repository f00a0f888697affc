"""Per-minute USD price paths: a mean-reverting walk plus pumps, dumps and rugs, a day at a time."""

from __future__ import annotations

import itertools
import math
import operator
import random
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

from simulator.market.constants import DAY_MINUTES

# Standard normal quantiles at 65,536 evenly spaced probabilities: drawing an index from two random
# bytes is ~10x faster than random.gauss, and this runs for every minute of every asset.
_NORMAL = [NormalDist().inv_cdf((i + 0.5) / 65536) for i in range(65536)]


@lru_cache(maxsize=16)
def _scaled_normals(sigma: float) -> list[float]:
    return [sigma * z for z in _NORMAL]


@dataclass(frozen=True)
class PriceEvent:
    """A pump, dump or rug: a log-price offset ramping to `peak_log`, then easing back.

    A rug's offset stays at `peak_log` forever; pumps and dumps fade to nothing.
    """

    kind: str  # "pump" | "dump" | "rug"
    start_minute: int
    peak_minute: int
    end_minute: int
    peak_log: float
    profile: tuple[float, ...] = field(repr=False)  # offset for each minute from start

    @property
    def multiple(self) -> float:
        """Price at the peak over price before the event (e.g. 4.0 for a 4x pump, 0.01 for a rug)."""
        return math.exp(self.peak_log)


@dataclass(frozen=True)
class _PathParams:
    volatility: float  # of log price, per minute
    reversion: float  # per minute, toward log(reference price)
    pumps_per_day: float
    pump_multiple: tuple[float, float]
    dumps_per_day: float
    dump_fraction: tuple[float, float]


_PATH_PARAMS = {
    "sol": _PathParams(0.0009, 1 / (2 * DAY_MINUTES), 0.05, (1.02, 1.08), 0.05, (0.03, 0.08)),
    "stable": _PathParams(0.00004, 1 / 30, 0.0, (1, 1), 0.0, (0, 0)),
    "bluechip": _PathParams(0.0018, 1 / (4 * DAY_MINUTES), 0.15, (1.05, 1.35), 0.1, (0.05, 0.2)),
    "meme": _PathParams(0.0045, 1 / (6 * DAY_MINUTES), 0.5, (1.3, 4.0), 0.3, (0.2, 0.5)),
    "pump": _PathParams(0.0065, 1 / (4 * DAY_MINUTES), 0.7, (1.5, 10.0), 0.4, (0.25, 0.6)),
}


class PricePath:
    """Per-minute USD prices of one asset from minute 0, extended a day at a time on demand.

    Deterministic: the same RNG seed gives the same prices however the extension is chunked.
    `at(minute)` clamps negative minutes to 0 and extends the path as needed.
    """

    def __init__(self, rng: random.Random, kind: str, reference_price: float, rug_minute: int | None) -> None:
        self._rng = rng
        self._params = _PATH_PARAMS[kind]
        self._mu = math.log(reference_price)
        self._walk = self._mu
        self._rug_minute = rug_minute
        self._level = 0.0  # permanent log offset (after a rug)
        self._active: list[PriceEvent] = []
        self._logs = array("d")  # log USD price per minute; exp() on read is cheaper than on write
        self.events: list[PriceEvent] = []
        self._next_pump = self._next_arrival(0, self._params.pumps_per_day)
        self._next_dump = self._next_arrival(0, self._params.dumps_per_day)

    def at(self, minute: int) -> float:
        if minute < 0:
            minute = 0
        if minute >= len(self._logs):
            self.ensure(minute)
        return math.exp(self._logs[minute])

    def ensure(self, minute: int) -> None:
        """Extend the path so that `minute` has a price."""
        while len(self._logs) <= minute:
            self._extend_one_day()

    def __len__(self) -> int:
        """Minutes generated so far."""
        return len(self._logs)

    def _next_arrival(self, after: int, per_day: float) -> float:
        if per_day <= 0:
            return math.inf
        return after + self._rng.expovariate(per_day / DAY_MINUTES)

    def _extend_one_day(self) -> None:
        p, rng = self._params, self._rng
        start, end = len(self._logs), len(self._logs) + DAY_MINUTES
        noise = map(_scaled_normals(p.volatility).__getitem__, array("H", rng.randbytes(2 * DAY_MINUTES)))
        if p.reversion * DAY_MINUTES >= 1:
            # Reverts within the day: independent noise around the anchor.
            logs = list(map(self._mu.__add__, noise))
        else:
            # Mean reversion as a constant pull toward the anchor for the day, so the walk is a
            # C-level running sum (a per-minute Python step cost three times as much).
            pull = p.reversion * (self._mu - self._walk)
            logs = list(itertools.accumulate(map(pull.__add__, noise), operator.add, initial=self._walk))[1:]
            self._walk = logs[-1]
        while self._next_pump < end:
            self._start_event("pump", int(self._next_pump))
            self._next_pump = self._next_arrival(self._next_pump, p.pumps_per_day)
        while self._next_dump < end:
            self._start_event("dump", int(self._next_dump))
            self._next_dump = self._next_arrival(self._next_dump, p.dumps_per_day)
        if self._rug_minute is not None and start <= self._rug_minute < end:
            self._start_event("rug", self._rug_minute)
        if self._level:
            logs = list(map(self._level.__add__, logs))
        still_active = []
        for event in self._active:
            lo, hi = max(event.start_minute, start) - start, min(event.end_minute, end) - start
            if lo < hi:
                shift = start - event.start_minute
                logs[lo:hi] = map(float.__add__, logs[lo:hi], event.profile[lo + shift : hi + shift])
            if event.kind == "rug":
                # From the end of its ramp the rug's offset is permanent: fold it into the level.
                after = max(event.end_minute - start, 0)
                logs[after:] = map(event.peak_log.__add__, logs[after:])
                if event.end_minute <= end:
                    self._level += event.peak_log
                    continue
            if event.end_minute > end:
                still_active.append(event)
        self._active = still_active
        self._logs.extend(logs)

    def _start_event(self, kind: str, minute: int) -> None:
        p, rng = self._params, self._rng
        if kind == "pump":
            peak = math.log(rng.uniform(*p.pump_multiple))
            ramp, decay, fade = rng.randint(5, 60), rng.randint(30, 360), rng.randint(360, 1440)
            keep = rng.uniform(0.15, 0.6)
        elif kind == "dump":
            peak = math.log(1 - rng.uniform(*p.dump_fraction))
            ramp, decay, fade = rng.randint(3, 30), rng.randint(60, 600), rng.randint(360, 1440)
            keep = rng.uniform(0.2, 0.7)
        else:
            peak = -math.log(rng.uniform(30, 500))
            ramp, decay, fade, keep = rng.randint(1, 4), 0, 0, 1.0
        # Straight lines: up to the peak, down to `keep` of it, then fading to nothing.
        profile = _line(0.0, peak, ramp) + _line(peak, peak * keep, decay) + _line(peak * keep, 0.0, fade)
        event = PriceEvent(kind, minute, minute + ramp - 1, minute + len(profile), peak, profile)
        self.events.append(event)
        self._active.append(event)


def _line(start: float, end: float, steps: int) -> tuple[float, ...]:
    """`steps` values moving evenly from `start` (excluded) to `end` (included)."""
    if steps <= 0:
        return ()
    return tuple(itertools.accumulate(itertools.repeat((end - start) / steps, steps), initial=start))[1:]
