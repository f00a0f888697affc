"""Base58 encoding (Bitcoin alphabet), the text form of Solana addresses and signatures.

`whales.solana` only decodes; the simulator needs to mint addresses and signatures, and
imports nothing from the app, so the encoder lives here.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Ten base58 digits at a time (one big-int divmod), spelled two at a time from a table: this runs
# for every generated signature, and digit-by-digit division made history generation 3x slower.
_CHUNK = 58**10
_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]


def b58encode(data: bytes) -> str:
    """Base58 text of `data`; each leading zero byte becomes a leading "1"."""
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, chunk = divmod(number, _CHUNK)
        for _ in range(5):
            chunk, pair = divmod(chunk, 3364)
            digits.append(_PAIRS[pair])
    text = "".join(reversed(digits)).lstrip("1")
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + text


@lru_cache(maxsize=200_000)
def derived_address(*parts: str) -> str:
    """A stable, valid-looking 32-byte address named by `parts` (sha256 of them, base58).

    Stands in for program-derived addresses (token accounts, pools, vaults): the same parts
    always give the same address, different parts practically never collide.
    """
    return b58encode(hashlib.sha256("\x1f".join(parts).encode()).digest())
