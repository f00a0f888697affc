"""`ingest`: the one door for transactions, whichever way they arrived (webhook, poll, backfill,
reparse). It stores the raw payload and the swaps and transfers of tracked wallets, moves the
wallets' state in the same database transaction, and only after commit notifies the rest (the
books, browsers, metadata lookups).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, router, transaction
from django.db.models import CharField, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from aura.prepared import BindAny, Prepared
from whales import queue
from whales.books.booking import book_trades
from whales.ingestion.parsing import MalformedTransaction, ParsedSwap, ParsedTransfer, accounts_involved, parse_activity
from whales.live import arrives_live, push_live_swaps
from whales.market.valuation import price_incoming, quote_usd_rates, swap_usd
from whales.models import (
    AMOUNT,
    PRICE,
    ArrivedVia,
    Quarantined,
    RawTransaction,
    Swap,
    Token,
    TokenTransfer,
    TrackedWallet,
    round_amount,
    round_price,
)
from whales.quarantine import DATA_ERRORS, error_line, quarantine
from whales.sanitise import Columns, clean_json, unstorable

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What one `ingest` call did. `rejected` holds one line per item that could not be read or
    stored; `quarantined` the signatures of those kept aside (`Quarantined`) for a person to look at."""

    received: int = 0
    new_transactions: int = 0
    new_swaps: list[Swap] = field(default_factory=list)
    new_transfers: list[TokenTransfer] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)

    def book(self) -> None:
        """Book the new swaps and transfers (what `ingest` does unless told `book=False`)."""
        if self.new_swaps or self.new_transfers:
            book_trades(self.new_swaps, self.new_transfers)

    def book_in_worker(self, *, queue_in_background: bool = False) -> None:
        """Have a Celery worker book the new trades; should the queue be down, the straggler sweep will.
        `queue_in_background`: the message goes out from the background thread (`queue.in_background`)."""
        if self.new_swaps or self.new_transfers:
            args = ("book_trades", [s.id for s in self.new_swaps], [t.id for t in self.new_transfers])
            if queue_in_background:
                queue.in_background(queue.enqueue, *args)
            else:
                queue.enqueue(*args)

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "new_transactions": self.new_transactions,
            "new_swaps": len(self.new_swaps),
            "new_transfers": len(self.new_transfers),
            "quarantined": len(self.quarantined),
            "rejected": self.rejected,
        }


_COLUMNS = Columns(
    amount_digits=AMOUNT["max_digits"],
    amount_places=AMOUNT["decimal_places"],
    price_digits=PRICE["max_digits"],
    price_places=PRICE["decimal_places"],
)


def ingest(
    transactions: Sequence[Any],
    via: str,
    *,
    wallet_state: dict[int, dict[str, Any]] | None = None,
    book: bool = True,
    news: bool = True,
    queue_in_background: bool = False,
) -> IngestResult:
    """Store `transactions` (Helius enhanced transactions) and what tracked wallets did in them:
    swaps, and tokens moved in or out without a trade; then book them (`book_trades`).

    Idempotent: a transaction seen before (by signature) adds no row, whichever path it came by.
    Every string is cleaned first (`whales.sanitise`). A transaction that cannot be read, holds
    values no transaction can (a block time centuries away, an amount beyond u64), or that the
    database refuses is quarantined (`Quarantined`, kept raw with the reason) and reported in
    `rejected`; the rest are stored. `wallet_state` maps a wallet id to field updates (cursors)
    saved in the same database transaction as the swaps, so a cursor never runs ahead of the rows
    it covers — and moves past what was quarantined. With `book=False` the caller has them booked
    (`result.book()` or `result.book_in_worker()`). Swaps that arrive as news (`arrives_live`) go on
    top of the live feeds; with `news=False` none does (what arrives is known to be the past).
    With `queue_in_background` the live swaps are announced to other apps' tasks, and marked pushed
    once their push went out, from the background thread (`queue.in_background`), not the caller's.

    Raises only when the database is unavailable (OperationalError and the like): then nothing is
    stored and the caller tries again.
    """
    result = IngestResult(received=len(transactions))
    readable, originals = _readable(transactions, result)
    wallets, swaps, transfers, problems = read_activity(readable)

    def store(*, at_once: bool) -> None:
        with transaction.atomic():
            stored = _store(readable, swaps, transfers, wallets, problems, via, news, at_once=at_once)
            result.new_transactions = stored.new_transactions
            result.new_swaps, result.new_transfers = stored.new_swaps, stored.new_transfers
            if problems:
                quarantine(
                    Quarantined.Kind.TRANSACTION,
                    [(signature, originals[signature], why) for signature, why in problems.items()],
                    via,
                )
                result.quarantined = list(problems)
                result.rejected += [f"{signature}: {why}" for signature, why in problems.items()]
            _save_wallet_state(wallet_state or {})
            live = [swap for swap in result.new_swaps if swap.live]
            for swap in live:  # what the rows show, already in hand: the push needs no query for it
                swap.wallet, swap.token = stored.locked[swap.wallet_id], stored.tokens_by_id[swap.token_id]
            if live:
                # Alerts first: queueing them is one Redis write, and their worker then runs beside the push.
                live_ids = [swap.id for swap in live]
                if queue_in_background:
                    transaction.on_commit(lambda: queue.in_background(queue.announce_live_swaps, live_ids), robust=True)
                else:
                    transaction.on_commit(lambda: queue.announce_live_swaps(live_ids), robust=True)
                followers = {wallet.id: wallet.follower_ids for wallet in stored.locked.values() if wallet.follower_ids}
                transaction.on_commit(
                    lambda: push_live_swaps(live, followers, mark_in_background=queue_in_background), robust=True
                )

    try:
        store(at_once=True)
    except _BatchRefused as refused:
        logger.warning(
            "ingest (%s): the database refused a batch of %d, storing one by one: %s", via, len(readable), refused
        )
        store(at_once=False)
    if book:
        result.book()
    return result


# The active wallets among some addresses: their id and address only (what reading activity needs).
_ACTIVE_WALLETS = Prepared(
    lambda: TrackedWallet.objects.filter(BindAny("address", "addresses", CharField()), is_active=True).only(
        "id", "address"
    )
)


def read_activity(
    txs: Sequence[dict[str, Any]], tracked: QuerySet[TrackedWallet] | None = None
) -> tuple[dict[str, TrackedWallet], list[tuple[ParsedSwap, int]], list[ParsedTransfer], dict[str, str]]:
    """What the `tracked` wallets (None: the active ones) involved in `txs` did in them: (those wallets
    by address, swaps with their position in the transaction, transfers, and why each transaction that
    cannot be taken could not — by signature). A transaction with a problem contributes nothing."""
    involved = {tx["signature"]: accounts_involved(tx) for tx in txs}
    addresses = set().union(*involved.values()) if involved else set()
    if tracked is None:
        found = _ACTIVE_WALLETS.rows(addresses=sorted(addresses)) if addresses else []
    else:
        found = tracked.filter(address__in=addresses)
    wallets = {w.address: w for w in found}
    swaps: list[tuple[ParsedSwap, int]] = []
    transfers: list[ParsedTransfer] = []
    problems: dict[str, str] = {}
    now = int(time.time())
    for tx in txs:
        signature = tx["signature"]
        tx_swaps: list[tuple[ParsedSwap, int]] = []
        tx_transfers: list[ParsedTransfer] = []
        try:
            for address in sorted(involved[signature] & wallets.keys()):
                found_swaps, found_transfers = parse_activity(tx, address)
                tx_swaps += [(swap, position) for position, swap in enumerate(found_swaps)]
                tx_transfers += found_transfers
        except MalformedTransaction as error:
            problems[signature] = f"unreadable: {error}"
            continue
        why = next(
            filter(None, (unstorable(a, _COLUMNS, now) for a in [*(s for s, _ in tx_swaps), *tx_transfers])), None
        )
        if why is not None:
            problems[signature] = why
            continue
        swaps += tx_swaps
        transfers += tx_transfers
    return wallets, swaps, transfers, problems


def _readable(transactions: Sequence[Any], result: IngestResult) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The items that are enhanced transactions with a signature, each cleaned (`clean_json`) and
    counted once; and, by signature, each as it came (what a quarantine keeps)."""
    readable, originals = [], {}
    for index, tx in enumerate(transactions):
        cleaned = clean_json(tx) if isinstance(tx, dict) else None
        signature = cleaned.get("signature") if cleaned is not None else None
        if not isinstance(signature, str) or not signature or len(signature) > 100:
            result.rejected.append(f"item {index}: not an enhanced transaction with a signature")
            continue
        if signature not in originals:  # the same transaction twice in one body counts once
            originals[signature] = tx
            readable.append(cleaned)
    return readable, originals


class _BatchRefused(Exception):
    """The database refused part of a batch stored at once; its transaction is to be rolled back."""


@dataclass
class _Stored:
    """What `_store` wrote, and what it needs to show it: the locked wallets and the tokens, by id."""

    locked: dict[int, TrackedWallet]
    new_transactions: int = 0
    new_swaps: list[Swap] = field(default_factory=list)
    new_transfers: list[TokenTransfer] = field(default_factory=list)
    tokens_by_id: dict[int, Token] = field(default_factory=dict)

    def add(self, other: _Stored) -> None:
        self.new_transactions += other.new_transactions
        self.new_swaps += other.new_swaps
        self.new_transfers += other.new_transfers
        self.tokens_by_id.update(other.tokens_by_id)


# `ledger.lock_wallets`' lock (FOR NO KEY UPDATE, in id order), reading only what the live rows show
# of the wallets, and the ids of their followers (whose follows groups the push reaches).
_LOCK_WALLETS_TO_SHOW = Prepared(
    lambda: (
        TrackedWallet.objects.select_for_update(no_key=True)
        .filter(BindAny("id", "ids"))
        .order_by("id")
        .only("id", "address", "label")
        .annotate(
            follower_ids=ArraySubquery(
                TrackedWallet.objects.filter(id=OuterRef("id"), followers__isnull=False).values("followers__user_id")
            )
        )
    )
)


def _store(
    txs: Sequence[dict[str, Any]],
    swaps: list[tuple[ParsedSwap, int]],
    transfers: list[ParsedTransfer],
    wallets: dict[str, TrackedWallet],
    problems: dict[str, str],
    via: str,
    news: bool,
    *,
    at_once: bool,
) -> _Stored:
    """Store the raw transactions without a problem and their swaps and transfers, under the lock of
    their wallets. `at_once`: all in the caller's transaction, which is lost should the database
    refuse any of it (`_BatchRefused`: the caller starts again, one by one). Otherwise one transaction
    per savepoint, each it refuses added to `problems`. A savepoint costs two round trips, so a
    delivery that goes in whole (nearly all do) pays for none."""
    # Ingests touching the same wallet queue here, so a webhook and a poll carrying the same
    # transaction cannot both see it missing and insert it twice. Every writer of a wallet's rows
    # takes these locks first, in id order (whales.books.ledger says why).
    wallet_ids = sorted({wallets[a.wallet].id for a in [*(swap for swap, _ in swaps), *transfers]})
    locked = {wallet.id: wallet for wallet in _LOCK_WALLETS_TO_SHOW.rows(ids=wallet_ids)} if wallet_ids else {}
    # A wallet deleted since it was read is tracked no more: its rows would only fail at commit.
    swaps = [(swap, position) for swap, position in swaps if wallets[swap.wallet].id in locked]
    transfers = [transfer for transfer in transfers if wallets[transfer.wallet].id in locked]
    storable = [tx for tx in txs if tx["signature"] not in problems]
    if at_once:
        try:
            return _store_rows(storable, swaps, transfers, wallets, locked, via, news)
        except DATA_ERRORS as error:
            raise _BatchRefused(error_line(error)) from error
    stored = _Stored(locked)
    for tx in storable:
        signature = tx["signature"]
        try:
            with transaction.atomic():
                stored.add(
                    _store_rows(
                        [tx],
                        [(swap, position) for swap, position in swaps if swap.signature == signature],
                        [transfer for transfer in transfers if transfer.signature == signature],
                        wallets,
                        locked,
                        via,
                        news,
                    )
                )
        except DATA_ERRORS as error:
            problems[signature] = f"the database refused it: {error_line(error)}"
    return stored


def _store_rows(
    txs: Sequence[dict[str, Any]],
    swaps: list[tuple[ParsedSwap, int]],
    transfers: list[ParsedTransfer],
    wallets: dict[str, TrackedWallet],
    locked: dict[int, TrackedWallet],
    via: str,
    news: bool,
) -> _Stored:
    tokens = tokens_for([swap for swap, _ in swaps], transfers)
    stored = _Stored(locked, tokens_by_id={token.id: token for token in tokens.values()})
    stored.new_transactions = _store_raw(txs, via)
    stored.new_swaps = _store_swaps(swaps, wallets, tokens, via, news)
    stored.new_transfers = _store_transfers(transfers, wallets, tokens, via)
    return stored


def retry_quarantined(ids: Iterable[int]) -> tuple[int, int]:
    """Ingest quarantined transactions again (after a fix); those now stored leave the quarantine.
    Returns (stored, still quarantined)."""
    stored = kept = 0
    for held in Quarantined.objects.filter(id__in=list(ids), kind=Quarantined.Kind.TRANSACTION):
        try:
            payload = json.loads(held.raw)
        except ValueError:
            kept += 1
            continue
        result = ingest([payload], ArrivedVia.REPARSE)  # history by now: in its place in time, not live
        if result.quarantined:
            kept += 1
        else:
            Quarantined.objects.filter(id=held.id).delete()
            stored += 1
    return stored, kept


def _store_raw(readable: Sequence[dict[str, Any]], via: str) -> int:
    """Store the raw transactions not stored yet; returns how many were new."""
    if not readable:
        return 0
    # In signature order: two ingests inserting the same new transactions wait for each other in
    # one order, never in a circle.
    rows = [
        RawTransaction(signature=tx["signature"], payload=tx, block_time=block_time_of(tx), arrived_via=via)
        for tx in sorted(readable, key=lambda tx: tx["signature"])
    ]
    return len(insert_new(rows, ["signature"]))


_VALUES_PER_STATEMENT = 20_000  # PostgreSQL takes at most 65,535 parameters per statement


def insert_new(rows: Sequence[Model], returning: Sequence[str]) -> list[tuple]:
    """INSERT `rows` (of one model, without primary keys), skipping those a unique constraint already
    holds (ON CONFLICT DO NOTHING): the `returning` fields of the rows inserted. One round trip where
    looking up the stored rows, then `bulk_create`, took two."""
    if not rows:
        return []
    model = type(rows[0])
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    returned = ", ".join(quote(model._meta.get_field(name).column) for name in returning)
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    per_statement = max(1, _VALUES_PER_STATEMENT // len(fields))
    inserted: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row_sql] * len(batch))} "
                f"ON CONFLICT DO NOTHING RETURNING {returned}",
                [field.get_db_prep_save(field.pre_save(row, True), connection) for row in batch for field in fields],
            )
            inserted += cursor.fetchall()
    return inserted


def _store_swaps(
    parsed: list[tuple[ParsedSwap, int]],
    wallets: dict[str, TrackedWallet],
    tokens: dict[str, Token],
    via: str,
    news: bool,
) -> list[Swap]:
    """New swaps (the wallets are locked by the caller), priced in USD where we can."""
    if not parsed:
        return []
    existing: set[tuple[str, int, int]] = set()  # in this batch; those stored before, the insert skips
    usd_rates = quote_usd_rates([swap for swap, _ in parsed])
    now = timezone.now()
    new: list[Swap] = []
    for swap, position in parsed:
        wallet_id, token_id = wallets[swap.wallet].id, tokens[swap.token_mint].id
        key = (swap.signature, wallet_id, token_id)
        if key not in existing:
            existing.add(key)
            rate = usd_rates.get((swap.quote_mint, swap.block_time))
            row = swap_row(swap, position, wallet_id, token_id, rate, via, now)
            row.live = news and arrives_live(via, row.block_time, now)
            new.append(row)
    ids = {
        (signature, wallet_id, token_id): swap_id
        for swap_id, signature, wallet_id, token_id in insert_new(new, ["id", "signature", "wallet", "token"])
    }
    new = [swap for swap in new if (swap.signature, swap.wallet_id, swap.token_id) in ids]
    for swap in new:
        swap.id = ids[swap.signature, swap.wallet_id, swap.token_id]
        swap._state.adding, swap._state.db = False, router.db_for_write(Swap)
    for wallet_id in sorted({s.wallet_id for s in new}):
        newest = max(s.block_time for s in new if s.wallet_id == wallet_id)
        older = Q(last_swap_at=None) | Q(last_swap_at__lt=newest)
        TrackedWallet.objects.filter(older, id=wallet_id).update(last_swap_at=newest)
    return new


def swap_row(
    swap: ParsedSwap, position: int, wallet_id: int, token_id: int, usd_rate: Decimal | None, via: str, now: datetime
) -> Swap:
    """An unsaved Swap for `swap`; amounts rounded to the columns' precision here, so what P&L
    computes from the object in memory equals what a later recompute reads back from the table."""
    usd_price, usd_value = (None, None) if usd_rate is None else swap_usd(swap.price, swap.quote_amount, usd_rate)
    return Swap(
        wallet_id=wallet_id,
        token_id=token_id,
        signature=swap.signature,
        side=swap.side,
        token_amount=round_amount(swap.token_amount),
        quote_mint=swap.quote_mint,
        quote_amount=round_amount(swap.quote_amount),
        price_in_quote=round_price(swap.price),
        usd_price=usd_price,
        usd_value=usd_value,
        block_time=datetime.fromtimestamp(swap.block_time, UTC),
        slot=swap.slot,
        source=swap.source[:40],
        position=position,
        arrived_via=via,
        ingested_at=now,
    )


def _store_transfers(
    parsed: list[ParsedTransfer], wallets: dict[str, TrackedWallet], tokens: dict[str, Token], via: str
) -> list[TokenTransfer]:
    """New transfers (the wallets are locked by the caller); incoming ones priced where we can."""
    if not parsed:
        return []
    existing = set(
        TokenTransfer.objects.filter(signature__in={t.signature for t in parsed}).values_list(
            "signature", "wallet_id", "token_id"
        )
    )
    now = timezone.now()
    new: list[TokenTransfer] = []
    for transfer in parsed:
        wallet_id, token_id = wallets[transfer.wallet].id, tokens[transfer.token_mint].id
        if (transfer.signature, wallet_id, token_id) in existing:
            continue
        existing.add((transfer.signature, wallet_id, token_id))
        new.append(transfer_row(transfer, wallet_id, token_id, via, now))
    price_incoming(new)
    TokenTransfer.objects.bulk_create(new)
    return new


def transfer_row(transfer: ParsedTransfer, wallet_id: int, token_id: int, via: str, now: datetime) -> TokenTransfer:
    """An unsaved TokenTransfer for `transfer`, its amount rounded to the column's precision."""
    return TokenTransfer(
        wallet_id=wallet_id,
        token_id=token_id,
        signature=transfer.signature,
        direction=transfer.direction,
        amount=round_amount(transfer.token_amount),
        block_time=datetime.fromtimestamp(transfer.block_time, UTC),
        slot=transfer.slot,
        source=transfer.source[:40],
        arrived_via=via,
        ingested_at=now,
    )


_TOKENS = Prepared(lambda: Token.objects.filter(BindAny("mint", "mints", CharField())))


def tokens_for(swaps: Sequence[ParsedSwap], transfers: Sequence[ParsedTransfer] = ()) -> dict[str, Token]:
    """The tokens of these swaps and transfers by mint, those never seen created (with their decimals)."""
    decimals = {activity.token_mint: activity.token_decimals for activity in [*swaps, *transfers]}
    mints = sorted(decimals)  # new rows and their locks always taken in one order: no circular waits
    if not mints:
        return {}
    # Most trades are of known tokens: read first, and insert (then read) only the new ones.
    tokens = {token.mint: token for token in _TOKENS.rows(mints=mints)}
    if new := [mint for mint in mints if mint not in tokens]:
        Token.objects.bulk_create([Token(mint=mint, decimals=decimals[mint]) for mint in new], ignore_conflicts=True)
        tokens |= {token.mint: token for token in _TOKENS.rows(mints=new)}
    for mint in mints:
        if tokens[mint].decimals is None:
            Token.objects.filter(id=tokens[mint].id, decimals=None).update(decimals=decimals[mint])
    return tokens


def _save_wallet_state(wallet_state: dict[int, dict[str, Any]]) -> None:
    for wallet_id, fields in wallet_state.items():
        TrackedWallet.objects.filter(id=wallet_id).update(**fields)


def block_time_of(tx: dict[str, Any]) -> datetime | None:
    timestamp = tx.get("timestamp")
    if isinstance(timestamp, int) and not isinstance(timestamp, bool) and 0 <= timestamp < 2**33:
        return datetime.fromtimestamp(timestamp, UTC)
    return None
