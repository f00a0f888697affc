"""Decimal contexts and the number helpers every rule shares: exact sums, ratios, points, plain text."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
# Sums and differences of swap amounts are exact under this context (inputs have far fewer digits),
# so adding a swap to a window and taking it out again leaves exactly what was there.
_EXACT = Context(prec=1000, traps=[InvalidOperation, DivisionByZero, Overflow])
_RATIOS = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_SHOWN_RATIO = Decimal("0.0001")


def decimal_text(value: Decimal | int) -> str:
    """`value` as a plain decimal string, no exponent, no trailing zeros: Decimal("1.50E+4") → "15000"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _shown(value: Decimal) -> str:
    """A ratio as shown in reasons: 4 decimal places (the points are worked out from the exact value)."""
    return decimal_text(value.quantize(_SHOWN_RATIO, rounding=ROUND_HALF_EVEN, context=_RATIOS))


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for value in values:
        total = _EXACT.add(total, value)
    return total


def _round_points(value: Decimal) -> int:
    """Points are whole: half up (12.5 → 13)."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP, context=_RATIOS))


def _linear_points(value: Decimal, full: Decimal, max_points: int) -> int:
    """max_points × clamp(value ÷ full, 0, 1), rounded half up."""
    share = min(_ONE, max(ZERO, _RATIOS.divide(value, full)))
    return _round_points(_RATIOS.multiply(Decimal(max_points), share))


def _tier_points(value: Decimal, tiers: tuple[tuple[Decimal, int], ...]) -> int:
    """The points of the highest tier whose threshold `value` reaches (0 below the first)."""
    points = 0
    for threshold, tier_points in tiers:
        if value >= threshold:
            points = tier_points
    return points
