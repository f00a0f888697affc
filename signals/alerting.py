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
            "reasons": reason_lines(signal.reasons),
            "fired_at": int(signal.fired_at.timestamp()),
        },
    }


def reason_lines(reasons: list[Any]) -> list[Any]:
    """The signal's reasons as the lines a message shows (what the signals page says); a reason of a
    shape this does not know goes as it is (the alert renders its fields)."""
    lines: list[Any] = []
    for reason in reasons:
        what = reason.get("reason") if isinstance(reason, dict) else None
        if what == "cluster":
            verb = "selling" if reason.get("side") == "sell" else "buying"
            lines.append(
                f"{reason.get('wallets')} tracked wallets net-{verb} within {_minutes(reason.get('window_seconds'))} "
                f"(rule: at least {reason.get('min_wallets')}); net ${reason.get('net_usd')}"
            )
        elif what == "big_trade":
            lines.append(
                f"One wallet {reason.get('side')} ${reason.get('usd')} in {reason.get('swaps')} swap(s) "
                f"(threshold ${reason.get('threshold_usd')})"
            )
        elif what == "listing":
            lines.append(f"Newly listed ({reason.get('source')}), {_minutes(reason.get('age_seconds'))} ago")
        elif what == "paid_promotion":
            lines.append(f"Paid promotion: DexScreener boost of {reason.get('amount')}; worth no points")
        elif what == "score":
            lines.append(f"{reason.get('component')}: {reason.get('points')}/{reason.get('max_points')} points")
        else:
            lines.append(reason)
    return lines


def _minutes(seconds: Any) -> str:
    return f"{int(seconds) // 60} min" if isinstance(seconds, int | float) else "?"


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
