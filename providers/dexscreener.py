"""DexScreener client: USD prices of Solana tokens from their most liquid SOL/USDC/USDT pool.

No API key. Built on `providers.base` like `providers.helius`: timeouts, retries with backoff honouring
Retry-After, and one Redis rate limiter shared by all workers (300 requests/minute for the pairs
endpoints). Failures raise `DexScreenerError` only.

No Django at import time; `DexScreenerClient.from_settings()` reads settings when called.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import redis as redis_lib

from providers.base import ProviderClient
from providers.http import ProviderError, json_decimal

PROVIDER = "dexscreener"
DEFAULT_BASE_URL = "https://api.dexscreener.com"
CHAIN_ID = "solana"
TOKENS_BATCH_SIZE = 30  # addresses per /tokens/v1 call
DEFAULT_RATE_PER_SECOND = 5.0  # 300 per minute
# A token's price is read from a pool against one of these (wrapped SOL, USDC, USDT); in a pool
# against another memecoin the USD figure is that coin's price twice removed.
PRICE_QUOTE_MINTS = frozenset(
    {
        "So11111111111111111111111111111111111111112",
        "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
        "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB",
    }
)

Pair = dict[str, Any]


class DexScreenerError(ProviderError):
    """Any failure talking to DexScreener (see `ProviderError` for `transient`/`status`)."""


@dataclass(frozen=True)
class PairPrice:
    """`mint`'s USD price read from one pool, and which pool it was.

    `liquidity_usd` is None when DexScreener gives no liquidity for the pool (e.g. bonding curves).
    """

    mint: str
    price_usd: Decimal
    pair_address: str
    dex_id: str | None
    quote_mint: str
    liquidity_usd: Decimal | None


@dataclass(frozen=True)
class TokenProfile:
    """A token profile from `/token-profiles/latest/v1` (a project paid to list its page)."""

    token_address: str
    url: str | None
    description: str | None


@dataclass(frozen=True)
class TokenBoost:
    """A paid boost from `/token-boosts/latest/v1`: `amount` of this boost, `total_amount` of all of
    the token's active ones. Paid promotion, not merit."""

    token_address: str
    amount: Decimal
    total_amount: Decimal


class DexScreenerClient(ProviderClient):
    """Synchronous DexScreener API client. Thread-safe for concurrent calls.

    With `redis=None` the rate limit is per process.
    """

    provider = PROVIDER
    label = "DexScreener"
    error_class = DexScreenerError
    batch_size = TOKENS_BATCH_SIZE

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        redis: redis_lib.Redis | None = None,
        rate_per_second: float = DEFAULT_RATE_PER_SECOND,
        timeout: float = 10.0,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        rng: Callable[[], float] = random.random,
        key_prefix: str = "aura",
    ) -> None:
        super().__init__(
            base_url,
            redis=redis,
            rate_per_second=rate_per_second,
            timeout=timeout,
            transport=transport,
            sleep=sleep,
            max_attempts=max_attempts,
            rng=rng,
            key_prefix=key_prefix,
        )

    @classmethod
    def from_settings(cls, **overrides: Any) -> DexScreenerClient:
        """Build a client from Django settings; keyword `overrides` win (e.g. `transport=`).

        Reads DEXSCREENER_BASE_URL, DEXSCREENER_RATE_PER_SECOND, DEXSCREENER_TIMEOUT_SECONDS and REDIS_URL.
        """
        from django.conf import settings

        options = cls.settings_options(
            settings.DEXSCREENER_RATE_PER_SECOND, settings.DEXSCREENER_TIMEOUT_SECONDS, overrides
        )
        return cls(settings.DEXSCREENER_BASE_URL, **options)

    def token_pairs(self, mints: Iterable[str]) -> list[Pair]:
        """Every Solana pair DexScreener lists for any of `mints` (as a base or quote token),
        asked 30 mints a call (`GET /tokens/v1/solana/<mint,mint,...>`)."""
        wanted = list(dict.fromkeys(mints))
        pairs: list[Pair] = []
        for start in range(0, len(wanted), TOKENS_BATCH_SIZE):
            chunk = wanted[start : start + TOKENS_BATCH_SIZE]
            path = f"/tokens/v1/{CHAIN_ID}/" + ",".join(quote(mint, safe="") for mint in chunk)
            pairs.extend(_pairs_of(self.http.get(path), path))
        return pairs

    def token_prices(self, mints: Iterable[str]) -> dict[str, PairPrice]:
        """USD price of each of `mints` from its best pool (see `best_pair_prices`); mints without
        a usable pool are absent."""
        wanted = list(dict.fromkeys(mints))
        return best_pair_prices(self.token_pairs(wanted), wanted)

    def latest_token_profiles(self) -> list[TokenProfile]:
        """The newest token profiles on Solana (other chains' are dropped)."""
        path = "/token-profiles/latest/v1"
        profiles = []
        for item in _solana_items(self.http.get(path), path):
            url, description = _optional_text(item.get("url")), _optional_text(item.get("description"))
            profiles.append(TokenProfile(item["tokenAddress"], url, description))
        return profiles

    def latest_token_boosts(self) -> list[TokenBoost]:
        """The newest boosts on Solana (other chains' are dropped); one without amounts is refused."""
        path = "/token-boosts/latest/v1"
        boosts = []
        for item in _solana_items(self.http.get(path), path):
            try:
                amount, total = json_decimal(item.get("amount")), json_decimal(item.get("totalAmount"))
            except ValueError as error:
                raise _shape_error(path, f"boost of {item['tokenAddress']}: {error}") from None
            if amount is None or total is None:
                raise _shape_error(path, f"boost of {item['tokenAddress']} has no amount")
            boosts.append(TokenBoost(item["tokenAddress"], amount, total))
        return boosts


def _solana_items(body: Any, path: str) -> list[dict[str, Any]]:
    """The Solana entries of a profiles/boosts answer: an array (a lone object is taken as one)."""
    items = [body] if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise _shape_error(path, f"body is {type(body).__name__}, expected an array")
    wanted = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("tokenAddress"), str):
            raise _shape_error(path, f"item {index} has no tokenAddress")
        if item.get("chainId") == CHAIN_ID:
            wanted.append(item)
    return wanted


def _shape_error(path: str, detail: str) -> DexScreenerError:
    return DexScreenerError(f"{PROVIDER}: GET {path} failed (permanent): {detail}", provider=PROVIDER)


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def best_pair_prices(pairs: Iterable[Pair], mints: Iterable[str]) -> dict[str, PairPrice]:
    """For each of `mints`, the price from the pool with the most `liquidity.usd` among its Solana
    pools where the mint is the base token, the quote is wSOL, USDC or USDT, and `priceUsd` is a
    positive number. A pool whose liquidity is reported as 0 is dead and skipped; one without a
    liquidity figure counts as 0 but is kept. On a tie the first pool listed wins.

    The mint must be the base token: `priceUsd` is the base token's price, so in the SOL/USDC pool
    it is SOL's price, not USDC's. Pairs lacking these fields are ignored, not errors.
    """
    wanted = set(mints)
    best: dict[str, tuple[Decimal, PairPrice]] = {}
    for pair in pairs:
        candidate = _pair_price(pair, wanted)
        if candidate is None:
            continue
        rank = candidate.liquidity_usd if candidate.liquidity_usd is not None else Decimal(0)
        current = best.get(candidate.mint)
        if current is None or rank > current[0]:
            best[candidate.mint] = (rank, candidate)
    return {mint: price for mint, (_, price) in best.items()}


def _pair_price(pair: Pair, wanted: set[str]) -> PairPrice | None:
    if pair.get("chainId", CHAIN_ID) != CHAIN_ID:
        return None
    base, quote_token = pair.get("baseToken"), pair.get("quoteToken")
    if not isinstance(base, dict) or not isinstance(quote_token, dict):
        return None
    mint, quote_mint = base.get("address"), quote_token.get("address")
    if mint not in wanted or quote_mint not in PRICE_QUOTE_MINTS:
        return None
    pair_address = pair.get("pairAddress")
    if not isinstance(pair_address, str):
        return None
    try:
        price_usd = json_decimal(pair.get("priceUsd"))
        liquidity = pair.get("liquidity")
        liquidity_usd = json_decimal(liquidity.get("usd")) if isinstance(liquidity, dict) else None
    except ValueError:
        return None
    if price_usd is None or price_usd <= 0:
        return None
    if liquidity_usd is not None and liquidity_usd <= 0:
        return None
    dex_id = pair.get("dexId")
    return PairPrice(
        mint=mint,
        price_usd=price_usd,
        pair_address=pair_address,
        dex_id=dex_id if isinstance(dex_id, str) else None,
        quote_mint=quote_mint,
        liquidity_usd=liquidity_usd,
    )


def _pairs_of(body: Any, path: str) -> list[Pair]:
    """The pairs of a `/tokens/v1` answer (a bare array), or of the legacy `/latest/dex/tokens`
    object `{"schemaVersion", "pairs": [...] | null}`, which some mirrors and simulators still serve."""
    if isinstance(body, dict) and "pairs" in body:
        body = body["pairs"] if body["pairs"] is not None else []
    if not isinstance(body, list):
        raise DexScreenerError(
            f"{PROVIDER}: GET {path} failed (permanent): body is {type(body).__name__}, expected a list of pairs",
            provider=PROVIDER,
        )
    for index, pair in enumerate(body):
        if not isinstance(pair, dict):
            raise DexScreenerError(
                f"{PROVIDER}: GET {path} failed (permanent): pair {index} is {type(pair).__name__}, expected an object",
                provider=PROVIDER,
            )
    return body
