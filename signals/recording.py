"""The one writer of `Signal` rows: stores what the engine fired or updated, then tells browsers.

Callers (swap detection, the market poll) hold `lock_tokens` for the tokens they judge, so two
workers never fire the same signal twice; a rerun of the same events finds the rows by key and
changes nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction

from signals import scoring
from signals.alerting import announce_fired
from signals.fragments import push_signals
from signals.models import Signal, moment
from whales.models import Token, TokenPrice

# Advisory-lock keys of tokens being judged: a namespace of their own in the high bits.
_LOCK_NAMESPACE = 0x5349 << 48


def lock_tokens(token_ids: Iterable[int]) -> None:
    """Hold each token's signal lock until the end of the transaction (in id order: no deadlock)."""
    ids = sorted(set(token_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s + id) FROM unnest(%s::bigint[]) AS id ORDER BY id",
            [_LOCK_NAMESPACE, ids],
        )


def active_until(signal: scoring.Signal, params: scoring.Parameters) -> datetime:
    """Until then later evidence joins or grows the signal (cooldown; a big trade's growth window)."""
    if signal.kind == scoring.BIG_TRADE:
        return moment(signal.fired_at + params.big_trade_growth_seconds + 1)
    return moment(signal.fired_at + params.cooldown_seconds)


def price_at(token: Token, at: datetime, gap: timedelta) -> Decimal | None:
    """The token's stored USD price at `at`: the last one at most `gap` before it, else the first
    one at most `gap` after it; None when no price is that close."""
    before = (
        TokenPrice.objects.filter(token=token, at__lte=at, at__gte=at - gap)
        .order_by("-at")
        .values_list("price_usd", flat=True)
        .first()
    )
    if before is not None:
        return before
    return (
        TokenPrice.objects.filter(token=token, at__gt=at, at__lte=at + gap)
        .order_by("at")
        .values_list("price_usd", flat=True)
        .first()
    )


def _row_key(signal: scoring.Signal) -> dict:
    kind, _, wallet, side, _ = signal.key
    return {"kind": kind, "wallet": wallet, "side": signal.side or side or ""}


def record_events(
    events: Sequence[scoring.SignalEvent],
    tokens: Mapping[str, Token],
    params: scoring.Parameters,
    *,
    fallback_prices: Mapping[str, Decimal] | None = None,
) -> list[int]:
    """Store each event's signal (the last snapshot of each, by key): a new row for one that fired,
    the row by key replaced for one that was updated. Pushes the rows after commit. Returns their ids.

    `fallback_prices`: a price per mint to take as the price at firing when no stored price is near
    (a swap's own USD price). Must run inside a transaction holding `lock_tokens` for these tokens.
    """
    latest: dict[tuple, scoring.Signal] = {}
    for event in events:
        latest[event.signal.key] = event.signal
    gap = timedelta(seconds=params.outcome_price_gap_seconds)
    changed: list[int] = []
    fired: list[int] = []
    for signal in latest.values():
        token = tokens[signal.token]
        fired_at = moment(signal.fired_at)
        values = {
            "updated_at": moment(signal.updated_at),
            "active_until": active_until(signal, params),
            "score": signal.score,
            "wallet_count": len(signal.wallets),
            "wallets": [member.to_dict() for member in signal.wallets.values()],
            "swap_ids": list(signal.swap_ids),
            "reasons": list(signal.reasons),
            "version": scoring.SIGNALS_VERSION,
        }
        row = Signal.objects.filter(token=token, fired_at=fired_at, **_row_key(signal)).first()
        if row is None:
            price = price_at(token, fired_at, gap)
            if price is None and fallback_prices:
                price = fallback_prices.get(signal.token)
            row = Signal.objects.create(
                token=token, fired_at=fired_at, price_at_firing=price, **_row_key(signal), **values
            )
            fired.append(row.id)
        else:
            if all(getattr(row, name) == value for name, value in values.items() if name != "active_until"):
                continue  # a rerun: nothing new
            for name, value in values.items():
                setattr(row, name, value)
            row.save(update_fields=list(values))
        changed.append(row.id)
    if changed:
        transaction.on_commit(lambda: push_signals(changed), robust=True)
    if fired:
        transaction.on_commit(lambda: announce_fired(fired), robust=True)
    return changed


def active_signal(token: Token, kind: str, now: datetime) -> Signal | None:
    """The token's signal of `kind` still active at `now` (the latest one), None when there is none."""
    return Signal.objects.filter(token=token, kind=kind, active_until__gt=now).order_by("-fired_at").first()
