"""The engine's parameters as the settings give them (aura/settings.py, SIGNAL_*)."""

from __future__ import annotations

from django.conf import settings

from signals.scoring import Parameters


def parameters() -> Parameters:
    return Parameters(
        window_seconds=settings.SIGNAL_WINDOW_SECONDS,
        min_wallets=settings.SIGNAL_MIN_WALLETS,
        cooldown_seconds=settings.SIGNAL_COOLDOWN_SECONDS,
        big_trade_usd=settings.SIGNAL_BIG_TRADE_USD,
        big_trade_growth_seconds=settings.SIGNAL_BIG_TRADE_GROWTH_SECONDS,
        min_cycles_for_quality=settings.SIGNAL_MIN_CYCLES_FOR_QUALITY,
        momentum_publish_score=settings.SIGNAL_MOMENTUM_PUBLISH_SCORE,
        momentum_max_input_age_seconds=settings.SIGNAL_MOMENTUM_MAX_INPUT_AGE_SECONDS,
        safety_max_top10_share=settings.SIGNAL_SAFETY_MAX_TOP10_SHARE,
        safety_min_liquidity_usd=settings.SIGNAL_SAFETY_MIN_LIQUIDITY_USD,
        safety_max_input_age_seconds=settings.SIGNAL_SAFETY_MAX_INPUT_AGE_SECONDS,
        hit_threshold=settings.SIGNAL_HIT_THRESHOLD,
        outcome_price_gap_seconds=settings.SIGNAL_OUTCOME_PRICE_GAP_SECONDS,
    )
