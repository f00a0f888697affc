"""Current USD prices of tokens, with fallbacks: Birdeye first, then DexScreener, then Jupiter.

`current_prices(mints, sources)` asks each source only for the mints the sources before it could
not price (a provider error or no price), in chunks of the source's `batch_size`, so one failed
chunk costs only its own mints. A mint no source can price is absent from the result: the caller
keeps its last stored price and shows it as stale.

Pure apart from `PriceSources.from_settings()`: the sources are plain objects with the methods of
the Protocols below (in production `whales.birdeye.BirdeyeClient`, `whales.dexscreener
.DexScreenerClient`, `whales.jupiter.JupiterClient`), so tests hand in real clients aimed at local
servers. Also home of `json_decimal`, which every price client uses to read numbers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aura.http import ProviderError

if TYPE_CHECKING:
    from whales.birdeye import BirdeyePrice
    from whales.dexscreener import PairPrice
    from whales.jupiter import JupiterPrice

logger = logging.getLogger(__name__)

# A Birdeye quote whose `updateUnixTime` is older than this is shown as stale: the token has not
# traded (or Birdeye has not seen a trade) for that long, so the number may be far off.
STALE_AFTER_SECONDS = 600

Source = Literal["birdeye", "dexscreener", "jupiter"]


def json_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as a `Decimal`; None for JSON null.

    Raises ValueError for anything else (booleans, NaN, infinities, non-numeric text). A float
    from the JSON decoder is converted through `repr`, the shortest text that reads back as the
    same double: the same digits the provider's encoder (JavaScript, Go, Python) wrote, so no
    binary-float noise such as 0.1000000000000000055 gets into a price.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"expected a numeric string, got {value[:40]!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a finite number, got {value[:40]!r}")
        return number
    raise ValueError(f"expected a number, got {type(value).__name__}")


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

        from whales.birdeye import BirdeyeClient
        from whales.dexscreener import DexScreenerClient
        from whales.jupiter import JupiterClient

        birdeye = BirdeyeClient.from_settings() if getattr(settings, "BIRDEYE_API_KEY", "") else None
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
