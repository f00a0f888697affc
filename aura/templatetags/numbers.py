"""AURA's one rule for showing numbers, used by pages and pushed fragments alike (the charts in
static/js/aura.js follow the same rule, and a browser test holds the two to it):

* **prices** (USD per token): four significant digits, never fewer than two decimals —
  $184.23, $1.235, $0.1835, $0.00002235 (below a billionth: $1.235e-12);
* **USD totals** (P&L, cost, value, volume): cents — $1,234.56, -$12.00; from a million on,
  compact ($1.23M); not zero but below half a cent: <$0.01;
* **amounts** (of a token): compact — 18.66K, 1.23M, 12.5, 0.0000005358;
* **rates**: percent with one decimal (45.7 %).

Unknown values show "—" (no data is not zero). The exact value goes in a `title` where it matters.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

register = template.Library()

UNKNOWN = "—"
PRICE_DIGITS = 4
_SUFFIXES = [(Decimal("1e12"), "T"), (Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e3"), "K")]
_HALF_CENT = Decimal("0.005")
_PLAIN_PRICE_DOWN_TO = -9  # exponent of the smallest price written out with all its zeros
_WIDE = Context(prec=100)  # room to round a 40-digit amount


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _fixed(number: Decimal, places: int, *, min_places: int | None = None, grouping: bool = True) -> str:
    """`number` rounded to `places` decimals; with `min_places`, trailing zeros beyond those dropped."""
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE)
    text = f"{rounded:,.{places}f}" if grouping else f"{rounded:.{places}f}"
    if min_places is not None and places > min_places:
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0").ljust(min_places, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    return text


def price_places(number: Decimal) -> int:
    """Decimals a price needs for four significant digits (at least two)."""
    return max(2, PRICE_DIGITS - 1 - number.adjusted()) if number else 2


def format_price(value: object) -> str:
    """USD per token: "$184.23", "$1.235", "$0.1835", "$0.00002235"; "—" when unknown."""
    number = _decimal(value)
    if number is None:
        return UNKNOWN
    sign, magnitude = ("-" if number < 0 else ""), abs(number)
    if magnitude and magnitude.adjusted() < _PLAIN_PRICE_DOWN_TO:
        return f"{sign}${magnitude:.{PRICE_DIGITS - 1}e}"
    return f"{sign}${_fixed(magnitude, price_places(magnitude), min_places=2)}"


def format_amount(value: object) -> str:
    """A token amount: "18.66K", "1.23M", "12.5", "0.0000005358"; "—" when unknown."""
    number = _decimal(value)
    if number is None:
        return UNKNOWN
    magnitude = abs(number)
    for index, (threshold, suffix) in enumerate(_SUFFIXES):
        if magnitude >= threshold:
            scaled = _fixed(number / threshold, 2)
            # 999,999 rounds to "1,000.00K": it reads "1.00M".
            if abs(Decimal(scaled.replace(",", ""))) >= 1000 and index > 0:
                bigger, bigger_suffix = _SUFFIXES[index - 1]
                return f"{_fixed(number / bigger, 2)}{bigger_suffix}"
            return f"{scaled}{suffix}"
    if magnitude >= 1 or magnitude == 0:
        return _fixed(number, 4, min_places=0)
    return _fixed(number, PRICE_DIGITS - 1 - number.adjusted(), min_places=0)


def format_usd(value: object, *, signed: bool = False) -> str:
    """A USD total in cents: "$1,234.56", "-$12.00", "$1.23M", "<$0.01"; "+" in front of gains when
    `signed`; "—" when unknown."""
    number = _decimal(value)
    if number is None:
        return UNKNOWN
    sign = "-" if number < 0 else ("+" if signed and number > 0 else "")
    magnitude = abs(number)
    if magnitude >= Decimal("1e6"):
        return f"{sign}${format_amount(magnitude)}"
    if magnitude and magnitude < _HALF_CENT:
        return f"{sign}<$0.01"
    return f"{sign}${_fixed(magnitude, 2)}"


def format_percent(value: object, places: int = 1) -> str:
    """0.4567 → "45.7 %"; "—" for None (no data is not 0 %)."""
    number = _decimal(value)
    if number is None:
        return UNKNOWN
    return f"{_fixed(number * 100, int(places), grouping=False)} %"


@register.filter
def price(value: object) -> str:
    return format_price(value)


@register.filter
def compact(value: object) -> str:
    return format_amount(value)


@register.filter
def usd(value: object) -> str:
    return format_usd(value)


@register.filter
def signed_usd(value: object) -> str:
    """+$12.00 / -$3.50, for P&L."""
    return format_usd(value, signed=True)


@register.filter
def percent(value: object, places: int = 1) -> str:
    return format_percent(value, places)


@register.filter
def pnl_class(value: object) -> str:
    """"gain", "loss" or "flat": the colour of a profit or loss."""
    number = _decimal(value)
    if number is None or number == 0:
        return "flat"
    return "gain" if number > 0 else "loss"


@register.filter
def flow_class(value: object) -> str:
    """"flow-in", "flow-out" or "flat": the colour of money moving into or out of a token (not a P&L)."""
    number = _decimal(value)
    if number is None or number == 0:
        return "flat"
    return "flow-in" if number > 0 else "flow-out"


@register.filter
def duration(value: object) -> str:
    """A timedelta as a trader reads it: "45 s", "2 min", "1 h 34 min", "2 d 3 h"; "—" for None."""
    seconds = getattr(value, "total_seconds", None)
    if seconds is None:
        return UNKNOWN
    total = round(seconds())
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs and minutes < 10 else f"{minutes} min"
    return f"{secs} s"


PENDING_TEXT = {
    "pricing": ("pricing…", "waiting for a USD price: the figure shows once it is known"),
    "loading": ("loading…", "the wallet's history is still loading"),
}


@register.filter
def pending_as(formatted: object, reason: str) -> SafeString:
    """The formatted figure, or a "pricing…" / "loading…" note in its place when `reason` says it is
    not known yet (an empty reason shows the figure)."""
    if reason in PENDING_TEXT:
        text, title = PENDING_TEXT[reason]
        return format_html('<span class="pending" title="{}">{}</span>', title, text)
    return conditional_escape(formatted)
