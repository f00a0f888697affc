"""What the price did after each signal, and how each kind has done: the writer of `SignalOutcome`
and `KindScore` (SIGNALS.md §7). Run by the beat; every figure comes from stored prices."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from signals import scoring
from signals.models import KindScore, Period, Signal, SignalOutcome, unix
from signals.parameters import parameters
from signals.recording import price_at
from whales.models import TokenPrice

# A mark with no price near it for this long after it is taken for a gap: the outcome is complete.
GIVE_UP_AFTER = timedelta(hours=2)
PERIODS = {Period.WEEK: timedelta(days=7), Period.MONTH: timedelta(days=30), Period.ALL: None}


def record_outcomes(now: datetime | None = None, limit: int = 500) -> int:
    """Measure the signals fired at least an hour ago whose outcome is not complete. Returns how many
    were measured. Idempotent: a rerun measures the same prices again."""
    now = now or timezone.now()
    params = parameters()
    gap = timedelta(seconds=params.outcome_price_gap_seconds)
    due = (
        Signal.objects.filter(fired_at__lte=now - timedelta(hours=1))
        .exclude(outcome__complete=True)
        .select_related("token")
        .order_by("fired_at")[:limit]
    )
    measured = 0
    for signal in due:
        if signal.price_at_firing is None:
            signal.price_at_firing = price_at(signal.token, signal.fired_at, gap)
            if signal.price_at_firing is None:
                if now - signal.fired_at > timedelta(days=1) + GIVE_UP_AFTER:
                    _store(signal, None, complete=True, now=now)  # never priced: no outcome, ever
                continue
            Signal.objects.filter(id=signal.id).update(price_at_firing=signal.price_at_firing)
        prices = TokenPrice.objects.filter(
            token_id=signal.token_id, at__gte=signal.fired_at, at__lte=signal.fired_at + timedelta(days=1)
        ).values_list("at", "price_usd")
        result = scoring.outcome(
            signal.kind,
            unix(signal.fired_at),
            signal.price_at_firing,
            [(unix(at), price) for at, price in prices],
            side=signal.side or None,
            params=params,
        )
        complete = result.price_24h is not None or now - signal.fired_at > timedelta(days=1) + GIVE_UP_AFTER
        _store(signal, result, complete=complete, now=now)
        measured += 1
    return measured


def _store(signal: Signal, result: scoring.Outcome | None, *, complete: bool, now: datetime) -> None:
    values = {"kind": signal.kind, "fired_at": signal.fired_at, "complete": complete, "measured_at": now}
    if result is not None:
        values.update(
            price_1h=result.price_1h,
            price_24h=result.price_24h,
            return_1h=_fit(result.return_1h),
            return_24h=_fit(result.return_24h),
            max_drawdown=_fit(result.max_drawdown),
            hit_1h=result.hit_1h,
            hit_24h=result.hit_24h,
        )
    SignalOutcome.objects.update_or_create(signal=signal, defaults=values)


def _fit(value):
    """A ratio at the column's 12 places."""
    return None if value is None else round(value, 12)


def engine_outcome(row: SignalOutcome, direction: str) -> scoring.Outcome:
    return scoring.Outcome(
        row.kind,
        direction,
        unix(row.fired_at),
        row.signal.price_at_firing if row.signal.price_at_firing else scoring.ZERO,
        row.price_1h,
        row.price_24h,
        row.return_1h,
        row.return_24h,
        row.max_drawdown,
        row.hit_1h,
        row.hit_24h,
    )


def refresh_scoreboard(now: datetime | None = None) -> None:
    """Recompute every kind's figures over 7 d, 30 d and all time from the stored outcomes."""
    now = now or timezone.now()
    rows = SignalOutcome.objects.filter(hit_1h__isnull=False).select_related("signal")
    outcomes = [engine_outcome(row, row.signal.direction) for row in rows]
    with transaction.atomic():
        for period, span in PERIODS.items():
            since = None if span is None else unix(now - span)
            for kind, score in scoring.scoreboard(outcomes, since=since).items():
                KindScore.objects.update_or_create(
                    kind=kind,
                    period=period,
                    defaults={
                        "signals": score.signals,
                        "hits_1h": score.hits_1h.wins,
                        "n_1h": score.hits_1h.n,
                        "rate_1h": _rate(score.hits_1h.rate),
                        "low_1h": _rate(score.hits_1h.low),
                        "high_1h": _rate(score.hits_1h.high),
                        "hits_24h": score.hits_24h.wins,
                        "n_24h": score.hits_24h.n,
                        "rate_24h": _rate(score.hits_24h.rate),
                        "low_24h": _rate(score.hits_24h.low),
                        "high_24h": _rate(score.hits_24h.high),
                        "median_return_1h": _fit(score.median_return_1h),
                        "median_return_24h": _fit(score.median_return_24h),
                        "updated_at": now,
                    },
                )


def _rate(value):
    return None if value is None else round(value, 6)
