"""Celery tasks: short, idempotent adapters that take ids, load rows and call one function of the
writers (ingestion, market, books, live). The writers queue tasks by name (`whales.queue`), never
through this module."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from providers.birdeye import BirdeyeClient
from providers.helius import HeliusClient, HeliusError
from whales import live, queue
from whales.books import booking
from whales.ingestion import sources
from whales.market import metadata, valuation
from whales.market import prices as market_prices
from whales.models import BackfillState, Swap, TokenTransfer, TrackedWallet
from whales.wallets import restart_backfill

logger = logging.getLogger(__name__)
# A task that loses a race (a deadlock, a serialization failure) or meets the database restarting
# is run again after a pause: its work is idempotent, and left undone it would leave trades unbooked.
RETRY_WHEN_THE_DATABASE_FAILS: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 12,
}


@contextmanager
def single_flight(name: str, seconds: int):
    """Yields True for the one caller holding `name` (a Redis lock that expires), False for the others."""
    key = f"lock:{name}"
    held = cache.add(key, 1, seconds)
    try:
        yield held
    finally:
        if held:
            cache.delete(key)


def _birdeye() -> BirdeyeClient | None:
    return BirdeyeClient.from_settings() if settings.BIRDEYE_API_KEY else None


@shared_task(soft_time_limit=20, time_limit=30)
def poll_due_wallets() -> int:
    """Beat: queue a poll for every wallet that is due. Returns how many were queued."""
    claimed = sources.claim_due_wallets()
    for wallet_id in claimed:
        poll_wallet.delay(wallet_id)
    return len(claimed)


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def poll_wallet(wallet_id: int) -> int:
    wallet = TrackedWallet.objects.filter(id=wallet_id, is_active=True).first()
    if wallet is None:
        return 0
    birdeye = _birdeye()
    try:
        with HeliusClient.from_settings() as client:
            return sources.poll_wallet(wallet, client, birdeye)
    finally:
        if birdeye is not None:
            birdeye.close()


@shared_task(soft_time_limit=150, time_limit=180, **RETRY_WHEN_THE_DATABASE_FAILS)
def backfill_wallet(wallet_id: int) -> bool:
    """A bounded slice of one wallet's backfill; queues the next slice until the history is in
    (after a pause when the provider failed)."""
    wallet = TrackedWallet.objects.filter(id=wallet_id, is_active=True).first()
    if wallet is None:
        return True
    with single_flight(f"backfill:{wallet_id}", 170) as mine:
        if not mine:
            return False  # another worker is on this wallet
        birdeye = _birdeye()
        try:
            with HeliusClient.from_settings() as client:
                done = sources.backfill_step(wallet, client, settings.BACKFILL_PAGES_PER_TASK, birdeye)
        finally:
            if birdeye is not None:
                birdeye.close()
    if not done:
        wallet.refresh_from_db(fields=["backfill_retry_at"])
        wait = (wallet.backfill_retry_at - timezone.now()).total_seconds() if wallet.backfill_retry_at else 0
        backfill_wallet.apply_async((wallet_id,), countdown=max(0, wait))
    return done


@shared_task(soft_time_limit=20, time_limit=30)
def resume_backfills() -> int:
    """Beat: start backfills still pending, and resume running ones whose chain broke (worker restart)."""
    resumed = 0
    for wallet in TrackedWallet.objects.filter(is_active=True, backfill_state=BackfillState.PENDING):
        restart_backfill(wallet)
        resumed += 1
    running = TrackedWallet.objects.filter(is_active=True, backfill_state=BackfillState.RUNNING)
    # One waiting out a failure has its retry queued already (with a countdown): not before its time.
    running = running.exclude(backfill_retry_at__gt=timezone.now())
    for wallet_id in running.values_list("id", flat=True):
        if cache.get(f"lock:backfill:{wallet_id}") is None:
            backfill_wallet.delay(wallet_id)
            resumed += 1
    return resumed


@shared_task(
    soft_time_limit=50,
    time_limit=60,
    autoretry_for=(HeliusError,),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=8,
)
def sync_helius_webhook() -> str:
    """Make the Helius webhook watch the active wallets; retried with backoff while Helius is unreachable.
    Without HELIUS_API_KEY there is no webhook to keep: nothing is asked."""
    if not settings.HELIUS_API_KEY:
        return ""
    with HeliusClient.from_settings() as client:
        result = sources.sync_webhook(client)
    for address, why in result.refused:
        logger.warning("helius webhook: refused %r: %s", address, why)
    return result.webhook_id


@shared_task(soft_time_limit=25, time_limit=30, **RETRY_WHEN_THE_DATABASE_FAILS)
def refresh_prices() -> int:
    with single_flight("refresh_prices", 30) as mine:
        if not mine:
            return 0
        sources = market_prices.PriceSources.from_settings()
        try:
            return market_prices.refresh_prices(sources)
        finally:
            sources.close()


@shared_task(soft_time_limit=25, time_limit=30, **RETRY_WHEN_THE_DATABASE_FAILS)
def price_tokens(mints: list[str]) -> int:
    """A first price for tokens new to the books (the beat's tick reprices them after)."""
    sources = market_prices.PriceSources.from_settings()
    try:
        return market_prices.refresh_prices(sources, mints)
    finally:
        sources.close()


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def book_trades(swap_ids: list[int], transfer_ids: list[int]) -> int:
    """Book a webhook delivery's trades, off the web process (so the next delivery is not slowed)."""
    if booking.booked_here(swap_ids, transfer_ids):
        return len(swap_ids) + len(transfer_ids)
    swaps = list(Swap.objects.filter(id__in=swap_ids))
    transfers = list(TokenTransfer.objects.filter(id__in=transfer_ids))
    booking.book_trades(swaps, transfers)
    return len(swaps) + len(transfers)


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def book_stragglers() -> int:
    """Beat: trades stored but never booked (a process died in between) get their positions replayed."""
    return booking.book_stragglers()


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def refresh_all_stats() -> int:
    """Beat: windows roll (a 24 h figure changes with no new swap): every wallet's figures move to now."""
    return booking.roll_all_stats()


@shared_task(soft_time_limit=1700, time_limit=1800, **RETRY_WHEN_THE_DATABASE_FAILS)
def reconcile_all_stats() -> int:
    """Beat: every wallet's running sums against a full aggregate; a difference is logged and mended."""
    return booking.reconcile_all_stats()


@shared_task(soft_time_limit=50, time_limit=60, **RETRY_WHEN_THE_DATABASE_FAILS)
def refresh_token_metadata(mints: list[str]) -> int:
    return metadata.refresh_token_metadata(mints)


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def name_unnamed_tokens() -> int:
    """Beat: tokens whose metadata lookup failed or was lost get another one."""
    with single_flight("name_unnamed_tokens", 120) as mine:
        return metadata.name_unnamed_tokens() if mine else 0


@shared_task(soft_time_limit=100, time_limit=120, **RETRY_WHEN_THE_DATABASE_FAILS)
def value_swaps() -> int:
    with single_flight("value_swaps", 120) as mine:
        return valuation.value_unvalued_swaps() if mine else 0


@shared_task(soft_time_limit=20, time_limit=30)
def push_unpushed_swaps() -> int:
    """Beat: live swaps stored while pushes failed (Redis down) reach the open pages once it is back."""
    with single_flight("push_unpushed_swaps", 30) as mine:
        return live.push_unpushed_swaps() if mine else 0


@worker_ready.connect
def sync_webhook_when_a_worker_starts(**kwargs: Any) -> None:
    """Wallets may have changed while no worker ran; a sync that finds nothing to change costs no credits."""
    if settings.HELIUS_API_KEY and settings.HELIUS_WEBHOOK_SECRET:
        queue.enqueue("sync_helius_webhook")
