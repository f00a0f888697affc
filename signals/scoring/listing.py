"""New listings: the safety checks and the score of a newly listed token (SIGNALS.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from signals.scoring.core import DEFAULT_PARAMETERS, NEW_LISTING, Parameters, _score_reason
from signals.scoring.market import Assessment, Observed, Promotion, _input_status, _promotion_reason
from signals.scoring.numbers import _ONE, _RATIOS, ZERO, _linear_points, _shown, _tier_points, decimal_text

# --- Score table (part of SIGNALS.md v1: changing one is a new version) ----------------------------

LISTING_SAFETY_POINTS = 40
LISTING_LIQUIDITY_POINTS = ((Decimal(1), 10), (Decimal(5), 20), (Decimal(25), 30))  # multiples of the floor
LISTING_SPREAD_POINTS_MAX = 30


@dataclass(frozen=True, slots=True)
class TokenSecurity:
    """Safety inputs of a token; None = unknown (the check fails).

    `mint_authority`/`freeze_authority`: Observed(address) while one exists, Observed(None) when
    renounced. `top10_holder_share`: of the supply, 0–1 (Birdeye's `top10HolderPercent` is this
    fraction despite its name).
    """

    mint_authority: Observed | None = None
    freeze_authority: Observed | None = None
    top10_holder_share: Observed | None = None
    liquidity_usd: Observed | None = None


def check_safety(security: TokenSecurity, params: Parameters = DEFAULT_PARAMETERS) -> tuple[bool, list[dict[str, Any]]]:
    """(passed, one result per check): no mint authority, no freeze authority, top-10 holders' share
    ≤ `safety_max_top10_share`, liquidity ≥ `safety_min_liquidity_usd`. Unknown or older than
    `safety_max_input_age_seconds` fails: a token is kept only when it is known to be safe."""
    max_age = params.safety_max_input_age_seconds
    checks = []
    for name, observed, rule, threshold in (
        ("mint_authority", security.mint_authority, "absent", None),
        ("freeze_authority", security.freeze_authority, "absent", None),
        ("top10_holder_share", security.top10_holder_share, "at_most", params.safety_max_top10_share),
        ("liquidity", security.liquidity_usd, "at_least", params.safety_min_liquidity_usd),
    ):
        status = _input_status(observed, max_age)
        value = None if observed is None else observed.value
        if status != "ok" or observed is None:
            passed = False
        elif rule == "absent":
            passed = value is None
        elif value is None:
            passed = False
        else:
            passed = value <= threshold if rule == "at_most" else value >= threshold
        checks.append(
            {
                "reason": "safety",
                "check": name,
                "passed": passed,
                "value": value if value is None or isinstance(value, str) else decimal_text(value),
                "rule": rule,
                "threshold": None if threshold is None else decimal_text(threshold),
                "age_seconds": None if observed is None else observed.age_seconds,
                "status": status,
            }
        )
    return all(check["passed"] for check in checks), checks


def assess_new_listing(
    token: str,
    listed_at: int,
    at: int,
    security: TokenSecurity,
    params: Parameters = DEFAULT_PARAMETERS,
    *,
    source: str = "birdeye_new_listing",
    promotion: Promotion | None = None,
) -> Assessment:
    """A new listing is published only when every safety check passes (SIGNALS.md §6).

    Score of a published one: 40 for passing · liquidity 10/20/30 at 1×/5×/25× the floor · holder
    spread 30 × (1 − top-10 share ÷ the maximum share). A boost is listed as paid promotion, 0 points.
    A failed listing has score 0 and keeps its check results (for the token page).
    """
    passed, checks = check_safety(security, params)
    reasons: list[dict[str, Any]] = [
        {"reason": "listing", "source": source, "listed_at": listed_at, "age_seconds": at - listed_at},
        *checks,
    ]
    score = 0
    if passed:
        assert security.liquidity_usd is not None and security.top10_holder_share is not None
        floor = params.safety_min_liquidity_usd
        multiple = _RATIOS.divide(security.liquidity_usd.value, floor) if floor else Decimal(25)
        liquidity_points = _tier_points(multiple, LISTING_LIQUIDITY_POINTS)
        share, most = security.top10_holder_share.value, params.safety_max_top10_share
        spread = _RATIOS.subtract(_ONE, _RATIOS.divide(share, most)) if most else ZERO
        spread_points = _linear_points(spread, _ONE, LISTING_SPREAD_POINTS_MAX)
        score = LISTING_SAFETY_POINTS + liquidity_points + spread_points
        reasons += [
            _score_reason("safety", "passed", LISTING_SAFETY_POINTS, LISTING_SAFETY_POINTS),
            _score_reason(
                "liquidity", _shown(multiple), liquidity_points, LISTING_LIQUIDITY_POINTS[-1][1], unit="x_floor"
            ),
            _score_reason("holder_spread", _shown(spread), spread_points, LISTING_SPREAD_POINTS_MAX),
        ]
    if promotion is not None:
        reasons.append(_promotion_reason(promotion))
    return Assessment(NEW_LISTING, token, at, passed, score, reasons)
