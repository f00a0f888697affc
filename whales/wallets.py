"""Tracking wallets: import them (the admin's CSV, the demo), (de)activate them, restart a backfill."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from whales import queue
from whales.books import ledger
from whales.books.stats import refresh_stats
from whales.ingestion.sources import start_backfill
from whales.live import push_leaderboard_tick
from whales.models import TrackedWallet, WalletStats
from whales.sanitise import clean_text
from whales.solana import InvalidAddress, validate_solana_address


@dataclass
class ImportRow:
    """One CSV row's outcome: `status` is "added", "updated", "duplicate" or "error"."""

    line: int
    address: str
    status: str
    message: str = ""


def import_wallets(rows: Iterable[tuple[int, dict[str, str]]], added_by: Any = None) -> list[ImportRow]:
    """Track the wallets of `rows` ((line, {"address", "label", "tags"})): invalid ones refused with a reason.

    An address already tracked has its label and tags updated; the same address twice in the
    file counts once. New wallets start their backfill after commit.
    """
    outcomes: list[ImportRow] = []
    seen: set[str] = set()
    created: list[TrackedWallet] = []
    with transaction.atomic():
        for line, row in rows:
            address = row.get("address") or ""
            try:
                validate_solana_address(address)
            except InvalidAddress as error:
                outcomes.append(ImportRow(line, address, "error", str(error)))
                continue
            if address in seen:
                outcomes.append(ImportRow(line, address, "duplicate", "already earlier in this file"))
                continue
            seen.add(address)
            tags_text = clean_text(row.get("tags") or "")
            tags = sorted({tag.strip()[:40] for tag in tags_text.replace(";", ",").split(",") if tag.strip()})
            label = clean_text(row.get("label") or "").strip()[:100]
            wallet, was_created = TrackedWallet.objects.get_or_create(
                address=address, defaults={"label": label, "tags": tags, "added_by": added_by}
            )
            if was_created:
                created.append(wallet)
                outcomes.append(ImportRow(line, address, "added"))
            else:
                wallet.label, wallet.tags = label or wallet.label, sorted(set(wallet.tags) | set(tags))
                wallet.save(update_fields=["label", "tags"])
                outcomes.append(ImportRow(line, address, "updated", "already tracked: label and tags updated"))
        if created:
            transaction.on_commit(lambda: wallets_added(created))
    return outcomes


def wallets_added(wallets: Sequence[TrackedWallet]) -> None:
    """New wallets: list them on the leaderboard at once (figures "loading…" until their history is
    in), backfill their history and add them to the Helius webhook."""
    # The webhook first: queued behind the backfills (minutes of work for many wallets), it left
    # the wallets' live trades unheard until then, found later by polls.
    queue.enqueue("sync_helius_webhook")
    with transaction.atomic():
        refresh_stats([wallet.id for wallet in ledger.lock_wallets(wallet.id for wallet in wallets)])
    push_leaderboard_tick()
    for wallet in wallets:
        restart_backfill(wallet)


def set_active(wallet_ids: Iterable[int], active: bool) -> int:
    """Activate or deactivate wallets; the webhook follows after commit. Returns how many changed."""

    ids = list(wallet_ids)
    with transaction.atomic():
        ledger.lock_wallets(ids)
        changed = TrackedWallet.objects.filter(id__in=ids).exclude(is_active=active)
        count = changed.update(is_active=active, next_poll_at=None)
        if count:
            wallet_activity_changed(ids)
    return count


def wallet_activity_changed(wallet_ids: Sequence[int]) -> None:
    """Wallets were (de)activated: the leaderboard's copy of the flag follows, and so does the webhook."""
    for active in (True, False):
        WalletStats.objects.filter(wallet_id__in=wallet_ids, wallet__is_active=active).update(wallet_active=active)
    transaction.on_commit(lambda: queue.enqueue("sync_helius_webhook"))


def restart_backfill(wallet: TrackedWallet) -> None:
    """(Re)start `wallet`'s backfill from its newest transaction and queue its first slice."""
    start_backfill(wallet)
    queue.enqueue("backfill_wallet", wallet.id)
