"""Celery tasks of the signals app: short, idempotent adapters over its writers.

`detect_swap_signals` is enqueued by name by whales once swaps are booked (whales never imports
signals); the market poll and the outcomes run on the beat (aura/settings.py).
"""

from __future__ import annotations

from celery import shared_task

from signals import detection, market, outcomes
from whales.tasks import RETRY_WHEN_THE_DATABASE_FAILS, single_flight


@shared_task(soft_time_limit=50, time_limit=60, **RETRY_WHEN_THE_DATABASE_FAILS)
def detect_swap_signals(swap_ids: list[int]) -> int:
    """Judge a booked batch of swaps; returns how many signals were stored or changed."""
    return len(detection.detect_swap_signals(swap_ids))


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def poll_market() -> int:
    """Beat: momentum from trending tokens, new listings that pass the safety checks."""
    with single_flight("signals.poll_market", 120) as mine:
        return market.poll_market() if mine else 0


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def record_outcomes() -> int:
    """Beat: prices at +1 h / +24 h of recent signals, then the per-kind scoreboard."""
    with single_flight("signals.record_outcomes", 120) as mine:
        if not mine:
            return 0
        measured = outcomes.record_outcomes()
        outcomes.refresh_scoreboard()
        return measured
