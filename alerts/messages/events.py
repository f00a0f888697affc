"""What an alert is about, read and checked from plain data.

An event arrives as a dict (the `render_alert` contract's JSON, or what the app builds from its rows):

    {"kind": "swap", "wallet": {"address", "label"}, "side": "buy"|"sell",
     "token": {"mint", "symbol", "name"}, "token_amount", "usd", "block_time"}
    {"kind": "signal", "signal": {"kind", "token": {...}, "score", "wallets": [...], "reasons": [...]}}

`parse_event` turns it into a `SwapEvent` or a `SignalEvent`, or raises `InvalidEvent` with a one-line
reason naming the field. Symbols, names, labels and reasons are attacker-controlled (anyone can mint a
token called `<b>@everyone`): they are cleaned here (`text.clean_text`) and escaped by each channel.

Pure: no Django, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from alerts.messages.text import clean_text, is_base58, short_address

SIDES = ("buy", "sell")
MAX_SCORE = 100
# Far beyond any real amount; keeps formatting of adversarial numbers (1E+999999) cheap.
_MAX_MAGNITUDE = 40
_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SIGNAL_KIND = re.compile(r"[a-z][a-z0-9_]{0,63}")
# A list this long in one alert is an attack or a bug; either way the message stays bounded.
_MAX_LIST = 1000


class InvalidEvent(ValueError):
    """The event breaks the contract; the message says which field and why, on one line."""


@dataclass(frozen=True)
class Wallet:
    address: str
    label: str | None = None  # cleaned; None when the wallet has no label

    @property
    def display_name(self) -> str:
        return self.label or short_address(self.address)


@dataclass(frozen=True)
class Token:
    mint: str
    symbol: str | None = None  # cleaned; None when the chain gave none (or only junk)
    name: str | None = None

    @property
    def display_symbol(self) -> str:
        return self.symbol or short_address(self.mint)


@dataclass(frozen=True)
class SwapEvent:
    wallet: Wallet
    side: str  # "buy" | "sell"
    token: Token
    token_amount: Decimal
    usd: Decimal | None  # None: no price was known when the swap landed
    block_time: int  # unix seconds
    signature: str | None = None  # the transaction, when known
    event_id: str | None = None  # the caller's id for this event, when it gave one

    kind = "swap"

    @property
    def occurred_at(self) -> int:
        return self.block_time

    @property
    def price_usd(self) -> Decimal | None:
        return None if self.usd is None else self.usd / self.token_amount


@dataclass(frozen=True)
class SignalEvent:
    signal_kind: str  # "whale_accumulation", "big_trade", ... (any well-formed kind renders)
    token: Token
    score: int  # 0-100
    wallets: tuple[Wallet, ...]
    reasons: tuple[str, ...]  # cleaned, one line each
    fired_at: int | None = None  # unix seconds
    event_id: str | None = None

    kind = "signal"

    @property
    def occurred_at(self) -> int | None:
        return self.fired_at


AlertEvent = SwapEvent | SignalEvent


@dataclass(frozen=True)
class Digest:
    """Many events of one window in one message: a burst above a channel's rate, or quiet hours' end."""

    events: tuple[AlertEvent, ...]
    window_start: int  # unix seconds
    window_end: int

    kind = "digest"

    @property
    def occurred_at(self) -> int:
        return self.window_end

    @property
    def swaps(self) -> tuple[SwapEvent, ...]:
        return tuple(event for event in self.events if isinstance(event, SwapEvent))

    @property
    def signals(self) -> tuple[SignalEvent, ...]:
        return tuple(event for event in self.events if isinstance(event, SignalEvent))


@dataclass(frozen=True)
class ChannelTest:
    """The "send test" button's message: proves the channel is wired, carries no market data."""

    sent_at: int  # unix seconds
    channel_label: str | None = None  # the user's name for the channel, cleaned

    kind = "test"

    @property
    def occurred_at(self) -> int:
        return self.sent_at


@dataclass(frozen=True)
class ChannelProblem:
    """Another of the user's channels stopped working: said on every channel that still does."""

    sent_at: int  # unix seconds
    channel_label: str  # the failing channel's name, cleaned
    error: str  # what its platform answered, cleaned
    kind = "channel_problem"

    @property
    def occurred_at(self) -> int:
        return self.sent_at


Alert = SwapEvent | SignalEvent | Digest | ChannelTest | ChannelProblem


def make_digest(events: Sequence[AlertEvent], window_start: int | None = None, window_end: int | None = None) -> Digest:
    """A digest of `events` in time order; the window defaults to the span of their times."""
    if not events:
        raise InvalidEvent("a digest needs at least one event")
    times = [event.occurred_at for event in events if event.occurred_at is not None]
    start = window_start if window_start is not None else min(times, default=0)
    end = window_end if window_end is not None else max(times, default=start)
    if end < start:
        raise InvalidEvent(f"digest window ends ({end}) before it starts ({start})")
    ordered = sorted(events, key=lambda event: event.occurred_at if event.occurred_at is not None else end)
    return Digest(tuple(ordered), start, end)


def make_channel_test(sent_at: int, channel_label: str | None = None) -> ChannelTest:
    label = clean_text(channel_label) if channel_label else ""
    return ChannelTest(_unix_time(sent_at, "sent_at"), label or None)


def make_channel_problem(sent_at: int, channel_label: str, error: str) -> ChannelProblem:
    return ChannelProblem(_unix_time(sent_at, "sent_at"), clean_text(channel_label), clean_text(error))


def parse_event(data: Any) -> AlertEvent:
    """A checked SwapEvent or SignalEvent from the contract's dict; InvalidEvent when it breaks it.
    Keys the contract does not name are ignored, so producers can add fields without breaking this."""
    if not isinstance(data, Mapping):
        raise InvalidEvent(f"an event is a JSON object, got {_type_name(data)}")
    kind = data.get("kind")
    event_id = _event_id(data.get("id"))
    if kind == "swap":
        return _swap(data, event_id)
    if kind == "signal":
        return _signal(data, event_id)
    raise InvalidEvent(f'kind must be "swap" or "signal", got {_show(kind)}')


def _swap(data: Mapping, event_id: str | None) -> SwapEvent:
    _require(data, ("wallet", "side", "token", "token_amount", "usd", "block_time"), "")
    side = data["side"]
    if side not in SIDES:
        raise InvalidEvent(f'side must be "buy" or "sell", got {_show(side)}')
    token_amount = _decimal(data["token_amount"], "token_amount")
    if token_amount <= 0:
        raise InvalidEvent(f"token_amount must be positive, got {_show(data['token_amount'])}")
    usd = None if data["usd"] is None else _decimal(data["usd"], "usd")
    if usd is not None and usd < 0:
        raise InvalidEvent(f"usd must not be negative, got {_show(data['usd'])}")
    signature = data.get("signature")
    if signature is not None and not (isinstance(signature, str) and is_base58(signature, 64, 88)):
        raise InvalidEvent(f"signature must be a base58 transaction signature or null, got {_show(signature)}")
    return SwapEvent(
        wallet=_wallet(data["wallet"], "wallet"),
        side=side,
        token=_token(data["token"], "token"),
        token_amount=token_amount,
        usd=usd,
        block_time=_unix_time(data["block_time"], "block_time"),
        signature=signature,
        event_id=event_id,
    )


def _signal(data: Mapping, event_id: str | None) -> SignalEvent:
    _require(data, ("signal",), "")
    signal = data["signal"]
    if not isinstance(signal, Mapping):
        raise InvalidEvent(f"signal must be an object, got {_type_name(signal)}")
    _require(signal, ("kind", "token", "score", "wallets", "reasons"), "signal.")
    kind = signal["kind"]
    if not isinstance(kind, str) or not _SIGNAL_KIND.fullmatch(kind):
        raise InvalidEvent(f'signal.kind must be a snake_case name like "whale_accumulation", got {_show(kind)}')
    score = signal["score"]
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
        raise InvalidEvent(f"signal.score must be an integer from 0 to {MAX_SCORE}, got {_show(score)}")
    wallets = _list(signal["wallets"], "signal.wallets")
    reasons = _list(signal["reasons"], "signal.reasons")
    fired_at = signal.get("fired_at")
    return SignalEvent(
        signal_kind=kind,
        token=_token(signal["token"], "signal.token"),
        score=score,
        wallets=tuple(_wallet(item, f"signal.wallets[{index}]") for index, item in enumerate(wallets)),
        reasons=tuple(
            text for index, item in enumerate(reasons) if (text := _reason(item, f"signal.reasons[{index}]"))
        ),
        fired_at=None if fired_at is None else _unix_time(fired_at, "signal.fired_at"),
        event_id=event_id,
    )


def _wallet(value: Any, where: str) -> Wallet:
    """A wallet: `{"address", "label"}`, or just its address (signals list wallets by address)."""
    if isinstance(value, str):
        return Wallet(_address(value, where))
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"{where} must be an object with an address, got {_type_name(value)}")
    _require(value, ("address",), f"{where}.")
    return Wallet(_address(value["address"], f"{where}.address"), _optional_text(value.get("label"), f"{where}.label"))


def _token(value: Any, where: str) -> Token:
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"{where} must be an object, got {_type_name(value)}")
    _require(value, ("mint",), f"{where}.")
    return Token(
        _address(value["mint"], f"{where}.mint"),
        _optional_text(value.get("symbol"), f"{where}.symbol"),
        _optional_text(value.get("name"), f"{where}.name"),
    )


def _reason(value: Any, where: str) -> str:
    """A reason as one line: a string, or an object shown by its "text" (else its key=value pairs)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        text = value.get("text")
        if isinstance(text, str):
            return clean_text(text)
        parts = [f"{key}={_compact(item)}" for key, item in value.items()]
        return clean_text(", ".join(parts))
    raise InvalidEvent(f"{where} must be a string or an object, got {_type_name(value)}")


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(",", ":"))[:200]


def _address(value: Any, where: str) -> str:
    # Addresses go into URLs and code spans unescaped, so only base58 gets through.
    if not isinstance(value, str) or not is_base58(value, 32, 44):
        raise InvalidEvent(f"{where} must be a base58 Solana address (32-44 characters), got {_show(value)}")
    return value


def _optional_text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEvent(f"{where} must be a string or null, got {_show(value)}")
    return clean_text(value) or None


def _decimal(value: Any, where: str) -> Decimal:
    """A decimal string or a JSON number (floats via their shortest repr) as an exact Decimal."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidEvent(f"{where} must be a decimal string or a number, got {_show(value)}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise InvalidEvent(f"{where} must be a decimal number, got {_show(value)}") from None
    if not number.is_finite():
        raise InvalidEvent(f"{where} must be finite, got {_show(value)}")
    if number and abs(number.adjusted()) > _MAX_MAGNITUDE:
        raise InvalidEvent(f"{where} is out of range (1E±{_MAX_MAGNITUDE}), got {_show(value)}")
    return number


def _unix_time(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**33:
        raise InvalidEvent(f"{where} must be unix seconds (a non-negative integer), got {_show(value)}")
    return value


def _event_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _EVENT_ID.fullmatch(value):
        raise InvalidEvent(f"id must be 1-128 characters of A-Z a-z 0-9 . _ : -, got {_show(value)}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list | tuple):
        raise InvalidEvent(f"{where} must be an array, got {_type_name(value)}")
    if len(value) > _MAX_LIST:
        raise InvalidEvent(f"{where} has {len(value)} items; at most {_MAX_LIST}")
    return list(value)


def _require(data: Mapping, keys: Sequence[str], prefix: str) -> None:
    missing = [prefix + key for key in keys if key not in data]
    if missing:
        raise InvalidEvent(f"missing {', '.join(missing)}")


def _show(value: Any) -> str:
    """`value` as JSON, cleaned and shortened to fit a one-line error."""
    text = clean_text(json.dumps(value, default=str, ensure_ascii=False))
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    if isinstance(value, Mapping):
        return "an object"
    return names.get(type(value), "a number")
