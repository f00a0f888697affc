"""Celery tasks of the alerts queue: short adapters over `alerts.actions`, safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from alerts import actions

logger = logging.getLogger(__name__)
RETRY_WHEN_THE_DATABASE_FAILS: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 12,
}


def enqueue_send(delivery_id: int, countdown: float = 0) -> None:
    """Queue a send; should the broker be down, the beat's sweep (`send_due`) sends it later."""
    try:
        send_delivery.apply_async((delivery_id,), countdown=countdown)
    except Exception as error:  # noqa: BLE001 - kombu raises many kinds; the delivery row is safe
        logger.error("could not queue alert delivery %s: %s", delivery_id, error)


@shared_task(soft_time_limit=60, time_limit=90, **RETRY_WHEN_THE_DATABASE_FAILS)
def alert_on_swaps(swap_ids: list[int]) -> int:
    """Whales stored new live swaps (sent by name, after commit): queue and send their alerts."""
    to_send = actions.alert_on_swaps(swap_ids)
    _send_now(to_send)
    return len(to_send)


@shared_task(soft_time_limit=60, time_limit=90, **RETRY_WHEN_THE_DATABASE_FAILS)
def alert_on_signal(signal_event: dict[str, Any], signal_key: str) -> int:
    """A signal fired (`{"kind": "signal", "signal": {...}}`): queue and send its alerts."""
    to_send = actions.alert_on_signal(signal_event, signal_key)
    _send_now(to_send)
    return len(to_send)


def _send_now(delivery_ids: list[int]) -> None:
    """Send a batch here and now (several at once), and queue the retries of what failed for now. Should
    this task die midway, the sweep (`send_due`) sends what was left queued or sending."""
    for delivery_id, retry_in in actions.send_deliveries(delivery_ids).items():
        enqueue_send(delivery_id, countdown=retry_in)


@shared_task(soft_time_limit=40, time_limit=60, **RETRY_WHEN_THE_DATABASE_FAILS)
def send_delivery(delivery_id: int) -> None:
    retry_in = actions.send_delivery(delivery_id)
    if retry_in is not None:
        enqueue_send(delivery_id, countdown=retry_in)


@shared_task(soft_time_limit=50, time_limit=60, **RETRY_WHEN_THE_DATABASE_FAILS)
def send_due() -> int:
    """Beat: digests whose hold is over, retries whose time came, and sends nobody ran."""
    count = 0
    for channel_id in actions.channels_with_due_holds():
        delivery_id = actions.flush_held(channel_id)
        if delivery_id is not None:
            enqueue_send(delivery_id)
            count += 1
    for delivery_id in actions.due_for_sending():
        enqueue_send(delivery_id)
        count += 1
    return count


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def sweep_swaps() -> int:
    """Beat: match the last minutes' live swaps again, for those whose alert task was never queued."""
    to_send = actions.alert_on_swaps(actions.swaps_to_sweep())
    _send_now(to_send)
    return len(to_send)
