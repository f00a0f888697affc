"""A signal that fired goes to the alerts app as the alert contract's event, queued by task name after
commit (signals never import the alerts code); later evidence on the same signal alerts nobody again."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import current_app

from signals.models import Signal
from whales.models import TrackedWallet

logger = logging.getLogger(__name__)

ALERT_TASK = "alerts.tasks.alert_on_signal"


def signal_event(signal: Signal, labels: dict[str, str]) -> dict[str, Any]:
    """`{"kind": "signal", "signal": {...}}` of a stored signal (its token loaded)."""
    return {
        "kind": "signal",
        "signal": {
            "kind": signal.kind,
            "token": {"mint": signal.token.mint, "symbol": signal.token.symbol, "name": signal.token.name},
            "score": signal.score,
            "wallets": [
                {"address": member["wallet"], "label": labels.get(member["wallet"], "")} for member in signal.wallets
            ],
            "reasons": list(signal.reasons),
            "fired_at": int(signal.fired_at.timestamp()),
        },
    }


def announce_fired(signal_ids: Iterable[int]) -> None:
    """Queue the alerts of newly fired signals; a broker outage is logged (the signal is stored all the same)."""
    signals = list(Signal.objects.filter(id__in=list(signal_ids)).select_related("token").order_by("id"))
    addresses = {member["wallet"] for signal in signals for member in signal.wallets}
    labels = dict(TrackedWallet.objects.filter(address__in=addresses).values_list("address", "label"))
    for signal in signals:
        try:
            current_app.send_task(ALERT_TASK, args=[signal_event(signal, labels), str(signal.id)])
        except Exception as error:  # noqa: BLE001 - kombu raises many kinds; the signal is already stored
            logger.error("could not queue the alerts of signal %s: %s", signal.id, error)
