"""Cleaning of chain-supplied strings and the number, time and link formats every channel shares.

Pure: no Django, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

ELLIPSIS = "…"

# Bidi embeddings, overrides and isolates (and the marks) let a token name reverse the text after it,
# so "‮yub" reads as "buy": a display-spoofing trick, never a real name.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH_JOINER = "\u200d"
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&*+,;=%-]+")


def clean_text(value: str) -> str:
    """One line of displayable text from a chain string: lone surrogates become U+FFFD, control and bidi
    characters go, any run of whitespace (newlines included, so no name can start a forged line) is one
    space, and the ends are trimmed. May return "" (the caller then falls back to something of its own)."""
    kept: list[str] = []
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            kept.append("\ufffd")
        elif char in _BIDI_CONTROLS:
            continue
        elif category in ("Cc", "Zl", "Zp") or char.isspace():
            kept.append(" ")
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return tidy_cut(text[: limit - 1]) + ELLIPSIS


def tidy_cut(prefix: str) -> str:
    """A cut prefix without what would dangle at its end: trailing spaces and a joiner that was
    gluing the last emoji to the next one."""
    return prefix.rstrip().rstrip(_ZERO_WIDTH_JOINER).rstrip()


def is_base58(value: str, min_length: int, max_length: int) -> bool:
    return min_length <= len(value) <= max_length and _BASE58.fullmatch(value) is not None


def short_address(address: str) -> str:
    """`7xKX…gAsU`: enough to recognise a base58 address in a message."""
    return address if len(address) <= 10 else f"{address[:4]}…{address[-4:]}"


def check_site_url(url: str) -> str:
    """AURA's public base URL without its trailing slash; ValueError when it is not a plain http(s) URL
    (it goes into hrefs and markdown links, so quotes, brackets, spaces and parentheses are refused)."""
    if not isinstance(url, str) or not _SAFE_URL.fullmatch(url):
        raise ValueError(f"site URL must be an http(s) URL without spaces, quotes or brackets, got {url!r}")
    return url.rstrip("/")


class Links:
    """URLs of AURA's own pages and of Solscan for the addresses in an alert."""

    def __init__(self, site_url: str) -> None:
        self.site_url = check_site_url(site_url)

    def wallet(self, address: str) -> str:
        return f"{self.site_url}/wallets/{address}/"

    def token(self, mint: str) -> str:
        return f"{self.site_url}/tokens/{mint}/"

    @staticmethod
    def solscan_account(address: str) -> str:
        return f"https://solscan.io/account/{address}"

    @staticmethod
    def solscan_token(mint: str) -> str:
        return f"https://solscan.io/token/{mint}"

    @staticmethod
    def solscan_tx(signature: str) -> str:
        return f"https://solscan.io/tx/{signature}"


def decimal_string(value: Decimal) -> str:
    """Plain decimal text, no exponent, no trailing zeros: Decimal("12.50") → "12.5"."""
    return "0" if value == 0 else format(value.normalize(), "f")


_COMPACT_UNITS = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"))


def format_amount(value: Decimal) -> str:
    """A token amount for people: 1,234 · 12.5 · 0.0001234 · 4.56M."""
    for size, unit in _COMPACT_UNITS:
        if abs(value) >= size:
            return _strip_zeros(_quantize(value / size, 2)) + unit
    if abs(value) >= 1000:
        return f"{_quantize(value, 0):,}"
    if abs(value) >= 1:
        return _strip_zeros(_quantize(value, 4))
    if value == 0:
        return "0"
    # Four significant digits for dust amounts: 0.0001234.
    places = -value.adjusted() + 3
    return _strip_zeros(_quantize(value, places))


def format_usd(value: Decimal | None) -> str:
    """$12.50 · $1,234 · $4.56M · <$0.01; "unpriced" when the value is unknown."""
    if value is None:
        return "unpriced"
    for size, unit in _COMPACT_UNITS:
        if value >= size:
            return "$" + _strip_zeros(_quantize(value / size, 2)) + unit
    if value >= 1000:
        return f"${_quantize(value, 0):,}"
    if 0 < value < Decimal("0.01"):
        return "<$0.01"
    return f"${_quantize(value, 2):,}"


def format_price(value: Decimal) -> str:
    """A unit price: two decimals from $1 up, four significant digits below."""
    if value >= 1:
        return format_usd(value)
    if value == 0:
        return "$0"
    return "$" + _strip_zeros(_quantize(value, -value.adjusted() + 3))


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _strip_zeros(value: Decimal) -> str:
    text = format(value, ",f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_time(unix_seconds: int) -> str:
    """`2025-11-24 16:00:00 UTC`."""
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(unix_seconds: int) -> str:
    """`2025-11-24T16:00:00Z`."""
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(seconds: int) -> str:
    """How long a window lasted, as a trader says it: 45 s · 2 min · 3 h · 2 days."""
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    if (minutes := round(seconds / 60)) < 60:
        return f"{minutes} min"
    if (hours := round(seconds / 3600)) < 48:
        return f"{hours} h"
    return f"{round(seconds / 86400)} days"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 buy`, `7 buys`, `1,204 swaps`."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"
