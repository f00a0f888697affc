"""Big trades: the score and reasons of one tracked wallet's large swap (SIGNALS.md §3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from signals.scoring.core import DEFAULT_PARAMETERS, Parameters, Signal, _quality, _score_reason, _wallet_reason
from signals.scoring.numbers import _RATIOS, _round_points, _shown, _tier_points, decimal_text

# --- Score table (part of SIGNALS.md v1: changing one is a new version) ----------------------------

BIG_TRADE_SIZE_POINTS = ((Decimal(1), 40), (Decimal("2.5"), 50), (Decimal(5), 60), (Decimal(10), 70), (Decimal(25), 80))
BIG_TRADE_QUALITY_POINTS_MAX = 20


def big_trade_score(signal: Signal, params: Parameters = DEFAULT_PARAMETERS) -> tuple[int, list[dict[str, Any]]]:
    """Score and reasons of a big trade (SIGNALS.md §3).

    size: 40/50/60/70/80 points at 1×/2.5×/5×/10×/25× the threshold (its total USD, growth included) ·
    wallet quality: 20 × the wallet's win rate, counted only with `min_cycles_for_quality` rated cycles.
    """
    member = next(iter(signal.wallets.values()))
    multiple = _RATIOS.divide(member.usd, params.big_trade_usd) if params.big_trade_usd else Decimal(25)
    size_points = _tier_points(multiple, BIG_TRADE_SIZE_POINTS)
    quality = _quality(member.win_rate, member.cycles, params.min_cycles_for_quality)
    quality_points = _round_points(BIG_TRADE_QUALITY_POINTS_MAX * quality)
    reasons: list[dict[str, Any]] = [
        {
            "reason": "big_trade",
            "side": signal.side,
            "usd": decimal_text(member.usd),
            "swaps": len(signal.swap_ids),
            "threshold_usd": decimal_text(params.big_trade_usd),
            "growth_window_seconds": params.big_trade_growth_seconds,
            "last_at": signal.updated_at,
        },
        _wallet_reason(member, "usd"),
        _score_reason("size", _shown(multiple), size_points, BIG_TRADE_SIZE_POINTS[-1][1], unit="x_threshold"),
        _score_reason(
            "wallet_quality",
            _shown(quality),
            quality_points,
            BIG_TRADE_QUALITY_POINTS_MAX,
            min_cycles=params.min_cycles_for_quality,
        ),
    ]
    return size_points + quality_points, reasons
