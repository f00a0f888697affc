"""signals.scoring, the market kinds: momentum, new listings and their safety checks, paid promotion, `settle`."""

from __future__ import annotations

import pytest

from signals.scoring import (
    FIRED,
    MOMENTUM,
    UPDATED,
    MarketInputs,
    Observed,
    Promotion,
    TokenSecurity,
    assess_new_listing,
    check_safety,
    score_momentum,
    settle,
)
from tests.signal_streams import BONK, SIX_HOURS, D


def observed(value: str | None, age: int = 60) -> Observed:
    """A number measured `age` seconds ago (None: measured, and there is none)."""
    return Observed(None if value is None else D(value), age)


def authority(address: str | None, age: int = 60) -> Observed:
    return Observed(address, age)


# --- Example 5: momentum --------------------------------------------------------------------------


def momentum_inputs(**changes) -> MarketInputs:
    values = {
        "token": BONK,
        "at": 50000,
        "price_change_1h_percent": observed("10", 60),
        "price_change_24h_percent": observed("25", 300),
        "volume_1h_usd": observed("30000", 120),
        "volume_24h_usd": observed("240000", 600),
        "liquidity_usd": observed("80000", 60),
        "holder_growth_24h_percent": observed("2", 900),
        "tracked_net_flow_usd": observed("12000", 0),
    }
    return MarketInputs(**(values | changes))


def test_momentum_adds_its_six_components():
    assessment = score_momentum(momentum_inputs())

    assert (assessment.kind, assessment.token, assessment.at, assessment.score, assessment.publish) == (
        MOMENTUM,
        BONK,
        50000,
        53,
        True,
    )
    assert assessment.reasons == [
        {"reason": "score", "component": "price_change_1h", "value": "10", "points": 10, "max_points": 20,
         "unit": "percent", "age_seconds": 60, "status": "ok"},
        {"reason": "score", "component": "price_change_24h", "value": "25", "points": 8, "max_points": 15,
         "unit": "percent", "age_seconds": 300, "status": "ok"},
        {"reason": "score", "component": "volume_acceleration", "value": "3", "points": 13, "max_points": 20,
         "unit": "x_hourly_average", "volume_1h_usd": "30000", "volume_24h_usd": "240000", "age_seconds": 600,
         "status": "ok"},
        {"reason": "score", "component": "liquidity", "value": "80000", "points": 10, "max_points": 15,
         "unit": "usd", "age_seconds": 60, "status": "ok"},
        {"reason": "score", "component": "holder_growth_24h", "value": "2", "points": 2, "max_points": 10,
         "unit": "percent", "age_seconds": 900, "status": "ok"},
        {"reason": "score", "component": "tracked_net_flow", "value": "12000", "points": 10, "max_points": 20,
         "unit": "usd", "age_seconds": 0, "status": "ok"},
        {"reason": "threshold", "publish_score": 25, "max_input_age_seconds": 3600},
    ]  # fmt: skip
    assert assessment.signal().to_dict() | {"reasons": None} == {
        "version": "v1",
        "kind": MOMENTUM,
        "token": BONK,
        "side": None,
        "fired_at": 50000,
        "updated_at": 50000,
        "wallets": [],
        "swap_ids": [],
        "score": 53,
        "reasons": None,
    }


@pytest.mark.parametrize(
    ("price_change_1h", "score", "published"),
    [("19", 24, False), ("20", 25, True), ("200", 25, True), ("-30", 5, False)],
)
def test_momentum_is_published_at_twenty_five(price_change_1h, score, published):
    inputs = MarketInputs(BONK, 50000, price_change_1h_percent=observed(price_change_1h), liquidity_usd=observed(10000))

    assessment = score_momentum(inputs)

    assert (assessment.score, assessment.publish, assessment.signal() is not None) == (score, published, published)


def test_stale_or_missing_momentum_inputs_score_nothing_and_say_so():
    inputs = momentum_inputs(price_change_1h_percent=observed("10", 3601), volume_24h_usd=None)

    assessment = score_momentum(inputs)

    assert assessment.score == 53 - 10 - 13
    statuses = {r["component"]: (r["points"], r["status"], r["age_seconds"]) for r in assessment.reasons[:-1]}
    assert statuses["price_change_1h"] == (0, "stale", 3601)
    assert statuses["volume_acceleration"] == (0, "missing", None)
    assert statuses["price_change_24h"] == (8, "ok", 300)
    assert score_momentum(momentum_inputs(price_change_1h_percent=observed("10", 3600))).score == 53


@pytest.mark.parametrize(
    ("volume_1h", "volume_24h", "points"),
    [("10000", "240000", 0), ("20000", "240000", 7), ("40000", "240000", 20), ("5000", "0", 0), ("0", "0", 0)],
)
def test_volume_acceleration_compares_the_last_hour_with_the_days_hourly_average(volume_1h, volume_24h, points):
    inputs = MarketInputs(BONK, 1, volume_1h_usd=observed(volume_1h), volume_24h_usd=observed(volume_24h))

    reason = score_momentum(inputs).reasons[2]

    assert (reason["component"], reason["points"]) == ("volume_acceleration", points)


# --- Example 6: new listings ----------------------------------------------------------------------


def safe_token(**changes) -> TokenSecurity:
    values = {
        "mint_authority": authority(None, 300),
        "freeze_authority": authority(None, 300),
        "top10_holder_share": observed("0.15", 300),
        "liquidity_usd": observed("60000", 120),
    }
    return TokenSecurity(**(values | changes))


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({}, []),
        ({"mint_authority": authority("9AhKqLR67hwapvG8SA2JFXaCshXc9nALJjpKaHZrsbkw")}, ["mint_authority"]),
        ({"freeze_authority": authority("9AhKqLR67hwapvG8SA2JFXaCshXc9nALJjpKaHZrsbkw")}, ["freeze_authority"]),
        ({"top10_holder_share": observed("0.3")}, []),
        ({"top10_holder_share": observed("0.3001")}, ["top10_holder_share"]),
        ({"liquidity_usd": observed("10000")}, []),
        ({"liquidity_usd": observed("9999.99")}, ["liquidity"]),
        ({"mint_authority": None}, ["mint_authority"]),  # unknown
        ({"liquidity_usd": observed("60000", 86401)}, ["liquidity"]),  # stale
        ({"top10_holder_share": observed(None)}, ["top10_holder_share"]),
    ],
)
def test_a_new_listing_is_kept_only_when_every_safety_check_passes(changes, failed):
    security = safe_token(**changes)

    passed, checks = check_safety(security)
    assessment = assess_new_listing(BONK, 49000, 50000, security)

    assert [check["check"] for check in checks if not check["passed"]] == failed
    assert passed is (not failed) is assessment.publish
    assert (assessment.signal() is None) is bool(failed)
    if failed:
        assert assessment.score == 0


def test_a_new_listings_reasons_carry_every_check_and_its_age():
    assessment = assess_new_listing(BONK, 49000, 50000, safe_token(liquidity_usd=None))

    assert assessment.reasons == [
        {"reason": "listing", "source": "birdeye_new_listing", "listed_at": 49000, "age_seconds": 1000},
        {"reason": "safety", "check": "mint_authority", "passed": True, "value": None, "rule": "absent",
         "threshold": None, "age_seconds": 300, "status": "ok"},
        {"reason": "safety", "check": "freeze_authority", "passed": True, "value": None, "rule": "absent",
         "threshold": None, "age_seconds": 300, "status": "ok"},
        {"reason": "safety", "check": "top10_holder_share", "passed": True, "value": "0.15", "rule": "at_most",
         "threshold": "0.3", "age_seconds": 300, "status": "ok"},
        {"reason": "safety", "check": "liquidity", "passed": False, "value": None, "rule": "at_least",
         "threshold": "10000", "age_seconds": None, "status": "missing"},
    ]  # fmt: skip


def test_a_dexscreener_boost_is_paid_promotion_and_adds_nothing():
    boost = Promotion(D(100), D(500), 30)

    plain = assess_new_listing(BONK, 49000, 50000, safe_token())
    boosted = assess_new_listing(BONK, 49000, 50000, safe_token(), source="dexscreener_profile", promotion=boost)

    assert plain.score == boosted.score == 75  # safety 40 + liquidity 6× the floor → 20 + spread 0.5 → 15
    assert boosted.reasons[-1] == {
        "reason": "paid_promotion",
        "source": "dexscreener_boost",
        "amount": "100",
        "total_amount": "500",
        "age_seconds": 30,
        "points": 0,
    }
    assert boosted.reasons[0]["source"] == "dexscreener_profile"
    assert score_momentum(momentum_inputs(), promotion=boost).score == 53
    assert assess_new_listing(BONK, 49000, 50000, safe_token(top10_holder_share=observed("0.3"))).score == 60


def test_a_market_signal_within_the_cooldown_updates_the_active_one():
    first = score_momentum(momentum_inputs()).signal()
    stronger = score_momentum(momentum_inputs(at=51000, liquidity_usd=observed("300000"))).signal()
    same = score_momentum(momentum_inputs(at=52000)).signal()
    later = score_momentum(momentum_inputs(at=50000 + SIX_HOURS)).signal()

    assert settle(None, first).action == FIRED
    update = settle(first, stronger)
    assert (update.action, update.signal.fired_at, update.signal.updated_at, update.signal.score) == (
        UPDATED,
        50000,
        51000,
        58,
    )
    assert settle(first, same) is None
    assert settle(update.signal, first) is None  # older evidence
    assert (settle(first, later).action, settle(first, later).signal.fired_at) == (FIRED, 50000 + SIX_HOURS)
