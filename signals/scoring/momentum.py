"""Momentum: a token's market data scored 0–100 from documented components (SIGNALS.md §5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from signals.scoring.core import DEFAULT_PARAMETERS, MOMENTUM, Parameters, _score_reason
from signals.scoring.market import Assessment, Observed, Promotion, _input_status, _promotion_reason
from signals.scoring.numbers import _RATIOS, ZERO, _linear_points, _shown, _tier_points, decimal_text

# --- Score table (part of SIGNALS.md v1: changing one is a new version) ----------------------------

MOMENTUM_PRICE_1H_FULL_PERCENT, MOMENTUM_PRICE_1H_MAX = Decimal(20), 20
MOMENTUM_PRICE_24H_FULL_PERCENT, MOMENTUM_PRICE_24H_MAX = Decimal(50), 15
MOMENTUM_VOLUME_FULL_RATIO, MOMENTUM_VOLUME_MAX = Decimal(4), 20
MOMENTUM_LIQUIDITY_POINTS = ((Decimal(10_000), 5), (Decimal(50_000), 10), (Decimal(250_000), 15))
MOMENTUM_HOLDERS_FULL_PERCENT, MOMENTUM_HOLDERS_MAX = Decimal(10), 10
MOMENTUM_NET_FLOW_POINTS = ((Decimal(1_000), 5), (Decimal(10_000), 10), (Decimal(50_000), 15), (Decimal(100_000), 20))


@dataclass(frozen=True, slots=True)
class MarketInputs:
    """A token's market data for `score_momentum`; None = not available. Values are Decimals.

    Price changes and holder growth are percents (Birdeye's `priceChange1hPercent`: 12.5 = +12.5 %);
    volumes, liquidity and the tracked wallets' net flow (buys − sells over the last hour) in USD.
    """

    token: str
    at: int
    price_change_1h_percent: Observed | None = None
    price_change_24h_percent: Observed | None = None
    volume_1h_usd: Observed | None = None
    volume_24h_usd: Observed | None = None
    liquidity_usd: Observed | None = None
    holder_growth_24h_percent: Observed | None = None
    tracked_net_flow_usd: Observed | None = None


def score_momentum(
    inputs: MarketInputs, params: Parameters = DEFAULT_PARAMETERS, promotion: Promotion | None = None
) -> Assessment:
    """Momentum 0–100 from six components (SIGNALS.md §5); published at ≥ `momentum_publish_score`.

    A missing input, or one older than `momentum_max_input_age_seconds`, scores 0 and says so.
    """
    max_age = params.momentum_max_input_age_seconds
    reasons: list[dict[str, Any]] = []

    def component(name: str, observed: Observed | None, max_points: int, points_of: Any, unit: str) -> int:
        status = _input_status(observed, max_age)
        points = points_of(observed.value) if observed is not None and status == "ok" else 0
        reasons.append(
            _score_reason(
                name,
                None if observed is None else decimal_text(observed.value),
                points,
                max_points,
                unit=unit,
                age_seconds=None if observed is None else observed.age_seconds,
                status=status,
            )
        )
        return points

    total = component(
        "price_change_1h",
        inputs.price_change_1h_percent,
        MOMENTUM_PRICE_1H_MAX,
        lambda value: _linear_points(value, MOMENTUM_PRICE_1H_FULL_PERCENT, MOMENTUM_PRICE_1H_MAX),
        "percent",
    )
    total += component(
        "price_change_24h",
        inputs.price_change_24h_percent,
        MOMENTUM_PRICE_24H_MAX,
        lambda value: _linear_points(value, MOMENTUM_PRICE_24H_FULL_PERCENT, MOMENTUM_PRICE_24H_MAX),
        "percent",
    )
    total += _volume_acceleration(inputs, max_age, reasons)
    total += component(
        "liquidity",
        inputs.liquidity_usd,
        MOMENTUM_LIQUIDITY_POINTS[-1][1],
        lambda value: _tier_points(value, MOMENTUM_LIQUIDITY_POINTS),
        "usd",
    )
    total += component(
        "holder_growth_24h",
        inputs.holder_growth_24h_percent,
        MOMENTUM_HOLDERS_MAX,
        lambda value: _linear_points(value, MOMENTUM_HOLDERS_FULL_PERCENT, MOMENTUM_HOLDERS_MAX),
        "percent",
    )
    total += component(
        "tracked_net_flow",
        inputs.tracked_net_flow_usd,
        MOMENTUM_NET_FLOW_POINTS[-1][1],
        lambda value: _tier_points(value, MOMENTUM_NET_FLOW_POINTS),
        "usd",
    )
    reasons.append(
        {"reason": "threshold", "publish_score": params.momentum_publish_score, "max_input_age_seconds": max_age}
    )
    if promotion is not None:
        reasons.append(_promotion_reason(promotion))
    return Assessment(MOMENTUM, inputs.token, inputs.at, total >= params.momentum_publish_score, total, reasons)


def _volume_acceleration(inputs: MarketInputs, max_age: int, reasons: list[dict[str, Any]]) -> int:
    """20 × clamp((v1h ÷ (v24h ÷ 24) − 1) ÷ 3, 0, 1): nothing at the day's hourly average, full at 4×."""
    last_hour, last_day = inputs.volume_1h_usd, inputs.volume_24h_usd
    if last_hour is None or last_day is None:
        status, age, ratio = "missing", None, None
    else:
        age = max(last_hour.age_seconds, last_day.age_seconds)
        status = "stale" if age > max_age else "ok"
        hourly = _RATIOS.divide(last_day.value, Decimal(24))
        ratio = _RATIOS.divide(last_hour.value, hourly) if hourly > 0 else ZERO
    points = 0
    if status == "ok" and ratio is not None:
        points = _linear_points(ratio - 1, MOMENTUM_VOLUME_FULL_RATIO - 1, MOMENTUM_VOLUME_MAX)
    reasons.append(
        _score_reason(
            "volume_acceleration",
            None if ratio is None else _shown(ratio),
            points,
            MOMENTUM_VOLUME_MAX,
            unit="x_hourly_average",
            volume_1h_usd=None if last_hour is None else decimal_text(last_hour.value),
            volume_24h_usd=None if last_day is None else decimal_text(last_day.value),
            age_seconds=age,
            status=status,
        )
    )
    return points
