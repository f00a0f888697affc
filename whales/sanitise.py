"""What arrives from the chain made fit for the database, or refused with a reason. Pure, no Django.

PostgreSQL refuses a NUL character in `text` and `jsonb`, and a lone UTF-16 surrogate cannot be
encoded at all; anyone can put either into a token symbol or a transaction's description. So every
string of a record is cleaned as it arrives (`clean_json`, `clean_text`): NUL removed, lone
surrogates replaced by U+FFFD. Values no real Solana transaction can hold — a block time centuries
away, a mint that is not an address, an amount beyond an SPL token's u64 — are refused per
transaction by `unstorable` with a one-line reason, so the rest of a batch goes on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

_UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# Properly paired surrogates never appear in a Python str read from JSON: json.loads joins them.
_REPLACEMENT = "\ufffd"
_MINT_SHAPE = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}")
# SPL token amounts (and lamports) are u64 on chain.
MAX_RAW_AMOUNT = 2**64 - 1
# A block time later than this after our own clock is not a block time.
FUTURE_LEEWAY_SECONDS = 86_400
_WIDE = Context(prec=100)  # room for every digit of a u64 amount at 18 places


def clean_text(text: str) -> str:
    """`text` without NUL characters and with each lone surrogate replaced by U+FFFD."""
    if not _UNSTORABLE_CHARACTERS.search(text):
        return text
    return _UNSTORABLE_CHARACTERS.sub(lambda m: "" if m.group() == "\x00" else _REPLACEMENT, text)


def clean_json(value: Any) -> Any:
    """`value` (decoded JSON) with every string — keys too — passed through `clean_text`.

    Returns `value` itself when nothing needed cleaning (the common case costs one scan, no copy).
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        cleaned = {clean_text(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
        return value if _same(value, cleaned) else cleaned
    if isinstance(value, list):
        cleaned_list = [clean_json(item) for item in value]
        return value if all(a is b for a, b in zip(value, cleaned_list, strict=True)) else cleaned_list
    return value


def _same(original: dict, cleaned: dict) -> bool:
    if len(original) != len(cleaned):
        return False
    return all(key in original and original[key] is item for key, item in cleaned.items())


def raw_text(value: Any) -> str:
    """`value` as JSON text PostgreSQL can hold whatever it contains: pure ASCII, NUL and lone
    surrogates written as \\u escapes, so `json.loads` gives back exactly what came."""
    return json.dumps(value, ensure_ascii=True, default=repr)


@dataclass(frozen=True)
class Columns:
    """What the columns a trade goes into can hold: (max digits, decimal places) of amounts and prices."""

    amount_digits: int
    amount_places: int
    price_digits: int
    price_places: int


def unstorable(activity: Any, columns: Columns, now: int) -> str | None:
    """Why a parsed swap or transfer (whales.ingestion.parsing) cannot be stored, in one line; None when it can.

    Checks the block time (not before 1970, not after `now` plus a day), the mint (a base58
    address), the amounts (raw amounts within u64, as on chain; the token amount not rounding to
    zero at the column's places) and, for swaps, the price (within the price column).
    """
    block_time = activity.block_time
    if not 0 <= block_time <= now + FUTURE_LEEWAY_SECONDS:
        return f"timestamp {block_time} is not a block time (in the future or before 1970)"
    if not _MINT_SHAPE.fullmatch(activity.token_mint):
        return f"mint {activity.token_mint!r:.80} is not a base58 address"
    amounts = [("token amount", activity.token_amount, activity.token_decimals)]
    if hasattr(activity, "quote_amount"):
        amounts.append(("quote amount", activity.quote_amount, activity.quote_decimals))
    for name, amount, decimals in amounts:
        if abs(amount.scaleb(decimals)) > MAX_RAW_AMOUNT:
            return f"{name} {amount:.6E} is beyond what an SPL token can hold (u64 raw units)"
    if not _fits(activity.token_amount, columns.amount_digits, columns.amount_places):
        return f"token amount {activity.token_amount:.6E} does not fit the amount column"
    if activity.token_amount.quantize(Decimal(1).scaleb(-columns.amount_places), context=_WIDE) == 0:
        return f"token amount {activity.token_amount:.6E} rounds to zero at {columns.amount_places} decimal places"
    price = getattr(activity, "price", None)
    if price is not None and not _fits(price, columns.price_digits, columns.price_places):
        return f"price {price:.6E} does not fit the price column"
    return None


def _fits(value: Decimal, digits: int, places: int) -> bool:
    return abs(value) < Decimal(10) ** (digits - places)
