"""What the market kinds (momentum, new listings) share: observed inputs, promotions, assessments, `settle`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from signals.scoring.core import DEFAULT_PARAMETERS, FIRED, UPDATED, Parameters, Signal, SignalEvent
from signals.scoring.numbers import decimal_text


@dataclass(frozen=True, slots=True)
class Observed:
    """One input and how old it is (seconds since the provider measured it, as of the assessment)."""

    value: Any
    age_seconds: int

    def __post_init__(self) -> None:
        if type(self.age_seconds) is not int or self.age_seconds < 0:
            raise ValueError(f"age_seconds must be an integer ≥ 0, got {self.age_seconds!r}")


@dataclass(frozen=True, slots=True)
class Promotion:
    """A DexScreener boost: paid promotion, shown in the reasons, worth no points."""

    amount: Decimal
    total_amount: Decimal
    age_seconds: int


@dataclass(frozen=True, slots=True)
class Assessment:
    """A market kind's verdict on a token at `at`: `publish` says whether it makes a signal."""

    kind: str
    token: str
    at: int
    publish: bool
    score: int
    reasons: list[dict[str, Any]]

    def signal(self) -> Signal | None:
        """The signal to publish, or None."""
        if not self.publish:
            return None
        return Signal(self.kind, self.token, self.at, self.at, None, {}, [], self.score, list(self.reasons))


def settle(active: Signal | None, candidate: Signal, params: Parameters = DEFAULT_PARAMETERS) -> SignalEvent | None:
    """One active signal per (token, kind) for the market kinds.

    No active signal, or `candidate` at least `cooldown_seconds` after it fired: "fired". Within the
    cooldown, a different score updates the active one (score and reasons replaced, `fired_at`
    kept): "updated". The same score, or older evidence: None.
    """
    if active is None or candidate.fired_at >= active.fired_at + params.cooldown_seconds:
        return SignalEvent(FIRED, candidate.copy())
    if candidate.fired_at < active.updated_at or candidate.score == active.score:
        return None
    updated = active.copy()
    updated.score, updated.reasons, updated.updated_at = candidate.score, list(candidate.reasons), candidate.fired_at
    return SignalEvent(UPDATED, updated)


def _promotion_reason(promotion: Promotion) -> dict[str, Any]:
    return {
        "reason": "paid_promotion",
        "source": "dexscreener_boost",
        "amount": decimal_text(promotion.amount),
        "total_amount": decimal_text(promotion.total_amount),
        "age_seconds": promotion.age_seconds,
        "points": 0,
    }


def _input_status(observed: Observed | None, max_age: int) -> str:
    if observed is None:
        return "missing"
    return "stale" if observed.age_seconds > max_age else "ok"
