"""Every write to wallets, tokens and swaps that spans models or reaches browsers goes through here.

Views, tasks, admin actions and commands are thin adapters over these functions. `ingest` is the
one door for transactions, whichever way they arrived (webhook, poll, backfill, reparse): it stores
the raw payload, the swaps, moves the wallet's state in the same database transaction, and only
after commit notifies the rest (P&L refresh, browsers, metadata lookups).
"""

from __future__ import annotations

import json
import logging
import time
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

import redis as redis_lib
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from aura import realtime, stream
from aura.http import ProviderError
from portfolios.models import Follow
from whales import events, fragments, ledger
from whales.addresses import InvalidAddress, validate_solana_address
from whales.birdeye import BirdeyeClient
from whales.helius import HeliusClient, HeliusError
from whales.models import (
    AMOUNT,
    PRICE,
    USD,
    ArrivedVia,
    BackfillState,
    Direction,
    Position,
    Quarantined,
    RawTransaction,
    Swap,
    Token,
    TokenPrice,
    TokenTransfer,
    TrackedWallet,
    WalletStats,
    Window,
)
from whales.parsing import (
    USDC_MINT,
    USDT_MINT,
    WSOL_MINT,
    MalformedTransaction,
    ParsedSwap,
    ParsedTransfer,
    accounts_involved,
    parse_activity,
)
from whales.prices import PriceSources, current_prices
from whales.sanitise import Columns, clean_json, clean_text, raw_text, unstorable

logger = logging.getLogger(__name__)

STABLECOINS = {USDC_MINT, USDT_MINT}  # valued 1:1 in USD (README, data notes)
# A SOL/USD point this close to a swap's block time values it; further away, the swap waits for
# a historical price from Birdeye (whales.tasks.value_swaps).
SOL_PRICE_TOLERANCE = timedelta(minutes=10)
# A poll pages back to the previous poll's time less this (Helius may index a transaction late).
POLL_OVERLAP = timedelta(hours=1)


def _quantizer(spec: dict[str, int]) -> Decimal:
    return Decimal(1).scaleb(-spec["decimal_places"])


_AMOUNT_STEP, _PRICE_STEP, _USD_STEP = _quantizer(AMOUNT), _quantizer(PRICE), _quantizer(USD)
# Rounding to a column's places needs room for all its digits: 40 of them for an amount of ten
# billion BONK, where the default context (28) would raise InvalidOperation.
_WIDE = Context(prec=100)


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

    def book_in_worker(self) -> None:
        """Have a Celery worker book the new trades; should the queue be down, the straggler sweep will."""
        from whales import tasks

        if self.new_swaps or self.new_transfers:
            tasks.enqueue(tasks.book_trades, [s.id for s in self.new_swaps], [t.id for t in self.new_transfers])

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "new_transactions": self.new_transactions,
            "new_swaps": len(self.new_swaps),
            "new_transfers": len(self.new_transfers),
            "quarantined": len(self.quarantined),
            "rejected": self.rejected,
        }


# --- ingest ----------------------------------------------------------------------------------------

# What the database refusing one transaction's rows looks like (as opposed to the database being
# unavailable, OperationalError, which fails the whole call so that it is retried).
DATA_ERRORS = (DataError, IntegrityError, ValueError, ArithmeticError)
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

    Raises only when the database is unavailable (OperationalError and the like): then nothing is
    stored and the caller tries again.
    """
    result = IngestResult(received=len(transactions))
    readable, originals = _readable(transactions, result)
    wallets, swaps, transfers, problems = _read_activity(readable, TrackedWallet.objects.filter(is_active=True))

    with transaction.atomic():
        stored = _store(readable, swaps, transfers, wallets, problems, via, news)
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
            transaction.on_commit(lambda: push_live_swaps(live), robust=True)
    if book:
        result.book()
    return result


def book_trades(swaps: Sequence[Swap], transfers: Sequence[TokenTransfer]) -> None:
    """Apply committed swaps and transfers to P&L and refresh their wallets' figures.

    A transaction of its own, after the one that stored them: the live rows reach browsers without
    waiting for the books (most of an ingest's time). Should this never run (a crash in between),
    the trades stay `in_books=False` and `book_stragglers` applies them.
    """
    with transaction.atomic():
        ledger.lock_wallets(trade.wallet_id for trade in [*swaps, *transfers])
        # Read again under the lock: a replay of these wallets (valuation, the straggler sweep, a
        # reparse) since they were stored has booked or changed them, and must win. Never twice.
        unbooked = list(Swap.objects.filter(id__in=[s.id for s in swaps], in_books=False))
        unbooked_in = list(TokenTransfer.objects.filter(id__in=[t.id for t in transfers], in_books=False))
        touched = ledger.apply_new_trades(unbooked, unbooked_in)
        ledger.refresh_stats(touched)
        transaction.on_commit(lambda: after_trades_booked(swaps, transfers, touched), robust=True)


def _read_activity(
    txs: Sequence[dict[str, Any]], tracked: QuerySet[TrackedWallet]
) -> tuple[dict[str, TrackedWallet], list[tuple[ParsedSwap, int]], list[ParsedTransfer], dict[str, str]]:
    """What the `tracked` wallets involved in `txs` did in them: (those wallets by address, swaps with
    their position in the transaction, transfers, and why each transaction that cannot be taken
    could not — by signature). A transaction with a problem contributes nothing."""
    involved = {tx["signature"]: accounts_involved(tx) for tx in txs}
    addresses = set().union(*involved.values()) if involved else set()
    wallets = {w.address: w for w in tracked.filter(address__in=addresses)}
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


def _store(
    txs: Sequence[dict[str, Any]],
    swaps: list[tuple[ParsedSwap, int]],
    transfers: list[ParsedTransfer],
    wallets: dict[str, TrackedWallet],
    problems: dict[str, str],
    via: str,
    news: bool,
) -> _Stored:
    """Store the raw transactions without a problem and their swaps and transfers, under the lock of
    their wallets. All at once in a savepoint; should the database refuse that, one transaction per
    savepoint, each it refuses added to `problems`."""
    # Ingests touching the same wallet queue here, so a webhook and a poll carrying the same
    # transaction cannot both see it missing and insert it twice. Every writer of a wallet's rows
    # takes these locks first, in id order (whales.ledger says why).
    wallet_ids = sorted({wallets[a.wallet].id for a in [*(swap for swap, _ in swaps), *transfers]})
    locked = {wallet.id: wallet for wallet in ledger.lock_wallets(wallet_ids)}
    # A wallet deleted since it was read is tracked no more: its rows would only fail at commit.
    swaps = [(swap, position) for swap, position in swaps if wallets[swap.wallet].id in locked]
    transfers = [transfer for transfer in transfers if wallets[transfer.wallet].id in locked]
    storable = [tx for tx in txs if tx["signature"] not in problems]
    try:
        with transaction.atomic():
            return _store_rows(storable, swaps, transfers, wallets, locked, via, news)
    except DATA_ERRORS as error:
        logger.warning("ingest (%s): the database refused a batch of %d, storing one by one: %s", via, len(txs), error)
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
            problems[signature] = f"the database refused it: {_one_line(error)}"
    return stored


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:500]


def _store_rows(
    txs: Sequence[dict[str, Any]],
    swaps: list[tuple[ParsedSwap, int]],
    transfers: list[ParsedTransfer],
    wallets: dict[str, TrackedWallet],
    locked: dict[int, TrackedWallet],
    via: str,
    news: bool,
) -> _Stored:
    tokens = _tokens_for([swap for swap, _ in swaps], transfers)
    stored = _Stored(locked, tokens_by_id={token.id: token for token in tokens.values()})
    stored.new_transactions = _store_raw(txs, via)
    stored.new_swaps = _store_swaps(swaps, wallets, tokens, locked, via, news)
    stored.new_transfers = _store_transfers(transfers, wallets, tokens, via)
    return stored


def quarantine(kind: str, items: Iterable[tuple[str, Any, str]], via: str) -> None:
    """Keep (key, what arrived, why) aside as `Quarantined` rows of `kind`; something quarantined
    before is counted again (`times_seen`) with its latest reason."""
    now = timezone.now()
    table = connection.ops.quote_name(Quarantined._meta.db_table)
    with connection.cursor() as cursor:
        for key, raw, why in items:
            logger.warning("quarantined %s %s (%s): %s", kind, key, via, why)
            cursor.execute(
                f"INSERT INTO {table} (kind, key, arrived_via, reason, raw, first_seen_at, last_seen_at, times_seen)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, 1)"
                " ON CONFLICT (kind, key) DO UPDATE SET arrived_via = EXCLUDED.arrived_via,"
                f" reason = EXCLUDED.reason, raw = EXCLUDED.raw, last_seen_at = EXCLUDED.last_seen_at,"
                f" times_seen = {table}.times_seen + 1",
                [kind, clean_text(key)[:200], via[:20], clean_text(why), raw_text(raw), now, now],
            )


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
    if not readable:
        return 0
    signatures = [tx["signature"] for tx in readable]
    known = set(RawTransaction.objects.filter(signature__in=signatures).values_list("signature", flat=True))
    # In signature order: two ingests inserting the same new transactions wait for each other in
    # one order, never in a circle.
    fresh = [
        RawTransaction(signature=tx["signature"], payload=tx, block_time=_block_time(tx), arrived_via=via)
        for tx in sorted(readable, key=lambda tx: tx["signature"])
        if tx["signature"] not in known
    ]
    RawTransaction.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def _store_swaps(
    parsed: list[tuple[ParsedSwap, int]],
    wallets: dict[str, TrackedWallet],
    tokens: dict[str, Token],
    locked: dict[int, TrackedWallet],
    via: str,
    news: bool,
) -> list[Swap]:
    if not parsed:
        return []
    signatures = {swap.signature for swap, _ in parsed}
    existing = set(
        Swap.objects.filter(signature__in=signatures, wallet_id__in=locked).values_list(
            "signature", "wallet_id", "token_id"
        )
    )
    usd_rates = _quote_usd_rates([swap for swap, _ in parsed])
    now = timezone.now()
    new: list[Swap] = []
    for swap, position in parsed:
        wallet_id, token_id = wallets[swap.wallet].id, tokens[swap.token_mint].id
        key = (swap.signature, wallet_id, token_id)
        if key not in existing:
            existing.add(key)
            rate = usd_rates.get((swap.quote_mint, swap.block_time))
            row = _swap_row(swap, position, wallet_id, token_id, rate, via, now)
            row.live = news and arrives_live(via, row.block_time, now)
            new.append(row)
    Swap.objects.bulk_create(new)
    for wallet_id in sorted({s.wallet_id for s in new}):
        newest = max(s.block_time for s in new if s.wallet_id == wallet_id)
        older = Q(last_swap_at=None) | Q(last_swap_at__lt=newest)
        TrackedWallet.objects.filter(older, id=wallet_id).update(last_swap_at=newest)
    return new


def _swap_row(
    swap: ParsedSwap, position: int, wallet_id: int, token_id: int, usd_rate: Decimal | None, via: str, now: datetime
) -> Swap:
    """An unsaved Swap for `swap`; amounts rounded to the columns' precision here, so what P&L
    computes from the object in memory equals what a later recompute reads back from the table."""
    return Swap(
        wallet_id=wallet_id,
        token_id=token_id,
        signature=swap.signature,
        side=swap.side,
        token_amount=swap.token_amount.quantize(_AMOUNT_STEP, context=_WIDE),
        quote_mint=swap.quote_mint,
        quote_amount=swap.quote_amount.quantize(_AMOUNT_STEP, context=_WIDE),
        price_in_quote=swap.price.quantize(_PRICE_STEP, context=_WIDE),
        usd_price=None if usd_rate is None else (swap.price * usd_rate).quantize(_PRICE_STEP, context=_WIDE),
        usd_value=None if usd_rate is None else (swap.quote_amount * usd_rate).quantize(_USD_STEP, context=_WIDE),
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
        new.append(
            TokenTransfer(
                wallet_id=wallet_id,
                token_id=token_id,
                signature=transfer.signature,
                direction=transfer.direction,
                amount=transfer.token_amount.quantize(_AMOUNT_STEP, context=_WIDE),
                block_time=datetime.fromtimestamp(transfer.block_time, UTC),
                slot=transfer.slot,
                source=transfer.source[:40],
                arrived_via=via,
                ingested_at=now,
            )
        )
    _price_incoming(new)
    TokenTransfer.objects.bulk_create(new)
    return new


def _price_incoming(transfers: Sequence[TokenTransfer]) -> list[TokenTransfer]:
    """Set the market value on receipt of incoming transfers we can price from our own data (the
    token's price history, else swaps of it by tracked wallets close in time). Returns those priced."""
    priced = []
    for token_id in {t.token_id for t in transfers if t.needs_price}:
        waiting = [t for t in transfers if t.token_id == token_id and t.needs_price]
        times = sorted({_unix(t.block_time) for t in waiting})
        prices = {**swap_usd_near(token_id, times), **usd_near(token_id, times)}
        for transfer in waiting:
            price = prices.get(_unix(transfer.block_time))
            if price is not None:
                transfer.usd_price = price
                priced.append(transfer)
    return priced


def _tokens_for(swaps: Sequence[ParsedSwap], transfers: Sequence[ParsedTransfer] = ()) -> dict[str, Token]:
    decimals = {activity.token_mint: activity.token_decimals for activity in [*swaps, *transfers]}
    mints = sorted(decimals)  # new rows and their locks always taken in one order: no circular waits
    Token.objects.bulk_create([Token(mint=mint, decimals=decimals[mint]) for mint in mints], ignore_conflicts=True)
    tokens = {token.mint: token for token in Token.objects.filter(mint__in=mints)}
    for mint in mints:
        if tokens[mint].decimals is None:
            Token.objects.filter(id=tokens[mint].id, decimals=None).update(decimals=decimals[mint])
    return tokens


def _quote_usd_rates(swaps: list[ParsedSwap]) -> dict[tuple[str, int], Decimal]:
    """USD per unit of the quote asset at each swap's block time, where we know it."""
    rates: dict[tuple[str, int], Decimal] = {}
    sol_prices = sol_usd_near(sorted({s.block_time for s in swaps if s.quote_mint == WSOL_MINT}))
    for swap in swaps:
        if swap.quote_mint in STABLECOINS:
            rates[(swap.quote_mint, swap.block_time)] = Decimal(1)
        elif swap.block_time in sol_prices:
            rates[(swap.quote_mint, swap.block_time)] = sol_prices[swap.block_time]
    return rates


def positions_rewritten(pairs: Iterable[tuple[int, int]]) -> None:
    """After trades of these (wallet id, token id) pairs changed in place (reparse, valuation) or were
    never booked: replay those positions, refresh the wallets' figures, show them."""
    pairs = set(pairs)
    with transaction.atomic():
        ledger.lock_wallets(wallet_id for wallet_id, _ in pairs)
        touched = ledger.recompute_positions(pairs)
        ledger.refresh_stats(touched)
        transaction.on_commit(lambda: push_wallet_figures(touched), robust=True)


def book_stragglers(older_than: timedelta = timedelta(minutes=2)) -> int:
    """Replay the positions of valued trades stored a while ago but never booked (a process died
    between storing and booking them). Returns how many positions were replayed."""
    since = timezone.now() - older_than
    swaps = Swap.objects.filter(in_books=False, usd_price__isnull=False, ingested_at__lt=since)
    transfers = TokenTransfer.objects.filter(in_books=False, ingested_at__lt=since).filter(
        Q(direction=Direction.OUT) | Q(usd_price__isnull=False)
    )
    pairs = set(swaps.values_list("wallet_id", "token_id")) | set(transfers.values_list("wallet_id", "token_id"))
    if not pairs:
        return 0
    with transaction.atomic():
        ledger.lock_wallets(wallet_id for wallet_id, _ in pairs)
        # Under the lock, only what is still unbooked: the worker may have booked it meanwhile.
        wallets = {wallet_id for wallet_id, _ in pairs}
        pairs = set(swaps.filter(wallet_id__in=wallets).values_list("wallet_id", "token_id")) | set(
            transfers.filter(wallet_id__in=wallets).values_list("wallet_id", "token_id")
        )
        if pairs:
            logger.warning("booking %d position(s) whose trades were stored but never booked", len(pairs))
            positions_rewritten(pairs)
    return len(pairs)


STATS_BATCH_WALLETS = 200


def refresh_all_stats(batch: int = STATS_BATCH_WALLETS) -> int:
    """Every wallet's figures again (windows roll: a 24 h figure changes with no new trade), a batch
    of wallets per transaction under their locks, so no booking of theirs lands in between."""
    ids = list(TrackedWallet.objects.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            ledger.refresh_stats([wallet.id for wallet in ledger.lock_wallets(ids[start : start + batch])])
    return len(ids)


def sol_usd_near(unix_times: Sequence[int]) -> dict[int, Decimal]:
    """SOL/USD from our price history at each of `unix_times` (sorted), where a point is close enough."""
    return _usd_near({"token__mint": WSOL_MINT}, unix_times)


def usd_near(token_id: int, unix_times: Sequence[int]) -> dict[int, Decimal]:
    """The token's USD price from our history at each of `unix_times` (sorted), where a point is close enough."""
    return _usd_near({"token_id": token_id}, unix_times)


def _usd_near(token: dict[str, Any], unix_times: Sequence[int]) -> dict[int, Decimal]:
    if not unix_times:
        return {}
    tolerance = int(SOL_PRICE_TOLERANCE.total_seconds())
    points = TokenPrice.objects.filter(
        **token,
        at__gte=datetime.fromtimestamp(unix_times[0] - tolerance, UTC),
        at__lte=datetime.fromtimestamp(unix_times[-1] + tolerance, UTC),
    ).values_list("at", "price_usd")
    return _nearest(sorted(points), unix_times, tolerance)


def swap_usd_near(token_id: int, unix_times: Sequence[int]) -> dict[int, Decimal]:
    """The token's USD price per unit in tracked wallets' valued swaps close to each of `unix_times`."""
    if not unix_times:
        return {}
    tolerance = int(SOL_PRICE_TOLERANCE.total_seconds())
    points = Swap.objects.filter(
        token_id=token_id,
        usd_price__isnull=False,
        block_time__gte=datetime.fromtimestamp(unix_times[0] - tolerance, UTC),
        block_time__lte=datetime.fromtimestamp(unix_times[-1] + tolerance, UTC),
    ).values_list("block_time", "usd_price")
    return _nearest(sorted(points), unix_times, tolerance)


def _nearest(points: list[tuple[datetime, Decimal]], unix_times: Sequence[int], tolerance: int) -> dict[int, Decimal]:
    stamps = [int(at.timestamp()) for at, _ in points]
    prices: dict[int, Decimal] = {}
    for moment in unix_times:
        i = bisect_left(stamps, moment)
        neighbours = [j for j in (i - 1, i) if 0 <= j < len(stamps)]
        nearest = min(neighbours, key=lambda j: abs(stamps[j] - moment), default=None)
        if nearest is not None and abs(stamps[nearest] - moment) <= tolerance:
            prices[moment] = points[nearest][1]
    return prices


def _save_wallet_state(wallet_state: dict[int, dict[str, Any]]) -> None:
    for wallet_id, fields in wallet_state.items():
        TrackedWallet.objects.filter(id=wallet_id).update(**fields)


def _block_time(tx: dict[str, Any]) -> datetime | None:
    timestamp = tx.get("timestamp")
    if isinstance(timestamp, int) and not isinstance(timestamp, bool) and 0 <= timestamp < 2**33:
        return datetime.fromtimestamp(timestamp, UTC)
    return None


def after_trades_booked(
    new_swaps: Sequence[Swap], new_transfers: Sequence[TokenTransfer], wallet_ids: set[int]
) -> None:
    """Everything that follows new swaps and transfers once they are in the books: browsers see the
    wallets' new figures, unknown tokens get their metadata and a first price looked up, what has no
    USD value yet a historical price."""
    from whales import tasks

    push_wallet_figures(wallet_ids)
    token_ids = {trade.token_id for trade in [*new_swaps, *new_transfers]}
    unnamed = list(Token.objects.filter(id__in=token_ids, metadata_updated_at=None).values_list("mint", flat=True))
    if unnamed:
        tasks.enqueue(tasks.refresh_token_metadata, unnamed)
    # Open positions in tokens without a price read "pricing…" until the beat's next price tick; with
    # Birdeye (which prices a batch in one call) new tokens are asked for at once.
    unpriced = list(Token.objects.filter(id__in=token_ids, price_usd=None).values_list("mint", flat=True))
    if unpriced and settings.BIRDEYE_API_KEY:
        tasks.enqueue(tasks.price_tokens, unpriced)
    if any(swap.usd_value is None for swap in new_swaps) or any(t.needs_price for t in new_transfers):
        tasks.enqueue(tasks.value_swaps)


# --- reparse --------------------------------------------------------------------------------------


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
    wallets, swaps, transfers, problems = _read_activity([r.payload for r in batch], TrackedWallet.objects.all())
    result.unreadable += [f"{signature}: {why}" for signature, why in problems.items()]
    # The rows of a transaction the parser now refuses are left as they are.
    arrived = {r.signature: r.arrived_via for r in batch if r.signature not in problems}
    with transaction.atomic():
        # Same lock order as ingest, so a delivery of one of these transactions waits for us.
        ledger.lock_wallets(wallet.id for wallet in wallets.values())
        tokens = _tokens_for([swap for swap, _ in swaps], transfers)
        rates = _quote_usd_rates([swap for swap, _ in swaps])
        now = timezone.now()
        wanted_swaps = {}
        for swap, position in swaps:
            wallet_id, token_id = wallets[swap.wallet].id, tokens[swap.token_mint].id
            rate = rates.get((swap.quote_mint, swap.block_time))
            wanted_swaps[(swap.signature, wallet_id, token_id)] = _swap_row(
                swap, position, wallet_id, token_id, rate, arrived[swap.signature], now
            )
        wanted_transfers = {}
        for transfer in transfers:
            wallet_id, token_id = wallets[transfer.wallet].id, tokens[transfer.token_mint].id
            wanted_transfers[(transfer.signature, wallet_id, token_id)] = TokenTransfer(
                wallet_id=wallet_id,
                token_id=token_id,
                signature=transfer.signature,
                direction=transfer.direction,
                amount=transfer.token_amount.quantize(_AMOUNT_STEP, context=_WIDE),
                block_time=datetime.fromtimestamp(transfer.block_time, UTC),
                slot=transfer.slot,
                source=transfer.source[:40],
                arrived_via=arrived[transfer.signature],
                ingested_at=now,
            )
        _price_incoming(list(wanted_transfers.values()))
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


# --- live pushes ---------------------------------------------------------------------------------

# Backfilled and reparsed swaps are history: they appear in pages in time order, not in live feeds.
# A webhook delivery is news: Helius sends it as the transaction lands. What a poll finds is news
# only within POLLED_LIVE_FOR of its block time (the webhook missed it, the trader has not seen it),
# and never on a wallet's first poll: that page is the wallet's past, from before we tracked it.
# Whether a swap arrived as news is decided once, on arrival, and stored (`Swap.live`).
POLLED_LIVE_FOR = timedelta(minutes=10)
LIVE_SWAPS = Q(live=True)
# A live swap whose push could not go out (Redis was down) is pushed by the sweep within this long;
# older news is left to the pages' own catch-up on reconnect.
UNPUSHED_SWEEP_WITHIN = timedelta(hours=1)
# The sweep leaves alone what was stored moments ago: its own push is on its way.
UNPUSHED_GRACE = timedelta(seconds=5)


def arrives_live(via: str, block_time: datetime, now: datetime) -> bool:
    """Whether a swap of `block_time` arriving `via` that path at `now` is news (goes on top of live feeds)."""
    return via == ArrivedVia.WEBHOOK or (via == ArrivedVia.POLL and now - block_time <= POLLED_LIVE_FOR)


def push_live_swaps(swaps: Sequence[Swap]) -> None:
    """Prepend these swaps' rows (their wallet and token loaded) to the live feeds showing them: all
    swaps, their wallet's, their token's, their followers' — and publish them as events for the API's socket."""
    if not swaps:
        return
    swaps = sorted(swaps, key=lambda swap: (swap.block_time, swap.id), reverse=True)
    rows = fragments.swap_rows(swaps)
    groups: dict[str, list[str]] = {realtime.FEED_TRADES: [rows[swap.id] for swap in swaps]}
    followers = Follow.followers_of({swap.wallet_id for swap in swaps})
    for swap in swaps:
        groups.setdefault(realtime.wallet_group(swap.wallet.address), []).append(rows[swap.id])
        groups.setdefault(realtime.token_group(swap.token.mint), []).append(rows[swap.id])
        for user_id in followers.get(swap.wallet_id, []):
            groups.setdefault(realtime.follows_group(user_id), []).append(rows[swap.id])
    realtime.send_many([(group, fragments.swap_push(html)) for group, html in groups.items()])
    stream.publish(events.swap_events(swaps, followers))
    Swap.objects.filter(id__in=[swap.id for swap in swaps], pushed_at=None).update(pushed_at=timezone.now())


def push_unpushed_swaps(limit: int = 500, now: datetime | None = None) -> int:
    """Push live swaps that were stored but whose push never went out (Redis was unreachable): the
    pages showing their feeds get them now, on top, once. Returns how many were pushed; raises,
    leaving them for the next sweep, while Redis is still unreachable."""
    now = now or timezone.now()
    waiting = list(
        Swap.objects.filter(live=True, pushed_at=None)
        .filter(ingested_at__gte=now - UNPUSHED_SWEEP_WITHIN, ingested_at__lt=now - UNPUSHED_GRACE)
        .select_related("wallet", "token")
        .order_by("id")[:limit]
    )
    if waiting:
        logger.warning("pushing %d live swap(s) whose push failed when they were stored", len(waiting))
        push_live_swaps(waiting)
    return len(waiting)


def push_wallet_figures(wallet_ids: Iterable[int]) -> None:
    """Replace these wallets' leaderboard rows (every window) and their wallet pages' stats and positions."""
    wallet_ids = set(wallet_ids)
    if not wallet_ids:
        return
    rows: dict[str, list[str]] = {}
    wallets: dict[int, TrackedWallet] = {}
    for stats in WalletStats.objects.filter(wallet_id__in=wallet_ids).select_related("wallet"):
        rows.setdefault(stats.window, []).append(fragments.leaderboard_row(stats, oob=True))
        wallets[stats.wallet_id] = stats.wallet
    messages = [(realtime.leaderboard_group(window), "".join(html)) for window, html in rows.items()]
    for wallet in wallets.values():
        html = fragments.wallet_stats(wallet, oob=True) + fragments.wallet_positions(wallet, oob=True)
        messages.append((realtime.wallet_group(wallet.address), html))
    realtime.send_many(messages)


# --- polling -------------------------------------------------------------------------------------


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


def planned_poll_credits_per_day(now: datetime | None = None) -> int:
    """Credits a day the configured polling cadence would cost, before stretching to the budget."""
    return poll_plan(now).configured_credits


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


def prepare_valuation(page: Sequence[dict[str, Any]], birdeye: BirdeyeClient | None) -> None:
    """Before ingesting a page of history: fetch SOL/USD around its block times, so its swaps are valued at once."""
    if birdeye is None:
        return
    times = [t for t in (tx.get("timestamp") for tx in page) if isinstance(t, int) and not isinstance(t, bool)]
    try:
        ensure_sol_prices(times, birdeye)
    except ProviderError as error:
        logger.warning("valuation: no SOL history from Birdeye: %s", error)


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


# --- backfill ------------------------------------------------------------------------------------


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
                "backfill_reached": _block_time(page[-1]) or wallet.backfill_reached,
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


# --- prices, metadata, valuation ---------------------------------------------------------------------

PRICE_POINT_RESOLUTION = 60  # seconds: at most one stored price point per token per minute
SOL_HISTORY_INTERVAL = ("15m", 15 * 60)  # Birdeye bucket for SOL/USD at past swap times
SOL_HISTORY_SPAN = 3 * 86_400  # seconds of history asked per call


def sol_token() -> Token:
    """SOL's row (the migration creates it; a flushed test database may not have it)."""
    token, _ = Token.objects.get_or_create(
        mint=WSOL_MINT, defaults={"symbol": "SOL", "name": "Wrapped SOL", "decimals": 9}
    )
    return token


def refresh_prices(sources: PriceSources, mints: Sequence[str] | None = None) -> int:
    """Beat: the latest USD price of SOL and of every token a tracked wallet holds; revalue those
    positions and refresh the holders' figures. With `mints`, those tokens only (new ones, priced
    as their first trades are booked rather than at the next tick). Returns how many got a price."""
    sol_token()
    wanted = Q(mint__in=mints) if mints is not None else Q(positions__holdings__gt=0) | Q(mint=WSOL_MINT)
    tokens = {t.mint: t for t in Token.objects.filter(wanted).distinct().only("id", "mint")}
    if not tokens:
        return 0
    quotes = current_prices(tokens.keys(), sources)
    if not quotes:
        return 0
    token_ids = [tokens[mint].id for mint in quotes]
    with transaction.atomic():
        # The holders' wallets first, as every writer of their positions locks them (whales.ledger);
        # a wallet that starts holding one of these tokens meanwhile is valued when it is booked.
        holders = Position.objects.filter(token_id__in=token_ids, holdings__gt=0).values_list("wallet_id", flat=True)
        locked = [wallet.id for wallet in ledger.lock_wallets(holders)]
        points = []
        for mint, quote in sorted(quotes.items()):  # rows locked in one order by every price task
            updated_at = datetime.fromtimestamp(quote.updated_at, UTC)
            Token.objects.filter(id=tokens[mint].id).update(
                price_usd=quote.price_usd.quantize(_PRICE_STEP, context=_WIDE),
                price_source=quote.source,
                price_updated_at=updated_at,
            )
            bucket = quote.updated_at - quote.updated_at % PRICE_POINT_RESOLUTION
            points.append(
                TokenPrice(
                    token_id=tokens[mint].id,
                    at=datetime.fromtimestamp(bucket, UTC),
                    price_usd=quote.price_usd.quantize(_PRICE_STEP, context=_WIDE),
                    source=quote.source,
                )
            )
        TokenPrice.objects.bulk_create(
            points, update_conflicts=True, unique_fields=["token", "at"], update_fields=["price_usd", "source"]
        )
        touched = ledger.revalue_open_positions(token_ids, locked)
        ledger.refresh_stats(touched)
        transaction.on_commit(lambda: push_figures_refreshed(touched), robust=True)
    return len(quotes)


def _leaderboard_tick() -> list[tuple[str, str]]:
    """A message that makes every open leaderboard refetch its rows (static/js/aura.js)."""
    tick = f'<div id="stats-tick" hx-swap-oob="true" data-at="{int(timezone.now().timestamp())}"></div>'
    return [(realtime.leaderboard_group(window), tick) for window in Window.values]


def push_leaderboard_tick() -> None:
    realtime.send_many(_leaderboard_tick())


def push_figures_refreshed(wallet_ids: set[int]) -> None:
    """After a price tick, a tick to every leaderboard page and to the wallet pages of the holders:
    each open page fetches its own new figures. Rendering them here for every holder, watched or
    not, made the price task's time grow with the number of wallets (past its limit at a few hundred)."""
    messages = _leaderboard_tick()
    tick = messages[0][1]
    for address in TrackedWallet.objects.filter(id__in=wallet_ids).values_list("address", flat=True):
        messages.append((realtime.wallet_group(address), tick))
    realtime.send_many(messages)


def name_unnamed_tokens(birdeye: BirdeyeClient | None = None, limit: int = 50) -> int:
    """Look up tokens that have no name and were never looked up: the lookup after their first trade
    failed (provider down, rate-limited) or was lost with its worker. Returns how many were found."""
    # Random order: a few mints the provider keeps failing on must not hold back the rest.
    unnamed = Token.objects.filter(metadata_updated_at=None, symbol="").order_by("?").values_list("mint", flat=True)
    mints = list(unnamed[:limit])
    return refresh_token_metadata(mints, birdeye) if mints else 0


def refresh_token_metadata(mints: Sequence[str], birdeye: BirdeyeClient | None = None) -> int:
    """Symbol, name, decimals and logo of `mints` from Birdeye's token overview. Returns how many were found.

    Symbols and names are stored as the chain has them (escaped on output, never here). Without
    BIRDEYE_API_KEY nothing is asked (every call would be a 401); the tokens wait for a key.
    """
    if birdeye is None and not settings.BIRDEYE_API_KEY:
        return 0
    found, named = 0, []
    client = birdeye or BirdeyeClient.from_settings()
    try:
        for mint in mints:
            try:
                overview = client.token_overview(mint)
            except ProviderError as error:
                logger.warning("metadata of %s: %s", mint, error)
                continue
            fields: dict[str, Any] = {"metadata_updated_at": timezone.now()}
            if overview is not None:
                logo = clean_text(overview.logo_uri or "")
                fields.update(
                    symbol=clean_text(overview.symbol or "")[:64],
                    name=clean_text(overview.name or "")[:200],
                    logo_url=logo[:500] if logo.startswith("https://") else "",
                )
                if overview.decimals is not None and 0 <= overview.decimals <= 255:
                    fields["decimals"] = overview.decimals
            try:
                with transaction.atomic():
                    Token.objects.filter(mint=mint).update(**fields)
            except DATA_ERRORS as error:
                # Looked up, and not to be asked again for ever: a person sees it in the quarantine.
                raw = dict(overview.raw) if overview is not None else None
                quarantine(Quarantined.Kind.TOKEN_METADATA, [(mint, raw, _one_line(error))], "birdeye")
                Token.objects.filter(mint=mint).update(metadata_updated_at=fields["metadata_updated_at"])
                continue
            if overview is not None:
                found += 1
                if fields["symbol"]:
                    named.append(mint)
    finally:
        if birdeye is None:
            client.close()
    if named:
        transaction.on_commit(lambda: push_token_names(named), robust=True)
    return found


def push_token_names(mints: Sequence[str]) -> None:
    """Pages showing these tokens by their mint (rows pushed before the name was known) get the symbol:
    the live feeds of all swaps, of the tokens, and of the wallets that traded them and their followers."""
    tokens = list(Token.objects.filter(mint__in=mints))
    if not tokens:
        return
    html = render_to_string("whales/_token_names_push.html", {"tokens": tokens})
    traders = Position.objects.filter(token__in=tokens).values_list("wallet_id", "wallet__address")
    groups = {realtime.FEED_TRADES, *(realtime.token_group(token.mint) for token in tokens)}
    groups |= {realtime.wallet_group(address) for _, address in traders}
    followers = Follow.followers_of({wallet_id for wallet_id, _ in traders})
    groups |= {realtime.follows_group(user_id) for users in followers.values() for user_id in users}
    realtime.send_many([(group, html) for group in sorted(groups)])


def ensure_sol_prices(unix_times: Sequence[int], birdeye: BirdeyeClient) -> int:
    """Store SOL/USD history around the given times where we have no point close enough. Returns points added."""
    missing = sorted(set(unix_times) - set(sol_usd_near(sorted(set(unix_times)))))
    if not missing:
        return 0
    interval, step = SOL_HISTORY_INTERVAL
    sol = sol_token()
    added = 0
    start = missing[0]
    while start <= missing[-1]:
        end = start + SOL_HISTORY_SPAN
        points = birdeye.history_price(WSOL_MINT, start - step, end + step, interval)
        rows = [
            TokenPrice(
                token=sol,
                at=datetime.fromtimestamp(t, UTC),
                price_usd=p.quantize(_PRICE_STEP, context=_WIDE),
                source="birdeye",
            )
            for t, p in points
        ]
        TokenPrice.objects.bulk_create(rows, ignore_conflicts=True)
        added += len(rows)
        later = [t for t in missing if t > end]
        if not later:
            break
        start = later[0]
    return added


def value_unvalued_swaps(birdeye: BirdeyeClient | None = None, limit: int = 5000) -> int:
    """Give swaps that arrived without a USD value one (SOL/USD at block time from our history, fetched
    from Birdeye where missing) and incoming transfers their market value on receipt, then replay
    their positions. Returns how many trades were valued."""
    unvalued = list(Swap.objects.filter(usd_value=None).order_by("block_time")[:limit])
    unpriced = list(
        TokenTransfer.objects.filter(direction=Direction.IN, usd_price=None).select_related("token")[:limit]
    )
    sol_times = sorted({_unix(s.block_time) for s in unvalued if s.quote_mint == WSOL_MINT})
    client = birdeye
    if client is None and settings.BIRDEYE_API_KEY and (sol_times or unpriced):
        client = BirdeyeClient.from_settings()
    try:
        if client is not None and sol_times:
            ensure_sol_prices(sol_times, client)
        priced = _price_incoming(unpriced)
        if client is not None:
            priced += _price_at_receipt([t for t in unpriced if t.needs_price], client)
    except ProviderError as error:
        logger.warning("valuation: Birdeye failed: %s", error)
        priced = [t for t in unpriced if not t.needs_price]
    finally:
        if client is not None and birdeye is None:
            client.close()
    sol_prices = sol_usd_near(sol_times)

    def rate_of(swap: Swap) -> Decimal | None:
        return Decimal(1) if swap.quote_mint in STABLECOINS else sol_prices.get(_unix(swap.block_time))

    valuable = [swap for swap in unvalued if rate_of(swap) is not None]
    prices_on_receipt = {transfer.id: transfer.usd_price for transfer in priced}
    pairs = {(trade.wallet_id, trade.token_id) for trade in [*valuable, *priced]}
    if not pairs:
        return 0
    with transaction.atomic():
        # The lock every booking takes first; then the rows as they are now (booked, revalued or
        # reparsed meanwhile), valued and replayed in the same transaction.
        ledger.lock_wallets(wallet_id for wallet_id, _ in pairs)
        valued = []
        for swap in Swap.objects.filter(id__in=[s.id for s in valuable], usd_value=None):
            rate = rate_of(swap)
            if rate is not None:
                swap.usd_price = (swap.price_in_quote * rate).quantize(_PRICE_STEP, context=_WIDE)
                swap.usd_value = (swap.quote_amount * rate).quantize(_USD_STEP, context=_WIDE)
                valued.append(swap)
        received = list(TokenTransfer.objects.filter(id__in=prices_on_receipt, usd_price=None))
        for transfer in received:
            transfer.usd_price = prices_on_receipt[transfer.id]
        Swap.objects.bulk_update(valued, ["usd_price", "usd_value"])
        TokenTransfer.objects.bulk_update(received, ["usd_price"])
        changed = {(trade.wallet_id, trade.token_id) for trade in [*valued, *received]}
        if changed:
            positions_rewritten(changed)
    return len(valued) + len(received)


def _price_at_receipt(transfers: Sequence[TokenTransfer], birdeye: BirdeyeClient) -> list[TokenTransfer]:
    """Birdeye's historical price of each incoming transfer's token at its block time, where it has one."""
    priced = []
    for transfer in transfers:
        price = birdeye.price_at(transfer.token.mint, _unix(transfer.block_time))
        if price is not None and price > 0:
            transfer.usd_price = price.quantize(_PRICE_STEP, context=_WIDE)
            priced.append(transfer)
    return priced


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


# --- wallets -------------------------------------------------------------------------------------


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
    from whales import tasks

    # The webhook first: queued behind the backfills (minutes of work for many wallets), it left
    # the wallets' live trades unheard until then, found later by polls.
    tasks.enqueue(tasks.sync_helius_webhook)
    with transaction.atomic():
        ledger.refresh_stats([wallet.id for wallet in ledger.lock_wallets(wallet.id for wallet in wallets)])
    push_leaderboard_tick()
    for wallet in wallets:
        start_backfill(wallet)
        tasks.enqueue(tasks.backfill_wallet, wallet.id)


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
    from whales import tasks

    for active in (True, False):
        WalletStats.objects.filter(wallet_id__in=wallet_ids, wallet__is_active=active).update(wallet_active=active)
    transaction.on_commit(lambda: tasks.enqueue(tasks.sync_helius_webhook))


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
