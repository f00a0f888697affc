"""AURA's one rule for numbers (aura/templatetags/numbers.py): significant digits for prices, cents for
USD totals, compact amounts. `RULE` is also what the browser's copy of the rule must give
(tests/test_browser_screen.py), so pages, pushes and charts read alike."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aura.templatetags.numbers import format_amount, format_percent, format_price, format_usd, pending_as

# (kind, value, shown). No value sits on a rounding tie: floats (the browser) and decimals agree there.
RULE = [
    ("price", "184.2345", "$184.23"),
    ("price", "65432.1", "$65,432.10"),
    ("price", "1.23456", "$1.235"),
    ("price", "0.18344", "$0.1834"),
    ("price", "0.17", "$0.17"),
    ("price", "0.0123456", "$0.01235"),
    ("price", "0.000022", "$0.000022"),
    ("price", "0.00002", "$0.00002"),
    ("price", "0.0000222311", "$0.00002223"),
    ("price", "0.0000999996", "$0.0001"),
    ("price", "0.000000000001234", "$1.234e-12"),
    ("price", "0", "$0.00"),
    ("price", None, "—"),
    ("usd", "1234.567", "$1,234.57"),
    ("usd", "-12", "-$12.00"),
    ("usd", "0.17", "$0.17"),
    ("usd", "0.0013", "<$0.01"),
    ("usd", "0", "$0.00"),
    ("usd", "1234567.89", "$1.23M"),
    ("usd", None, "—"),
    ("signed_usd", "37.1", "+$37.10"),
    ("signed_usd", "-3.5", "-$3.50"),
    ("signed_usd", "0", "$0.00"),
    ("amount", "18663.358445", "18.66K"),
    ("amount", "999999", "1.00M"),
    ("amount", "1234567890", "1.23B"),
    ("amount", "12.5", "12.5"),
    ("amount", "0.00000053580", "0.0000005358"),
    ("amount", "0", "0"),
    ("amount", "-1500", "-1.50K"),
    ("percent", "0.4567", "45.7 %"),
    ("percent", None, "—"),
]

FORMATS = {
    "price": format_price,
    "usd": format_usd,
    "signed_usd": lambda v: format_usd(v, signed=True),
    "amount": format_amount,
    "percent": format_percent,
}


@pytest.mark.parametrize(("kind", "value", "shown"), RULE)
def test_every_figure_follows_the_one_rule(kind: str, value: str | None, shown: str) -> None:
    assert FORMATS[kind](value) == shown


def test_prices_between_a_cent_and_a_dollar_keep_their_digits() -> None:
    # Shown in cents, $0.18 and $0.17 (or $0.0112 and $0.0149) read alike while P&L says they differ.
    assert format_price(Decimal("0.1834")) != format_price(Decimal("0.1749"))
    assert format_price(Decimal("0.0112")) == "$0.0112" and format_price(Decimal("0.0149")) == "$0.0149"


def test_huge_and_odd_inputs_do_not_break_a_page() -> None:
    assert format_amount(Decimal("1E+40")).endswith("T")
    assert format_usd("not a number") == format_price(float("nan")) == format_amount(True) == "—"


def test_a_pending_figure_shows_why_instead_of_a_number() -> None:
    assert 'class="pending"' in pending_as("$0.00", "pricing") and "pricing…" in pending_as("$0.00", "pricing")
    assert "loading…" in pending_as("$0.00", "loading")
    assert pending_as("<b>$1.00</b>", "") == "&lt;b&gt;$1.00&lt;/b&gt;"
