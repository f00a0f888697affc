"""The plain data every rule shares: kinds, parameters, swaps, wallets, signals, events, reason rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from signals.scoring.numbers import ZERO, decimal_text
from whales.books.pnl import MIN_CYCLES_TO_RANK

SIGNALS_VERSION = "v1"

WHALE_ACCUMULATION = "whale_accumulation"
WHALE_DISTRIBUTION = "whale_distribution"
BIG_TRADE = "big_trade"
MOMENTUM = "momentum"
NEW_LISTING = "new_listing"
KINDS = (WHALE_ACCUMULATION, WHALE_DISTRIBUTION, BIG_TRADE, MOMENTUM, NEW_LISTING)
SWAP_KINDS = (WHALE_ACCUMULATION, WHALE_DISTRIBUTION, BIG_TRADE)  # the Detector's kinds

BUY = "buy"
SELL = "sell"
SIDES = (BUY, SELL)
UP = "up"
DOWN = "down"
FIRED = "fired"
UPDATED = "updated"

HOUR = 3600
DAY = 86400


class InvalidSwap(ValueError):
    """A `Swap` field is out of its domain (unknown side, negative or non-finite usd, non-integer time)."""


# --- Parameters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    """The knobs the app fills from settings; the defaults are SIGNALS.md v1's.

    Raises ValueError on construction for a value out of its domain.
    """

    window_seconds: int = 1800  # cluster window: swaps with T − window ≤ t ≤ T count at T
    min_wallets: int = 3  # distinct net-buying (net-selling) wallets for a cluster signal
    cooldown_seconds: int = 6 * HOUR  # one active signal per (token, kind) this long after it fired
    big_trade_usd: Decimal = Decimal(10_000)
    big_trade_growth_seconds: int = 1800  # same wallet, token, side within this of fired_at: it grows
    min_cycles_for_quality: int = MIN_CYCLES_TO_RANK  # a wallet's win rate counts in a score from here
    momentum_publish_score: int = 25
    momentum_max_input_age_seconds: int = HOUR
    safety_max_top10_share: Decimal = Decimal("0.3")  # of the supply, 0–1
    safety_min_liquidity_usd: Decimal = Decimal(10_000)
    safety_max_input_age_seconds: int = DAY
    hit_threshold: Decimal = Decimal("0.05")  # a 5 % move the signalled way is a hit
    outcome_price_gap_seconds: int = 600  # the price "at +1 h" is the last one at most this before it

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type == "int":
                if type(value) is not int or value < 0 or (value == 0 and item.name != "momentum_publish_score"):
                    raise ValueError(f"{item.name} must be a positive integer, got {value!r}")
            elif not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{item.name} must be a finite Decimal ≥ 0, got {value!r}")
        if self.momentum_publish_score > 100:
            raise ValueError(f"momentum_publish_score must be 0–100, got {self.momentum_publish_score}")
        if self.safety_max_top10_share > 1:
            raise ValueError(f"safety_max_top10_share must be 0–1, got {self.safety_max_top10_share}")


DEFAULT_PARAMETERS = Parameters()


# --- Swaps and wallets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Swap:
    """One tracked wallet's swap of one token: `usd` is its value in USD (≥ 0), `side` "buy" or "sell".

    `id` is unique per swap (the app's swap id; the CLI's index in the file): a swap seen twice is
    counted once.
    """

    id: int | str
    t: int
    wallet: str
    token: str
    side: str
    usd: Decimal

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise InvalidSwap(f'side must be "buy" or "sell", got {self.side!r}')
        if type(self.t) is not int:
            raise InvalidSwap(f"t must be an integer (unix seconds), got {self.t!r}")
        usd = self.usd
        if not isinstance(usd, Decimal) or not usd.is_finite() or usd < 0:
            raise InvalidSwap(f"usd must be a finite Decimal ≥ 0, got {usd!r}")
        if not isinstance(self.wallet, str) or not self.wallet or not isinstance(self.token, str) or not self.token:
            raise InvalidSwap("wallet and token must be non-empty strings")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "t": self.t,
            "wallet": self.wallet,
            "token": self.token,
            "side": self.side,
            "usd": decimal_text(self.usd),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Swap:
        return cls(data["id"], data["t"], data["wallet"], data["token"], data["side"], Decimal(data["usd"]))


@dataclass(frozen=True, slots=True)
class WalletStats:
    """A tracked wallet's win rate (0–1, None when it has nothing rated) over `cycles` rated cycles."""

    win_rate: Decimal | None
    cycles: int | None

    def quality(self, min_cycles: int) -> Decimal:
        """The win rate when it rests on at least `min_cycles` cycles, else 0: an unproven wallet adds nothing."""
        return _quality(self.win_rate, self.cycles, min_cycles)


UNKNOWN_WALLET = WalletStats(None, None)


# --- Signals and events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignalWallet:
    """A wallet in a signal, as it was when it entered the signal (`joined_at`).

    `usd`: for a cluster, the wallet's net USD on the token over the window ending at `joined_at`
    (negative for a net seller); for a big trade, the USD of all the trades grown into it.
    `win_rate`/`cycles`: the wallet's record at that moment (None: unknown).
    """

    wallet: str
    joined_at: int
    usd: Decimal
    win_rate: Decimal | None = None
    cycles: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "wallet": self.wallet,
            "joined_at": self.joined_at,
            "usd": decimal_text(self.usd),
            "win_rate": None if self.win_rate is None else decimal_text(self.win_rate),
            "cycles": self.cycles,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignalWallet:
        win_rate = data.get("win_rate")
        return cls(
            data["wallet"],
            data["joined_at"],
            Decimal(data["usd"]),
            None if win_rate is None else Decimal(win_rate),
            data.get("cycles"),
        )


@dataclass(slots=True)
class Signal:
    """One signal: what fired, when, on what evidence, how strong (`score` 0–100) and why (`reasons`).

    `side`: "buy"/"sell" for whale and big-trade signals (accumulation is buying), None for market
    kinds. `wallets` in the order they entered (address order within one moment). `swap_ids`: the
    swaps grown into a big trade (empty for other kinds). `updated_at`: the last time evidence
    changed it (`fired_at` until then). A signal is identified by `key`.

    Snapshots (`copy()`, the signals of events) share the reason dicts, which are never changed
    once made: read them, store them, do not edit them in place.
    """

    kind: str
    token: str
    fired_at: int
    updated_at: int
    side: str | None = None
    wallets: dict[str, SignalWallet] = field(default_factory=dict)
    swap_ids: list[int | str] = field(default_factory=list)
    score: int = 0
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        """(kind, token, wallet, side, fired_at): unique among all signals; wallet and side are "" except
        for a big trade, whose wallet and side are part of what it is about."""
        if self.kind == BIG_TRADE:
            return (self.kind, self.token, next(iter(self.wallets), ""), self.side or "", self.fired_at)
        return (self.kind, self.token, "", "", self.fired_at)

    @property
    def direction(self) -> str:
        return direction_of(self.kind, self.side)

    def wallet_addresses(self) -> list[str]:
        return sorted(self.wallets)

    def copy(self) -> Signal:
        return Signal(
            self.kind,
            self.token,
            self.fired_at,
            self.updated_at,
            self.side,
            dict(self.wallets),
            list(self.swap_ids),
            self.score,
            list(self.reasons),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SIGNALS_VERSION,
            "kind": self.kind,
            "token": self.token,
            "side": self.side,
            "fired_at": self.fired_at,
            "updated_at": self.updated_at,
            "wallets": [member.to_dict() for member in self.wallets.values()],
            "swap_ids": list(self.swap_ids),
            "score": self.score,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signal:
        members = [SignalWallet.from_dict(item) for item in data.get("wallets", ())]
        return cls(
            kind=data["kind"],
            token=data["token"],
            fired_at=data["fired_at"],
            updated_at=data.get("updated_at", data["fired_at"]),
            side=data.get("side"),
            wallets={member.wallet: member for member in members},
            swap_ids=list(data.get("swap_ids", ())),
            score=data.get("score", 0),
            reasons=list(data.get("reasons", ())),
        )


@dataclass(frozen=True, slots=True)
class SignalEvent:
    """`action` "fired" (a new signal) or "updated" (wallets joined it, or a big trade grew), and a
    snapshot of the whole signal after the change."""

    action: str
    signal: Signal

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "signal": self.signal.to_dict()}


def direction_of(kind: str, side: str | None = None) -> str:
    """Which way a signal says the price should go: "up" or "down"."""
    if kind == WHALE_DISTRIBUTION or (kind == BIG_TRADE and side == SELL):
        return DOWN
    if kind == BIG_TRADE and side != BUY:
        raise ValueError(f'a big trade needs its side ("buy" or "sell"), got {side!r}')
    if kind not in KINDS:
        raise ValueError(f"unknown signal kind {kind!r}")
    return UP


# --- Reasons --------------------------------------------------------------------------------------


def _quality(win_rate: Decimal | None, cycles: int | None, min_cycles: int) -> Decimal:
    """A wallet's win rate when it rests on at least `min_cycles` rated cycles, else 0: an unproven
    wallet adds nothing to a score."""
    if win_rate is None or cycles is None or cycles < min_cycles:
        return ZERO
    return win_rate


def _wallet_reason(member: SignalWallet, amount_name: str) -> dict[str, Any]:
    return {
        "reason": "wallet",
        "wallet": member.wallet,
        amount_name: decimal_text(member.usd),
        "joined_at": member.joined_at,
        "win_rate": None if member.win_rate is None else decimal_text(member.win_rate),
        "cycles": member.cycles,
    }


def _score_reason(component: str, value: Any, points: int, max_points: int, **extra: Any) -> dict[str, Any]:
    return {
        "reason": "score",
        "component": component,
        "value": value,
        "points": points,
        "max_points": max_points,
        **extra,
    }
