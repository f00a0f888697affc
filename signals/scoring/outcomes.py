"""Outcomes: what the price did after a signal, and the scoreboard per kind (SIGNALS.md §7)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from signals.scoring.core import DAY, DEFAULT_PARAMETERS, HOUR, KINDS, UP, Parameters, direction_of
from signals.scoring.numbers import _ONE, _RATIOS, ZERO, _text, decimal_text
from whales.books.pnl import WinRate


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the price did after a signal (SIGNALS.md §7). None: not known (yet).

    `return_*`: price return (price ÷ price at firing − 1). `signal_return_*`: the same signed the
    signalled way (a 10 % fall after a distribution signal is +0.1). `max_drawdown`: the largest fall
    from a running peak (starting at the firing price) over the prices up to +24 h, 0–1.
    """

    kind: str
    direction: str
    fired_at: int
    price_at_firing: Decimal
    price_1h: Decimal | None
    price_24h: Decimal | None
    return_1h: Decimal | None
    return_24h: Decimal | None
    max_drawdown: Decimal | None
    hit_1h: bool | None
    hit_24h: bool | None

    @property
    def signal_return_1h(self) -> Decimal | None:
        return _signed(self.return_1h, self.direction)

    @property
    def signal_return_24h(self) -> Decimal | None:
        return _signed(self.return_24h, self.direction)

    def to_dict(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else decimal_text(value)

        return {
            "kind": self.kind,
            "direction": self.direction,
            "fired_at": self.fired_at,
            "price_at_firing": text(self.price_at_firing),
            "price_1h": text(self.price_1h),
            "price_24h": text(self.price_24h),
            "return_1h": text(self.return_1h),
            "return_24h": text(self.return_24h),
            "max_drawdown": text(self.max_drawdown),
            "hit_1h": self.hit_1h,
            "hit_24h": self.hit_24h,
        }


def outcome(
    kind: str,
    fired_at: int,
    price_at_firing: Decimal,
    prices: Iterable[tuple[int, Decimal]],
    *,
    side: str | None = None,
    params: Parameters = DEFAULT_PARAMETERS,
) -> Outcome:
    """Price at +1 h and +24 h, returns, max drawdown and hits of one signal.

    `prices`: (t, price) pairs, any order. The price at a mark is the last one at or before it, and
    no more than `outcome_price_gap_seconds` before it; otherwise it is None (not known yet, or a
    gap). A hit is a return of at least `hit_threshold` the signalled way (up, or down for
    distribution and big sells).
    """
    if not isinstance(price_at_firing, Decimal) or not price_at_firing.is_finite() or price_at_firing <= 0:
        raise ValueError(f"price at firing must be a positive finite Decimal, got {price_at_firing!r}")
    direction = direction_of(kind, side)
    path = sorted((t, price) for t, price in prices if fired_at <= t <= fired_at + DAY)
    price_1h = _price_at(path, fired_at + HOUR, params.outcome_price_gap_seconds)
    price_24h = _price_at(path, fired_at + DAY, params.outcome_price_gap_seconds)
    return_1h, return_24h = _return(price_1h, price_at_firing), _return(price_24h, price_at_firing)
    return Outcome(
        kind,
        direction,
        fired_at,
        price_at_firing,
        price_1h,
        price_24h,
        return_1h,
        return_24h,
        _max_drawdown(price_at_firing, [price for t, price in path if t > fired_at]),
        _hit(return_1h, direction, params.hit_threshold),
        _hit(return_24h, direction, params.hit_threshold),
    )


def _price_at(path: list[tuple[int, Decimal]], mark: int, gap: int) -> Decimal | None:
    found = None
    for t, price in path:
        if t > mark:
            break
        found = (t, price)
    if found is None or mark - found[0] > gap:
        return None
    return found[1]


def _return(price: Decimal | None, start: Decimal) -> Decimal | None:
    return None if price is None else _RATIOS.subtract(_RATIOS.divide(price, start), _ONE)


def _max_drawdown(start: Decimal, later: list[Decimal]) -> Decimal | None:
    if not later:
        return None
    peak, worst = start, ZERO
    for price in later:
        if price > peak:
            peak = price
        elif peak > 0:
            worst = max(worst, _RATIOS.divide(peak - price, peak))
    return worst


def _hit(value: Decimal | None, direction: str, threshold: Decimal) -> bool | None:
    if value is None:
        return None
    return value >= threshold if direction == UP else value <= -threshold


def _signed(value: Decimal | None, direction: str) -> Decimal | None:
    if value is None:
        return None
    return value if direction == UP else -value


@dataclass(frozen=True, slots=True)
class KindScore:
    """How one kind of signal did: hit rates at +1 h and +24 h (with n and Wilson 95 %) and the
    median return the signalled way, over the outcomes that have a price at that mark."""

    kind: str
    signals: int
    hits_1h: WinRate
    hits_24h: WinRate
    median_return_1h: Decimal | None
    median_return_24h: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        def rate(value: WinRate) -> dict[str, Any]:
            return {
                "hits": value.wins,
                "n": value.n,
                "rate": _text(value.rate),
                "low": _text(value.low),
                "high": _text(value.high),
            }

        return {
            "kind": self.kind,
            "signals": self.signals,
            "hits_1h": rate(self.hits_1h),
            "hits_24h": rate(self.hits_24h),
            "median_return_1h": _text(self.median_return_1h),
            "median_return_24h": _text(self.median_return_24h),
        }


def scoreboard(outcomes: Iterable[Outcome], since: int | None = None, until: int | None = None) -> dict[str, KindScore]:
    """Per kind (every kind, in KINDS order), over the signals fired in since < fired_at ≤ until."""
    by_kind: dict[str, list[Outcome]] = {kind: [] for kind in KINDS}
    for item in outcomes:
        if (since is None or item.fired_at > since) and (until is None or item.fired_at <= until):
            by_kind[item.kind].append(item)
    board = {}
    for kind, items in by_kind.items():
        hits_1h = [item.hit_1h for item in items if item.hit_1h is not None]
        hits_24h = [item.hit_24h for item in items if item.hit_24h is not None]
        board[kind] = KindScore(
            kind,
            len(items),
            WinRate.of(sum(hits_1h), len(hits_1h)),
            WinRate.of(sum(hits_24h), len(hits_24h)),
            median([value for item in items if (value := item.signal_return_1h) is not None]),
            median([value for item in items if (value := item.signal_return_24h) is not None]),
        )
    return board


def median(values: list[Decimal]) -> Decimal | None:
    """The middle value, or the mean of the two middle ones; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return _RATIOS.divide(_RATIOS.add(ordered[middle - 1], ordered[middle]), Decimal(2))
