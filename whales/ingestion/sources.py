"""Where transactions come from besides the webhook's deliveries: polls (the safety net, budgeted in
Helius credits), backfills (a wallet's history, a bounded slice at a time), and keeping the Helius
webhook watching exactly the active wallets. Everything found goes through `ingest`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis as redis_lib
from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from providers.birdeye import BirdeyeClient
from providers.helius import HeliusClient, HeliusError
from whales.ingestion.ingest import block_time_of, ingest
from whales.market.valuation import prepare_valuation
from whales.models import ArrivedVia, BackfillState, TrackedWallet
from whales.solana import InvalidAddress, validate_solana_address

logger = logging.getLogger(__name__)


# A poll pages back to the previous poll's time less this (Helius may index a transaction late).
POLL_OVERLAP = timedelta(hours=1)


def poll_interval(wallet: TrackedWallet, now: datetime, stretch: float = 1.0) -> timedelta:
    """How long until `wallet` is due again: sooner when it traded recently, stretched to fit the credit budget."""
    active = wallet.is_recently_active(now, timedelta(hours=settings.POLL_ACTIVE_WITHIN_HOURS))
    seconds = settings.POLL_ACTIVE_SECONDS if active else settings.POLL_DORMANT_SECONDS
    return timedelta(seconds=seconds * stretch)


CREDITS_PER_POLL = 100  # one enhanced-transaction history page


@dataclass(frozen=True)
class PollPlan:
    """What polling costs a day at the configured cadence (one history page a poll), and the factor
    (≥ 1) by which intervals stretch so that it stays within POLL_CREDITS_PER_DAY (0: no budget)."""

    active_wallets: int
    dormant_wallets: int
    budget: int
    configured_credits: int

    @property
    def stretch(self) -> float:
        if self.budget <= 0 or self.configured_credits <= self.budget:
            return 1.0
        return self.configured_credits / self.budget

    @property
    def credits(self) -> int:
        """Credits a day at the stretched cadence."""
        return round(self.configured_credits / self.stretch)

    @property
    def configured_active_every(self) -> timedelta:
        return timedelta(seconds=settings.POLL_ACTIVE_SECONDS)

    @property
    def configured_dormant_every(self) -> timedelta:
        return timedelta(seconds=settings.POLL_DORMANT_SECONDS)

    @property
    def active_every(self) -> timedelta:
        return timedelta(seconds=settings.POLL_ACTIVE_SECONDS * self.stretch)

    @property
    def dormant_every(self) -> timedelta:
        return timedelta(seconds=settings.POLL_DORMANT_SECONDS * self.stretch)


def poll_plan(now: datetime | None = None) -> PollPlan:
    now = now or timezone.now()
    recent = now - timedelta(hours=settings.POLL_ACTIVE_WITHIN_HOURS)
    counts = TrackedWallet.objects.filter(is_active=True).aggregate(
        all=Count("id"), active=Count("id", filter=Q(last_swap_at__gte=recent))
    )
    active, dormant = counts["active"], counts["all"] - counts["active"]
    polls = active * 86_400 / settings.POLL_ACTIVE_SECONDS + dormant * 86_400 / settings.POLL_DORMANT_SECONDS
    return PollPlan(active, dormant, settings.POLL_CREDITS_PER_DAY, int(polls * CREDITS_PER_POLL))


def poll_budget_stretch(now: datetime | None = None) -> float:
    """Factor (≥ 1) by which poll intervals grow so that polling stays within POLL_CREDITS_PER_DAY."""
    return poll_plan(now).stretch


def claim_due_wallets(limit: int = 100, now: datetime | None = None) -> list[int]:
    """Ids of active wallets due for a poll, each claimed (its next poll pushed back) so no other beat tick takes it."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=max(settings.POLL_ACTIVE_SECONDS, 60))
    due = (
        TrackedWallet.objects.filter(is_active=True)
        .filter(Q(next_poll_at__lte=now) | Q(next_poll_at=None))
        .order_by("next_poll_at")
        .values_list("id", "next_poll_at")[:limit]
    )
    claimed = []
    for wallet_id, next_poll_at in due:
        if TrackedWallet.objects.filter(id=wallet_id, next_poll_at=next_poll_at).update(next_poll_at=lease):
            claimed.append(wallet_id)
    return claimed


def poll_wallet(wallet: TrackedWallet, client: HeliusClient, birdeye: BirdeyeClient | None = None) -> int:
    """Fetch and ingest what `wallet` did since its newest seen signature; returns the number of new swaps.

    Pages are ingested (committed) as they arrive, newest first; the newest-seen cursor moves only
    once every page down to the old cursor is in, so a poll killed half-way is simply redone.
    A wallet never seen before gets only its newest page: its history is the backfill's job.
    Paging also stops below the last successful poll's time (less `POLL_OVERLAP`): what is older
    was seen then, even when Helius no longer lists the cursor.
    """
    now = timezone.now()
    newest_before = wallet.newest_signature or None
    seen_until = wallet.last_polled_at - POLL_OVERLAP if wallet.last_polled_at else None
    new_swaps = 0
    newest_seen: str | None = None
    try:
        for page in client.iter_address_history(wallet.address, until_signature=newest_before):
            newest_seen = newest_seen or page[0]["signature"]
            prepare_valuation(page, birdeye)
            # A wallet's first page is its past (its history is the backfill's job), not news.
            new_swaps += len(ingest(page, ArrivedVia.POLL, news=newest_before is not None).new_swaps)
            if newest_before is None:
                break
            if seen_until is not None and _oldest_time(page) < seen_until.timestamp():
                logger.warning("wallet %s: poll stopped at the last poll's time, cursor not found", wallet.address)
                break
    except HeliusError as error:
        retry_in = timedelta(seconds=settings.POLL_ACTIVE_SECONDS * poll_budget_stretch(now))  # within budget too
        _record_error(wallet, f"poll: {error}", next_poll_in=retry_in)
        return new_swaps
    wallet.refresh_from_db(fields=["last_swap_at"])
    fields: dict[str, Any] = {
        "last_polled_at": now,
        "next_poll_at": now + poll_interval(wallet, now, poll_budget_stretch(now)),
        "last_error": "",
        "last_error_at": None,
    }
    if newest_seen:
        fields["newest_signature"] = newest_seen
    TrackedWallet.objects.filter(id=wallet.id).update(**fields)
    return new_swaps


def _oldest_time(page: Sequence[Any]) -> float:
    """The earliest block time (unix seconds) in a page of enhanced transactions; +inf when none has one."""
    times = [tx["timestamp"] for tx in page if isinstance(tx, dict) and isinstance(tx.get("timestamp"), int | float)]
    return min(times, default=float("inf"))


def _clear_error(wallet: TrackedWallet, prefix: str) -> None:
    """Forget the wallet's last error if it came from this kind of call (a later success answers it)."""
    TrackedWallet.objects.filter(id=wallet.id, last_error__startswith=prefix).update(last_error="", last_error_at=None)


def _record_error(wallet: TrackedWallet, message: str, *, next_poll_in: timedelta | None = None) -> None:
    logger.warning("wallet %s: %s", wallet.address, message)
    fields: dict[str, Any] = {"last_error": message[:2000], "last_error_at": timezone.now()}
    if next_poll_in is not None:
        fields["next_poll_at"] = timezone.now() + next_poll_in
    TrackedWallet.objects.filter(id=wallet.id).update(**fields)


def start_backfill(wallet: TrackedWallet, days: int | None = None) -> None:
    """(Re)start `wallet`'s backfill from its newest transaction back `days` (BACKFILL_DAYS) days."""
    now = timezone.now()
    days = settings.BACKFILL_DAYS if days is None else days
    TrackedWallet.objects.filter(id=wallet.id).update(
        backfill_state=BackfillState.RUNNING,
        backfill_failures=0,
        backfill_retry_at=None,
        backfill_cursor="",
        backfill_until=now - timedelta(days=days),
        backfill_reached=None,
        backfill_transactions=0,
        backfill_started_at=now,
        backfill_finished_at=None,
    )


def backfill_step(
    wallet: TrackedWallet, client: HeliusClient, max_pages: int, birdeye: BirdeyeClient | None = None
) -> bool:
    """Ingest up to `max_pages` more pages of `wallet`'s history; True when the backfill is complete.

    Resumes from `backfill_cursor`. Each page and the cursor move commit together.
    """
    if wallet.backfill_state != BackfillState.RUNNING or wallet.backfill_until is None:
        return True
    pages = client.iter_address_history(
        wallet.address,
        before=wallet.backfill_cursor or None,
        not_before_time=int(wallet.backfill_until.timestamp()),
    )
    transactions_done = wallet.backfill_transactions
    try:
        for count, page in enumerate(pages, start=1):
            transactions_done += len(page)
            state: dict[str, Any] = {
                "backfill_cursor": page[-1]["signature"],
                "backfill_transactions": transactions_done,
                "backfill_reached": block_time_of(page[-1]) or wallet.backfill_reached,
                "backfill_failures": 0,
                "backfill_retry_at": None,
            }
            if wallet.backfill_failures:
                _clear_error(wallet, "backfill:")
                wallet.backfill_failures = 0
            if not wallet.backfill_cursor and not wallet.newest_signature:
                # The first page of a new wallet: polling takes over from its newest transaction.
                state["newest_signature"] = page[0]["signature"]
                wallet.newest_signature = page[0]["signature"]
            wallet.backfill_cursor = state["backfill_cursor"]
            prepare_valuation(page, birdeye)
            ingest(page, ArrivedVia.BACKFILL, wallet_state={wallet.id: state})
            if count >= max_pages:
                return False
    except HeliusError as error:
        if not error.transient:
            _record_error(wallet, f"backfill: {error}")
            TrackedWallet.objects.filter(id=wallet.id).update(backfill_state=BackfillState.FAILED)
            return True
        failures = wallet.backfill_failures + 1
        delay = backfill_retry_delay(failures)
        _record_error(wallet, f"backfill: {error} (attempt {failures}; next in {int(delay.total_seconds())} s)")
        TrackedWallet.objects.filter(id=wallet.id).update(
            backfill_failures=failures, backfill_retry_at=timezone.now() + delay
        )
        return False
    TrackedWallet.objects.filter(id=wallet.id).update(
        backfill_state=BackfillState.DONE,
        backfill_finished_at=timezone.now(),
        backfill_failures=0,
        backfill_retry_at=None,
    )
    _clear_error(wallet, "backfill:")
    return True


BACKFILL_RETRY_FIRST = timedelta(seconds=30)


BACKFILL_RETRY_MAX = timedelta(minutes=30)


def backfill_retry_delay(failures: int) -> timedelta:
    """How long a backfill waits after its `failures`-th failure in a row: 30 s, doubling, at most 30 min."""
    return min(BACKFILL_RETRY_FIRST * 2 ** max(0, failures - 1), BACKFILL_RETRY_MAX)


@dataclass
class WebhookSync:
    webhook_id: str
    addresses: int
    refused: list[tuple[str, str]]  # (address, why)


# Syncs wait for each other (a Redis lock): two at once (a worker's own at its start, and new
# wallets') both found no webhook and both created one, and Helius then delivered everything twice.
WEBHOOK_SYNC_LOCK = "aura:lock:helius-webhook-sync"


WEBHOOK_SYNC_LOCK_SECONDS = 45


def sync_webhook(client: HeliusClient) -> WebhookSync:
    """Make our one Helius webhook watch exactly the active wallets; refuse (and report) invalid addresses.
    One sync at a time: a second one waits, then finds the webhook the first made."""
    redis = redis_lib.Redis.from_url(settings.REDIS_URL)
    try:
        with redis.lock(
            WEBHOOK_SYNC_LOCK, timeout=WEBHOOK_SYNC_LOCK_SECONDS, blocking_timeout=WEBHOOK_SYNC_LOCK_SECONDS
        ):
            return _sync_webhook(client)
    finally:
        redis.close()


def _sync_webhook(client: HeliusClient) -> WebhookSync:
    addresses, refused = [], []
    for wallet_id, address in TrackedWallet.objects.filter(is_active=True).values_list("id", "address"):
        try:
            addresses.append(validate_solana_address(address))
        except InvalidAddress as error:
            refused.append((address, str(error)))
            TrackedWallet.objects.filter(id=wallet_id).update(
                last_error=f"not sent to the Helius webhook: {error}", last_error_at=timezone.now()
            )
    webhook = client.sync_webhook(settings.HELIUS_WEBHOOK_URL, addresses, settings.HELIUS_WEBHOOK_SECRET)
    return WebhookSync(str(webhook.get("webhookID", "")), len(addresses), refused)
