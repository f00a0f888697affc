"""Queue whales' Celery tasks by name, so that the code doing the work never imports the tasks module
(which imports that code): work → queue → broker → `whales.tasks` → work, and no import circle."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import current_app

logger = logging.getLogger(__name__)

TASKS_MODULE = "whales.tasks"

# Daphne runs all sync code in one thread, and each Celery message costs a broker round trip there (a
# sixth of a webhook delivery's time, two messages each): the webhook path hands them to this thread.
_publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="celery-publish")


def in_background(publish: Callable[..., None], *args: Any) -> None:
    """Call `publish(*args)` (one of this module's, which log their own errors) from the publishing
    thread, after those asked before it. Pending calls still go out when the process exits cleanly;
    those a killed process loses are what the beat's sweeps are for."""
    _publisher.submit(publish, *args)


def wait_for_background() -> None:
    """Return once every call handed to `in_background` so far is done (for tests)."""
    _publisher.submit(lambda: None).result()


def enqueue(task: str, *args: Any) -> None:
    """Queue `whales.tasks.<task>` with `args`; a broker outage is logged, never raised into the
    caller, whose data is already committed (the beat's sweeps pick up what was not queued)."""
    enqueue_named(f"{TASKS_MODULE}.{task}", *args)


def enqueue_named(name: str, *args: Any) -> None:
    """Queue any app's task by its full name (whales imports no other app), logged as `enqueue` is."""
    try:
        current_app.send_task(name, args=list(args))
    except Exception as error:  # noqa: BLE001 - kombu raises many kinds; the caller's data is already safe
        logger.error("could not queue %s%r: %s", name, tuple(args), error)


# Apps that act on new live swaps (alerts) get their ids by task name: whales imports none of them.
LIVE_SWAPS_TASKS = ("alerts.tasks.alert_on_swaps",)


def announce_live_swaps(swap_ids: list[int]) -> None:
    """Queue, by name, the other apps' tasks that follow new live swaps (after commit); a broker outage
    is logged (alerts' own beat sweep matches the last minutes' live swaps again)."""
    for name in LIVE_SWAPS_TASKS:
        try:
            current_app.send_task(name, args=[list(swap_ids)])
        except Exception as error:  # noqa: BLE001 - kombu raises many kinds; the swaps are already safe
            logger.error("could not queue %s for %d swaps: %s", name, len(swap_ids), error)
