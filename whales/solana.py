"""Solana facts the app relies on: the mints of SOL and the stablecoins, and address validation
(base58, Bitcoin alphabet, that decodes to exactly 32 bytes).

Pure, no Django. Whitespace is refused rather than stripped: an address pasted with a stray space
or newline is a sign the user copied something else, and silently fixing it hides that.
"""

from __future__ import annotations

WSOL_MINT = "So11111111111111111111111111111111111111112"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
QUOTE_MINTS = (USDC_MINT, USDT_MINT, WSOL_MINT)  # priority order: USDC, then USDT, then SOL
STABLECOINS = frozenset({USDC_MINT, USDT_MINT})  # valued 1:1 in USD

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ADDRESS_BYTES = 32
# 32 bytes take 32 to 44 base58 characters; anything much longer is refused before the (quadratic)
# big-number decode, so a megabyte of "z" cannot stall a request.
_MAX_DECODED_LENGTH = 64
_DIGITS = {char: value for value, char in enumerate(BASE58_ALPHABET)}


class InvalidAddress(ValueError):
    """Not a Solana address; the message says why, in words for the person who typed it."""


def validate_solana_address(value: str) -> str:
    """Return `value` unchanged when it is a Solana address, else raise InvalidAddress saying why."""
    if not isinstance(value, str):
        raise InvalidAddress(f"A Solana address is text, not {type(value).__name__}.")
    if not value:
        raise InvalidAddress("The address is empty.")
    if value != value.strip():
        raise InvalidAddress("The address has leading or trailing whitespace; paste it without spaces or newlines.")
    if any(char.isspace() for char in value):
        raise InvalidAddress("The address contains whitespace; a Solana address is one unbroken word.")
    for position, char in enumerate(value, start=1):
        if char not in _DIGITS:
            raise InvalidAddress(
                f"The address contains {char!r} (character {position}), which is not a base58 character; "
                "base58 has no 0, O, I or l."
            )
    if len(value) > _MAX_DECODED_LENGTH:
        raise InvalidAddress(
            f"The address is {len(value)} characters long; a Solana address is 32 to 44 base58 characters."
        )
    decoded = len(b58decode(value))
    if decoded != ADDRESS_BYTES:
        raise InvalidAddress(f"The address decodes to {decoded} bytes; a Solana address is {ADDRESS_BYTES} bytes.")
    return value


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet). Each leading "1" is a zero byte; raises ValueError on bad input."""
    number = 0
    for char in text:
        if char not in _DIGITS:
            raise ValueError(f"{char!r} is not a base58 character")
        number = number * 58 + _DIGITS[char]
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\x00" * leading_zeros + body
