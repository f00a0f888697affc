"""Whale clusters and big trades from booked swaps: the worker's half of the swap kinds.

Runs in a Celery worker after a batch of swaps is stored and booked (whales enqueues
`signals.tasks.detect_swap_signals` by name), never on a webhook's request path. The detector is
rebuilt from rows for each batch (SIGNALS.md §10): the batch's tokens' recent swaps and active
signals, and the wallets' stored records.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from signals import scoring
from signals.models import Signal, moment, unix
from signals.parameters import parameters
from signals.recording import lock_tokens, record_events
from whales.models import Swap, WalletStats

CLUSTER_KINDS = (scoring.WHALE_ACCUMULATION, scoring.WHALE_DISTRIBUTION)


def detect_swap_signals(swap_ids: Iterable[int], params: scoring.Parameters | None = None) -> list[int]:
    """Judge these swaps (those with a USD value; the rest wait for one) and store what fired or was
    updated. Idempotent: a rerun finds its swaps already in the windows and its signals by key.
    Returns the ids of the signals stored or changed."""
    params = params or parameters()
    rows = list(
        Swap.objects.filter(id__in=set(swap_ids), usd_value__isnull=False)
        .select_related("wallet", "token")
        .order_by("block_time", "id")
    )
    if not rows:
        return []
    batch = [
        engine_swap(row.id, row.block_time, row.wallet.address, row.token.mint, row.side, row.usd_value) for row in rows
    ]
    tokens = {row.token.mint: row.token for row in rows}
    token_ids = [token.id for token in tokens.values()]
    bounds = scoring.context_bounds(batch, params)
    assert bounds is not None
    with transaction.atomic():
        lock_tokens(token_ids)
        context = (
            Swap.objects.filter(
                token_id__in=token_ids, block_time__gte=moment(bounds.swaps_since), usd_value__isnull=False
            )
            .exclude(id__in=[row.id for row in rows])
            .values_list("id", "block_time", "wallet__address", "token__mint", "side", "usd_value")
        )
        recent = [engine_swap(*values) for values in context]
        detector = scoring.Detector(params, active=_active(token_ids, bounds), recent_swaps=recent)
        events = detector.process(batch, wallets=_records({row.wallet_id: row.wallet.address for row in rows}))
        last_prices = {row.token.mint: row.usd_price for row in rows if row.usd_price}
        return record_events(events, tokens, params, fallback_prices=last_prices)


def engine_swap(swap_id: int, block_time, wallet: str, mint: str, side: str, usd: Decimal) -> scoring.Swap:
    return scoring.Swap(swap_id, unix(block_time), wallet, mint, side, usd)


def _active(token_ids: list[int], bounds: scoring.ContextBounds) -> list[scoring.Signal]:
    clusters = Signal.objects.filter(
        token_id__in=token_ids, kind__in=CLUSTER_KINDS, fired_at__gte=moment(bounds.clusters_fired_since)
    )
    big_trades = Signal.objects.filter(
        token_id__in=token_ids, kind=scoring.BIG_TRADE, fired_at__gte=moment(bounds.big_trades_fired_since)
    )
    return [row.as_engine() for row in [*clusters.select_related("token"), *big_trades.select_related("token")]]


def _records(addresses: dict[int, str]) -> dict[str, scoring.WalletStats]:
    """Each wallet's win rate and rated cycles now, from its stored figures (SIGNAL_WALLET_STATS_WINDOW)."""
    stats = WalletStats.objects.filter(wallet_id__in=addresses, window=settings.SIGNAL_WALLET_STATS_WINDOW)
    return {
        addresses[wallet_id]: scoring.WalletStats(win_rate, cycles)
        for wallet_id, win_rate, cycles in stats.values_list("wallet_id", "win_rate", "cycles")
    }
