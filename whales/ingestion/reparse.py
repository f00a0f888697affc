"""Rebuild stored swaps and transfers from their raw transactions with the current parser."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from whales.books import ledger
from whales.ingestion.ingest import read_activity, swap_row, tokens_for, transfer_row
from whales.market.valuation import price_incoming, quote_usd_rates
from whales.models import RawTransaction, Swap, TokenTransfer, TrackedWallet


@dataclass
class ReparseResult:
    transactions: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unreadable: list[str] = field(default_factory=list)
    changed_pairs: set[tuple[int, int]] = field(default_factory=set)  # (wallet id, token id) to replay


_REPARSED_FIELDS = [
    "side",
    "token_amount",
    "quote_mint",
    "quote_amount",
    "price_in_quote",
    "usd_price",
    "usd_value",
    "block_time",
    "slot",
    "source",
    "position",
]


_REPARSED_TRANSFER_FIELDS = ["direction", "amount", "block_time", "slot", "source"]


def reparse(raw: Iterable[RawTransaction], result: ReparseResult | None = None) -> ReparseResult:
    """Rebuild the swaps and transfers of the stored raw transactions `raw` with the current parser.

    Rows the parser now finds are added, changed ones updated in place (their id, arrival path and
    ingest time kept), and ones it no longer finds deleted. Every tracked wallet counts, active or
    not: this repairs history. Run it in batches; each batch is one transaction. The positions it
    touched are listed in `result.changed_pairs` for `positions_rewritten`.
    """
    result = result or ReparseResult()
    batch = list(raw)
    result.transactions += len(batch)
    wallets, swaps, transfers, problems = read_activity([r.payload for r in batch], TrackedWallet.objects.all())
    result.unreadable += [f"{signature}: {why}" for signature, why in problems.items()]
    # The rows of a transaction the parser now refuses are left as they are.
    arrived = {r.signature: r.arrived_via for r in batch if r.signature not in problems}
    with transaction.atomic():
        # Same lock order as ingest, so a delivery of one of these transactions waits for us.
        ledger.lock_wallets(wallet.id for wallet in wallets.values())
        tokens = tokens_for([swap for swap, _ in swaps], transfers)
        rates = quote_usd_rates([swap for swap, _ in swaps])
        now = timezone.now()
        wanted_swaps = {}
        for swap, position in swaps:
            wallet_id, token_id = wallets[swap.wallet].id, tokens[swap.token_mint].id
            rate = rates.get((swap.quote_mint, swap.block_time))
            wanted_swaps[(swap.signature, wallet_id, token_id)] = swap_row(
                swap, position, wallet_id, token_id, rate, arrived[swap.signature], now
            )
        wanted_transfers = {}
        for transfer in transfers:
            wallet_id, token_id = wallets[transfer.wallet].id, tokens[transfer.token_mint].id
            wanted_transfers[(transfer.signature, wallet_id, token_id)] = transfer_row(
                transfer, wallet_id, token_id, arrived[transfer.signature], now
            )
        price_incoming(list(wanted_transfers.values()))
        for model, wanted, fields in (
            (Swap, wanted_swaps, _REPARSED_FIELDS),
            (TokenTransfer, wanted_transfers, _REPARSED_TRANSFER_FIELDS),
        ):
            _reconcile(model, wanted, fields, arrived.keys(), result)
    return result


def _reconcile(model, wanted: dict, fields: list[str], signatures, result: ReparseResult) -> None:
    """Make `model`'s rows of these signatures exactly `wanted` (keyed by signature, wallet, token)."""
    stored = {
        (row.signature, row.wallet_id, row.token_id): row
        for row in model.objects.select_for_update().filter(signature__in=signatures)
    }
    created = [row for key, row in wanted.items() if key not in stored]
    model.objects.bulk_create(created)
    updated = []
    for key, row in wanted.items():
        old = stored.get(key)
        if old is not None and any(getattr(old, f) != getattr(row, f) for f in fields):
            for name in fields:
                setattr(old, name, getattr(row, name))
            updated.append(old)
    model.objects.bulk_update(updated, fields)
    gone = [row for key, row in stored.items() if key not in wanted]
    model.objects.filter(id__in=[row.id for row in gone]).delete()
    result.created += len(created)
    result.updated += len(updated)
    result.deleted += len(gone)
    result.changed_pairs |= {(row.wallet_id, row.token_id) for row in [*created, *updated, *gone]}
