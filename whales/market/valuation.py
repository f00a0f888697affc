"""USD values of trades: a swap's from its quote asset's USD rate at block time (stablecoins 1:1,
SOL from our price history, fetched from Birdeye where missing), an incoming transfer's market
value on receipt. What cannot be valued yet waits, out of the books, for `value_unvalued_swaps`."""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

from providers.birdeye import BirdeyeClient
from providers.http import ProviderError
from whales import queue
from whales.books import ledger
from whales.books.booking import positions_rewritten
from whales.market.prices import sol_token
from whales.models import Direction, Swap, TokenPrice, TokenTransfer, round_price, round_usd
from whales.solana import STABLECOINS, WSOL_MINT

logger = logging.getLogger(__name__)


# A SOL/USD point this close to a swap's block time values it; further away, the swap waits for
# a historical price from Birdeye (whales.tasks.value_swaps).
SOL_PRICE_TOLERANCE = timedelta(minutes=10)


SOL_HISTORY_INTERVAL = ("15m", 15 * 60)  # Birdeye bucket for SOL/USD at past swap times


SOL_HISTORY_SPAN = 3 * 86_400  # seconds of history asked per call


def swap_usd(price_in_quote: Decimal, quote_amount: Decimal, usd_rate: Decimal) -> tuple[Decimal, Decimal]:
    """A swap's (USD price per token, USD value) at `usd_rate` USD per unit of its quote asset,
    rounded as their columns store them."""
    return round_price(price_in_quote * usd_rate), round_usd(quote_amount * usd_rate)


class QuotedSwap(Protocol):
    """What valuing a swap needs of it: its quote asset and its block time (unix seconds)."""

    quote_mint: str
    block_time: int


def quote_usd_rates(swaps: Sequence[QuotedSwap]) -> dict[tuple[str, int], Decimal]:
    """USD per unit of the quote asset at each swap's block time (parsed swaps), where we know it."""
    rates: dict[tuple[str, int], Decimal] = {}
    sol_prices = sol_usd_near(sorted({s.block_time for s in swaps if s.quote_mint == WSOL_MINT}))
    for swap in swaps:
        if swap.quote_mint in STABLECOINS:
            rates[(swap.quote_mint, swap.block_time)] = Decimal(1)
        elif swap.block_time in sol_prices:
            rates[(swap.quote_mint, swap.block_time)] = sol_prices[swap.block_time]
    return rates


def price_incoming(transfers: Sequence[TokenTransfer]) -> list[TokenTransfer]:
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


def prepare_valuation(page: Sequence[dict[str, Any]], birdeye: BirdeyeClient | None) -> None:
    """Before ingesting a page of history: fetch SOL/USD around its block times, so its swaps are valued at once."""
    if birdeye is None:
        return
    times = [t for t in (tx.get("timestamp") for tx in page) if isinstance(t, int) and not isinstance(t, bool)]
    try:
        ensure_sol_prices(times, birdeye)
    except ProviderError as error:
        logger.warning("valuation: no SOL history from Birdeye: %s", error)


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
                price_usd=round_price(p),
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
        priced = price_incoming(unpriced)
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
                swap.usd_price, swap.usd_value = swap_usd(swap.price_in_quote, swap.quote_amount, rate)
                valued.append(swap)
        received = list(TokenTransfer.objects.filter(id__in=prices_on_receipt, usd_price=None))
        for transfer in received:
            transfer.usd_price = prices_on_receipt[transfer.id]
        Swap.objects.bulk_update(valued, ["usd_price", "usd_value"])
        TokenTransfer.objects.bulk_update(received, ["usd_price"])
        changed = {(trade.wallet_id, trade.token_id) for trade in [*valued, *received]}
        if changed:
            positions_rewritten(changed)
        if valued:  # token signals count only valued swaps: these are news to them now
            ids = [swap.id for swap in valued]
            transaction.on_commit(lambda: queue.enqueue_named("signals.tasks.detect_swap_signals", ids))
    return len(valued) + len(received)


def _price_at_receipt(transfers: Sequence[TokenTransfer], birdeye: BirdeyeClient) -> list[TokenTransfer]:
    """Birdeye's historical price of each incoming transfer's token at its block time, where it has one."""
    priced = []
    for transfer in transfers:
        price = birdeye.price_at(transfer.token.mint, _unix(transfer.block_time))
        if price is not None and price > 0:
            transfer.usd_price = round_price(price)
            priced.append(transfer)
    return priced


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())
