"""Current USD prices of tokens, with fallbacks: Birdeye first, then DexScreener, then Jupiter.

`current_prices(mints, sources)` asks each source only for the mints the sources before it could
not price (a provider error or no price), in chunks of the source's `batch_size`, so one failed
chunk costs only its own mints. A mint no source can price is absent from the result: the caller
keeps its last stored price and shows it as stale.

`refresh_prices` is the writer: it stores what `current_prices` found and revalues the holders'
positions. The sources are plain objects with the methods of the Protocols below (in production
the Birdeye, DexScreener and Jupiter clients of `providers`), so tests hand in real clients aimed
at local servers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from django.db import transaction
from django.db.models import Q

from providers.http import ProviderError
from whales.books import ledger
from whales.books.stats import roll_stats
from whales.live import push_figures_refreshed
from whales.models import Position, Token, TokenPrice, round_price
from whales.solana import WSOL_MINT

if TYPE_CHECKING:
    from providers.birdeye import BirdeyePrice
    from providers.dexscreener import PairPrice
    from providers.jupiter import JupiterPrice

logger = logging.getLogger(__name__)

# A Birdeye quote whose `updateUnixTime` is older than this is shown as stale: the token has not
# traded (or Birdeye has not seen a trade) for that long, so the number may be far off.
STALE_AFTER_SECONDS = 600

Source = Literal["birdeye", "dexscreener", "jupiter"]


@dataclass(frozen=True)
class PriceQuote:
    """One token's USD price, where it came from, and when the provider last updated it.

    `updated_at` is unix seconds: Birdeye's `updateUnixTime` when given, else the time of the call
    (DexScreener and Jupiter give no time of their own). `stale` is True when `updated_at` is more
    than the staleness threshold before the call.
    """

    mint: str
    price_usd: Decimal
    source: Source
    updated_at: int
    stale: bool


class BirdeyePrices(Protocol):
    batch_size: int

    def multi_price(self, mints: Iterable[str]) -> Mapping[str, BirdeyePrice]: ...


class DexScreenerPrices(Protocol):
    batch_size: int

    def token_prices(self, mints: Iterable[str]) -> Mapping[str, PairPrice]: ...


class JupiterPrices(Protocol):
    batch_size: int

    def prices(self, mints: Iterable[str]) -> Mapping[str, JupiterPrice]: ...


@dataclass(frozen=True)
class PriceSources:
    """The price clients to ask, in the order Birdeye, DexScreener, Jupiter; None skips one."""

    birdeye: BirdeyePrices | None = None
    dexscreener: DexScreenerPrices | None = None
    jupiter: JupiterPrices | None = None

    @classmethod
    def from_settings(cls) -> PriceSources:
        """All three clients built from Django settings (see each client's `from_settings`).

        Birdeye is left out when BIRDEYE_API_KEY is empty: every call would be a 401.
        """
        from django.conf import settings

        from providers.birdeye import BirdeyeClient
        from providers.dexscreener import DexScreenerClient
        from providers.jupiter import JupiterClient

        birdeye = BirdeyeClient.from_settings() if settings.BIRDEYE_API_KEY else None
        return cls(
            birdeye=birdeye, dexscreener=DexScreenerClient.from_settings(), jupiter=JupiterClient.from_settings()
        )

    def close(self) -> None:
        for client in (self.birdeye, self.dexscreener, self.jupiter):
            close = getattr(client, "close", None)
            if close is not None:
                close()


def current_prices(
    mints: Iterable[str],
    sources: PriceSources,
    *,
    now: int | None = None,
    stale_after: int = STALE_AFTER_SECONDS,
) -> dict[str, PriceQuote]:
    """USD quotes for `mints` (duplicates ignored), in the order given; unpriceable mints are absent.

    Birdeye is asked first; DexScreener gets the mints Birdeye failed on or had no price for, and
    Jupiter what is still missing after that. A zero or negative price counts as no price. A
    Birdeye quote older than `stale_after` seconds is returned marked stale, not passed on: the
    other sources give no update time, so they could not show they are any fresher. Provider
    errors are logged and absorbed; any other exception is a bug and propagates. `now` (unix
    seconds) defaults to the clock at the start of the call.
    """
    wanted = list(dict.fromkeys(mints))
    checked_at = int(time.time()) if now is None else now
    quotes: dict[str, PriceQuote] = {}
    steps: list[tuple[Source, Any]] = [
        ("birdeye", sources.birdeye),
        ("dexscreener", sources.dexscreener),
        ("jupiter", sources.jupiter),
    ]
    for source, client in steps:
        missing = [mint for mint in wanted if mint not in quotes]
        if client is None or not missing:
            continue
        size = max(1, int(client.batch_size))
        for start in range(0, len(missing), size):
            chunk = missing[start : start + size]
            try:
                found = _ask(source, client, chunk, checked_at, stale_after)
            except ProviderError as exc:
                logger.warning(
                    "prices: %s could not price %d mints, trying the next source: %s", source, len(chunk), exc
                )
                continue
            quotes.update(found)
    return {mint: quotes[mint] for mint in wanted if mint in quotes}


def _ask(source: Source, client: Any, chunk: Sequence[str], now: int, stale_after: int) -> dict[str, PriceQuote]:
    quotes: dict[str, PriceQuote] = {}
    if source == "birdeye":
        for mint, price in client.multi_price(chunk).items():
            updated_at = price.update_unix_time if price.update_unix_time is not None else now
            quotes[mint] = PriceQuote(mint, price.value, source, updated_at, now - updated_at > stale_after)
    elif source == "dexscreener":
        for mint, pair in client.token_prices(chunk).items():
            quotes[mint] = PriceQuote(mint, pair.price_usd, source, now, False)
    else:
        for mint, price in client.prices(chunk).items():
            quotes[mint] = PriceQuote(mint, price.usd_price, source, now, False)
    asked = set(chunk)
    return {mint: quote for mint, quote in quotes.items() if mint in asked and quote.price_usd > 0}


PRICE_POINT_RESOLUTION = 60  # seconds: at most one stored price point per token per minute


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
        # The holders' wallets first, as every writer of their positions locks them (whales.books.ledger);
        # a wallet that starts holding one of these tokens meanwhile is valued when it is booked.
        holders = Position.objects.filter(token_id__in=token_ids, holdings__gt=0).values_list("wallet_id", flat=True)
        locked = [wallet.id for wallet in ledger.lock_wallets(holders)]
        points = []
        for mint, quote in sorted(quotes.items()):  # rows locked in one order by every price task
            updated_at = datetime.fromtimestamp(quote.updated_at, UTC)
            Token.objects.filter(id=tokens[mint].id).update(
                price_usd=round_price(quote.price_usd),
                price_source=quote.source,
                price_updated_at=updated_at,
            )
            bucket = quote.updated_at - quote.updated_at % PRICE_POINT_RESOLUTION
            points.append(
                TokenPrice(
                    token_id=tokens[mint].id,
                    at=datetime.fromtimestamp(bucket, UTC),
                    price_usd=round_price(quote.price_usd),
                    source=quote.source,
                )
            )
        TokenPrice.objects.bulk_create(
            points, update_conflicts=True, unique_fields=["token", "at"], update_fields=["price_usd", "source"]
        )
        touched = ledger.revalue_open_positions(token_ids, locked)
        roll_stats(touched)
        transaction.on_commit(lambda: push_figures_refreshed(touched), robust=True)
    return len(quotes)
