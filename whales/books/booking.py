"""Putting stored trades into the books: positions, cycles, realizations and the wallets' figures,
each booking under its wallets' locks (`ledger.lock_wallets`), then what follows once committed."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from aura.gc_pause import gc_paused
from aura.prepared import BindAny, Prepared
from whales import queue
from whales.books import ledger
from whales.books.stats import add_booked, reconcile_stats, refresh_stats, roll_stats
from whales.live import push_wallet_figures
from whales.models import Swap, Token, TokenTransfer, TrackedWallet

logger = logging.getLogger(__name__)


# At most this many waiting trades join a booking (the rest: the next booking, or the sweep).
LANE_LIMIT = 5000


def book_trades(swaps: Sequence[Swap], transfers: Sequence[TokenTransfer], now: datetime | None = None) -> None:
    """Apply committed swaps and transfers to P&L and refresh their wallets' figures.

    A transaction of its own, after the one that stored them: the live rows reach browsers without
    waiting for the books (most of an ingest's time). Should this never run (a crash in between),
    the trades stay `in_books=False` and `book_stragglers` applies them.

    One booking takes every live trade waiting, whichever delivery stored it: when deliveries come
    faster than one at a time can be booked, the worker books them in batches (one transaction, a
    few queries per batch) and the later deliveries' tasks find theirs done — and what follows a
    booking (`after_trades_booked`) done for them by the booking that took them.
    """
    own_swaps, own_transfers = [s.id for s in swaps], [t.id for t in transfers]
    if booked_here(own_swaps, own_transfers) or not _any_unbooked(own_swaps, own_transfers):
        return
    with gc_paused():
        _book_waiting_trades(swaps, transfers, own_swaps, own_transfers, now or timezone.now())


# Wallets with live, valued trades waiting for the books (whichever delivery stored them).
_WALLETS_WAITING = Prepared(
    lambda: (
        Swap.objects.filter(in_books=False, usd_price__isnull=False, live=True)
        .values_list("wallet_id", flat=True)
        .distinct()[:LANE_LIMIT]
    )
)


def _unbooked(model: type[Swap] | type[TokenTransfer]) -> Prepared:
    """The trades of `model` a booking takes: its own (`own`, by id) and every valued one of its
    locked wallets (`wallets`) still out of the books, oldest first."""
    waiting = Q(BindAny("wallet_id", "wallets"), usd_price__isnull=False)
    return Prepared(
        lambda: model.objects.filter(Q(BindAny("id", "own")) | waiting, in_books=False).order_by("id")[:LANE_LIMIT]
    )


_UNBOOKED_SWAPS = _unbooked(Swap)
_UNBOOKED_TRANSFERS = _unbooked(TokenTransfer)


def _book_waiting_trades(
    swaps: Sequence[Swap],
    transfers: Sequence[TokenTransfer],
    own_swaps: list[int],
    own_transfers: list[int],
    now: datetime,
) -> None:
    with transaction.atomic():
        candidates = {trade.wallet_id for trade in [*swaps, *transfers]} | set(_WALLETS_WAITING.rows())
        wallet_ids = [wallet.id for wallet in ledger.lock_wallets(candidates)]
        # Read again under the lock: a replay of these wallets (valuation, the straggler sweep, a
        # reparse) since they were stored has booked or changed them, and must win. Never twice.
        # One ordered lane per wallet: whichever booking of a wallet gets its lock books every trade
        # of it stored and not yet booked, oldest first. Two workers holding two deliveries of one
        # wallet then never book the later first (which would replay the position for the earlier);
        # the other finds its trades booked.
        unbooked = _UNBOOKED_SWAPS.rows(own=own_swaps, wallets=wallet_ids)
        unbooked_in = _UNBOOKED_TRANSFERS.rows(own=own_transfers, wallets=wallet_ids)
        booked = ledger.apply_new_trades(unbooked, unbooked_in)
        if booked.replayed_wallet_ids:
            refresh_stats(booked.replayed_wallet_ids, now)
        add_booked(booked.wallet_ids - booked.replayed_wallet_ids, booked.swap_ids, booked.closed_cycle_ids, now)
        transaction.on_commit(lambda: _remember_booked(booked.swap_ids, booked.transfer_ids))
        transaction.on_commit(lambda: after_trades_booked(unbooked, unbooked_in, booked.wallet_ids), robust=True)


# Trades this process booked and saw committed (a trade once in the books never leaves them): the
# later tasks of a backlog, whose trades an earlier booking took, then return without a query.
# Bounded: past this many, forgotten all at once (a forgotten trade costs one query, as before).
_REMEMBERED_BOOKED = 100_000
_booked_swaps: set[int] = set()
_booked_transfers: set[int] = set()


def booked_here(swap_ids: Collection[int], transfer_ids: Collection[int]) -> bool:
    """Whether a booking in this process is known to have committed all of these trades."""
    return _booked_swaps.issuperset(swap_ids) and _booked_transfers.issuperset(transfer_ids)


def _remember_booked(swap_ids: Iterable[int], transfer_ids: Iterable[int]) -> None:
    for remembered, ids in ((_booked_swaps, swap_ids), (_booked_transfers, transfer_ids)):
        if len(remembered) >= _REMEMBERED_BOOKED:
            remembered.clear()
        remembered.update(ids)


def _any_unbooked(swap_ids: list[int], transfer_ids: list[int]) -> bool:
    """Whether any of these trades is still out of the books: one round trip, for the many tasks of a
    backlog that another booking has done."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {Swap._meta.db_table} WHERE id = ANY(%s) AND NOT in_books)"
            f" OR EXISTS (SELECT 1 FROM {TokenTransfer._meta.db_table} WHERE id = ANY(%s) AND NOT in_books)",
            [swap_ids, transfer_ids],
        )
        return cursor.fetchone()[0]


def positions_rewritten(pairs: Iterable[tuple[int, int]]) -> None:
    """After trades of these (wallet id, token id) pairs changed in place (reparse, valuation) or were
    never booked: replay those positions, refresh the wallets' figures, show them."""
    pairs = set(pairs)
    with transaction.atomic():
        ledger.lock_wallets(wallet_id for wallet_id, _ in pairs)
        touched = ledger.recompute_positions(pairs)
        refresh_stats(touched)
        transaction.on_commit(lambda: push_wallet_figures(touched), robust=True)


def book_stragglers(older_than: timedelta = timedelta(minutes=2)) -> int:
    """Replay the positions of valued trades stored a while ago but never booked (a process died
    between storing and booking them). Returns how many positions were replayed."""
    since = timezone.now() - older_than
    swaps = Swap.objects.filter(in_books=False, usd_price__isnull=False, ingested_at__lt=since)
    transfers = TokenTransfer.objects.filter(in_books=False, ingested_at__lt=since).ready_for_books()
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
            # Their delivery's booking never ran (or will find them booked): what follows it is due.
            news = list(swaps.filter(wallet_id__in=wallets, live=True).values_list("id", flat=True))
            positions_rewritten(pairs)
            if news:
                transaction.on_commit(
                    lambda: queue.enqueue_named("signals.tasks.detect_swap_signals", news), robust=True
                )
    return len(pairs)


STATS_BATCH_WALLETS = 200


def roll_all_stats(batch: int = STATS_BATCH_WALLETS) -> int:
    """Every wallet's figures moved to now (windows roll: a 24 h figure changes with no new trade),
    a batch of wallets per transaction under their locks, so no booking of theirs lands in between.
    Reads only the rows the windows' starts passed since the last move."""
    return _in_locked_batches(roll_stats, batch)


def reconcile_all_stats(batch: int = STATS_BATCH_WALLETS) -> int:
    """Every wallet's running sums checked against a full aggregate (differences logged and mended).
    Returns how many (wallet, window) rows differed: zero unless something wrote around the books."""
    drifted = 0

    def reconcile(wallet_ids: list[int]) -> None:
        nonlocal drifted
        drifted += reconcile_stats(wallet_ids)

    _in_locked_batches(reconcile, batch)
    return drifted


def _in_locked_batches(work, batch: int) -> int:
    ids = list(TrackedWallet.objects.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            work([wallet.id for wallet in ledger.lock_wallets(ids[start : start + batch])])
    return len(ids)


# Of some tokens, those without a name or a price yet: (mint, unnamed, unpriced), by symbol and mint.
_TOKENS_UNNAMED_OR_UNPRICED = Prepared(
    lambda: (
        Token.objects.filter(BindAny("id", "tokens"))
        .filter(Q(metadata_updated_at=None) | Q(price_usd=None))
        .values_list(
            "mint",
            ExpressionWrapper(Q(metadata_updated_at=None), output_field=BooleanField()),
            ExpressionWrapper(Q(price_usd=None), output_field=BooleanField()),
        )
    )
)


def after_trades_booked(
    new_swaps: Sequence[Swap], new_transfers: Sequence[TokenTransfer], wallet_ids: set[int]
) -> None:
    """Everything that follows new swaps and transfers once they are in the books: browsers see the
    wallets' new figures, unknown tokens get their metadata and a first price looked up, what has no
    USD value yet a historical price."""
    push_wallet_figures(wallet_ids)
    if new_swaps:
        # Token signals read the wallets' fresh figures: after booking, in a worker, by name.
        queue.enqueue_named("signals.tasks.detect_swap_signals", [swap.id for swap in new_swaps])
    token_ids = list({trade.token_id for trade in [*new_swaps, *new_transfers]})
    unknown = _TOKENS_UNNAMED_OR_UNPRICED.rows(tokens=token_ids)
    unnamed = [mint for mint, no_name, _ in unknown if no_name]
    if unnamed:
        queue.enqueue("refresh_token_metadata", unnamed)
    # Open positions in tokens without a price read "pricing…" until the beat's next price tick; with
    # Birdeye (which prices a batch in one call) new tokens are asked for at once.
    unpriced = [mint for mint, _, no_price in unknown if no_price]
    if unpriced and settings.BIRDEYE_API_KEY:
        queue.enqueue("price_tokens", unpriced)
    if any(swap.usd_value is None for swap in new_swaps) or any(t.needs_price for t in new_transfers):
        queue.enqueue("value_swaps")
