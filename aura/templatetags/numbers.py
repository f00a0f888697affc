"""Number formatting for traders: exact values stay in the title, the cell shows what the eye can read."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

_SUFFIXES = [(Decimal("1e12"), "T"), (Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e3"), "K")]


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def compact(value: object) -> str:
    """18663.358445 → "18.66K", 0.00000053580 → "0.0000005358", 12.5 → "12.5"; "—" for nothing."""
    number = _decimal(value)
    if number is None:
        return "—"
    magnitude = abs(number)
    for threshold, suffix in _SUFFIXES:
        if magnitude >= threshold:
            return f"{number / threshold:,.2f}{suffix}"
    if magnitude >= 1 or magnitude == 0:
        return f"{number:,.4f}".rstrip("0").rstrip(".")
    # Small prices: four significant digits after the leading zeros.
    places = -number.adjusted() + 3
    return f"{number:.{places}f}".rstrip("0")


@register.filter
def usd(value: object) -> str:
    """$1,234.56; -$12.00; "—" for unknown. Below a cent, significant digits instead."""
    number = _decimal(value)
    if number is None:
        return "—"
    sign = "-" if number < 0 else ""
    magnitude = abs(number)
    if magnitude >= Decimal("1e6"):
        return f"{sign}${compact(magnitude)}"
    if magnitude != 0 and magnitude < Decimal("0.01"):
        return f"{sign}${compact(magnitude)}"
    return f"{sign}${magnitude:,.2f}"


@register.filter
def signed_usd(value: object) -> str:
    """+$12.00 / -$3.50, for P&L."""
    number = _decimal(value)
    if number is None:
        return "—"
    return ("+" if number > 0 else "") + usd(number)


@register.filter
def percent(value: object, places: int = 1) -> str:
    """0.4567 → "45.7 %"; "—" for None (no data is not 0 %)."""
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{number * 100:.{int(places)}f} %"


@register.filter
def pnl_class(value: object) -> str:
    number = _decimal(value)
    if number is None or number == 0:
        return "flat"
    return "gain" if number > 0 else "loss"
