"""Queue whales' Celery tasks by name, so that the code doing the work never imports the tasks module
(which imports that code): work → queue → broker → `whales.tasks` → work, and no import circle."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import current_app
from django.db import close_old_connections

logger = logging.getLogger(__name__)

TASKS_MODULE = "whales.tasks"

# Daphne runs all sync code in one thread, and each Celery message costs a broker round trip there (a
# sixth of a webhook delivery's time, two messages each): the webhook path hands them, and its other
# after-commit writes that nothing waits for, to this thread.
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="after-commit")


def in_background(work: Callable[..., None], *args: Any) -> None:
    """Call `work(*args)` from the background thread, after the calls asked before it; an error is
    logged there. Work that uses the database gets its own connection, closed afterwards as a request's
    is. Pending calls still run when the process exits cleanly; what a killed process loses is what the
    beat's sweeps are for."""
    _background.submit(_run, work, *args)


def _run(work: Callable[..., None], *args: Any) -> None:
    close_old_connections()
    try:
        work(*args)
    except Exception:
        logger.exception("background %s%r failed", getattr(work, "__qualname__", work), args)
    finally:
        close_old_connections()


def wait_for_background() -> None:
    """Return once every call handed to `in_background` so far is done (for tests)."""
    _background.submit(lambda: None).result()


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
