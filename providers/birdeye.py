"""Birdeye client: current and historical token prices, token overview, trending tokens.

Built on `providers.base` like `providers.helius`: every call has a timeout, transient faults are retried
with backoff (honouring Retry-After), every request goes through one Redis rate limiter shared by
all workers, and calls are counted in the credit meter. Answers come in a `{"success": true,
"data": ...}` envelope; `success: false` or any unexpected shape raises `BirdeyeError`
(permanent), never KeyError/TypeError. Prices are `Decimal`s. Endpoint facts: the reference notes on the Birdeye API.

Responses are cached in Redis (`ResponseCache`): prices for 20 s, metadata for 5 minutes. The cache
is an optimisation only; with Redis down every call still works, uncached.

No Django at import time; `BirdeyeClient.from_settings()` reads settings when called.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import redis as redis_lib

from providers.base import ProviderClient
from providers.http import CreditMeter, ProviderError, ResponseCache, json_decimal

logger = logging.getLogger(__name__)

PROVIDER = "birdeye"
DEFAULT_BASE_URL = "https://public-api.birdeye.so"
# The documented maximum of `list_address` was not found in Birdeye's docs. 100 mints keep the
# URL near 4.5 kB, under common 8 kB limits; lower it if Birdeye answers 400/414 to full batches.
MULTI_PRICE_BATCH_SIZE = 100
# Birdeye gives plan sizes in compute units but no per-endpoint cost, so the meter counts calls.
CALL_CREDITS = 1
PRICE_CACHE_SECONDS = 20
METADATA_CACHE_SECONDS = 300
TRENDING_LIMIT_MAX = 20
NEW_LISTING_LIMIT_MAX = 20
HISTORY_INTERVALS = frozenset(
    {"1m", "3m", "5m", "15m", "30m", "1H", "2H", "4H", "6H", "8H", "12H", "1D", "3D", "1W", "1M"}
)
# price_at's fallback looks this far either side of the wanted time for the nearest price point.
PRICE_AT_WINDOW_SECONDS = 900
_MESSAGE_CHARS = 200


class BirdeyeError(ProviderError):
    """Any failure talking to Birdeye (see `ProviderError` for `transient`/`status`)."""


@dataclass(frozen=True)
class BirdeyePrice:
    """A token's USD price as Birdeye reports it (`/defi/multi_price` entries, `/defi/historical_price_unix`).

    `update_unix_time` (unix seconds) is when Birdeye last updated it, None when not given;
    `liquidity`, `price_change_24h` (percent) and `price_in_native` (in SOL) are None when absent.
    """

    mint: str
    value: Decimal
    update_unix_time: int | None
    liquidity: Decimal | None = None
    price_change_24h: Decimal | None = None
    price_in_native: Decimal | None = None


@dataclass(frozen=True)
class TokenOverview:
    """Token metadata and market figures from `/defi/token_overview`; None means "not given".

    `raw` is the whole `data` object, for the 240-odd fields not lifted out here.
    """

    address: str
    symbol: str | None
    name: str | None
    decimals: int | None
    logo_uri: str | None
    price: Decimal | None
    liquidity: Decimal | None
    market_cap: Decimal | None
    fdv: Decimal | None
    holder: int | None
    price_change_24h_percent: Decimal | None
    volume_24h_usd: Decimal | None
    last_trade_unix_time: int | None
    extensions: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class TrendingToken:
    address: str
    symbol: str | None
    name: str | None
    decimals: int | None
    logo_uri: str | None
    rank: int | None
    price: Decimal | None
    liquidity: Decimal | None
    volume_24h_usd: Decimal | None
    volume_24h_change_percent: Decimal | None
    price_24h_change_percent: Decimal | None
    fdv: Decimal | None
    market_cap: Decimal | None


@dataclass(frozen=True)
class TrendingTokens:
    """One page of `/defi/token_trending`: `total` is the size of the whole list."""

    update_unix_time: int | None
    total: int | None
    tokens: tuple[TrendingToken, ...]


@dataclass(frozen=True)
class NewListing:
    """A token Birdeye lists as newly listed (`/defi/v2/tokens/new_listing`): `listed_at` is
    `liquidityAddedAt` as unix seconds (Birdeye writes it in UTC without a zone), None when absent."""

    address: str
    symbol: str | None
    name: str | None
    decimals: int | None
    source: str | None
    listed_at: int | None
    liquidity: Decimal | None


@dataclass(frozen=True)
class TokenSecurityReport:
    """What `/defi/token_security` says of a Solana token. `mint_authority` is `ownerAddress` (who may
    mint more; None once renounced), `freeze_authority` is `freezeAuthority`; `top10_holder_share`
    is `top10HolderPercent`, a fraction of the supply (0.3 = 30 %) despite its name. None = not given.
    `raw` is the whole `data` object."""

    address: str
    mint_authority: str | None
    freeze_authority: str | None
    top10_holder_share: Decimal | None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


class BirdeyeClient(ProviderClient):
    """Synchronous Birdeye public-API client for Solana. Thread-safe for concurrent calls.

    With `redis=None` the rate limit is per process, nothing is cached and no calls are counted.
    `rate_per_second` is the account's budget across all processes (Standard plan: 1, Lite and
    Starter: 15).
    """

    provider = PROVIDER
    label = "Birdeye"
    error_class = BirdeyeError
    batch_size = MULTI_PRICE_BATCH_SIZE

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        redis: redis_lib.Redis | None = None,
        rate_per_second: float = 1.0,
        timeout: float = 10.0,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        rng: Callable[[], float] = random.random,
        key_prefix: str = "aura",
        price_ttl: float = PRICE_CACHE_SECONDS,
        metadata_ttl: float = METADATA_CACHE_SECONDS,
    ) -> None:
        self._api_key = api_key
        self.meter = CreditMeter(redis, f"{key_prefix}:credits") if redis is not None else None
        self.price_cache = ResponseCache(redis, f"{key_prefix}:cache:{PROVIDER}", price_ttl)
        self.metadata_cache = ResponseCache(redis, f"{key_prefix}:cache:{PROVIDER}", metadata_ttl)
        # Set after a 401/403 from /defi/historical_price_unix (not in every plan):
        # price_at then goes straight to /defi/history_price instead of paying for a refusal.
        self.historical_unix_refused = False
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
            headers={"X-API-KEY": api_key, "x-chain": "solana"},
            redact=[api_key],
        )

    @classmethod
    def from_settings(cls, **overrides: Any) -> BirdeyeClient:
        """Build a client from Django settings; keyword `overrides` win (e.g. `transport=`).

        Reads BIRDEYE_BASE_URL, BIRDEYE_API_KEY, BIRDEYE_RATE_PER_SECOND, BIRDEYE_TIMEOUT_SECONDS and REDIS_URL.
        """
        from django.conf import settings

        options = cls.settings_options(settings.BIRDEYE_RATE_PER_SECOND, settings.BIRDEYE_TIMEOUT_SECONDS, overrides)
        return cls(settings.BIRDEYE_BASE_URL, settings.BIRDEYE_API_KEY, **options)

    # -- current prices --------------------------------------------------------------------

    def multi_price(self, mints: Iterable[str]) -> dict[str, BirdeyePrice]:
        """Current prices of `mints` (duplicates ignored), asked in batches of 100 mints a call.

        Mints Birdeye does not know (a null or missing entry, or a null value) are absent from the
        result. Each mint's answer, including "no price", is cached for 20 s. A failed batch raises;
        the batches before it stay cached.
        """
        wanted = list(dict.fromkeys(mints))
        entries = self.price_cache.get_many(_price_key(mint) for mint in wanted)
        answers = {mint: entries[_price_key(mint)] for mint in wanted if _price_key(mint) in entries}
        missing = [mint for mint in wanted if mint not in answers]
        for start in range(0, len(missing), MULTI_PRICE_BATCH_SIZE):
            chunk = missing[start : start + MULTI_PRICE_BATCH_SIZE]
            data = self._data("/defi/multi_price", {"list_address": ",".join(chunk)})
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise self._shape_error("/defi/multi_price", f"data is {type(data).__name__}, expected an object")
            fetched = {mint: data.get(mint) for mint in chunk}
            for mint, entry in fetched.items():
                self._parse_price(mint, entry, "/defi/multi_price")  # refuse a bad shape before caching it
            self.price_cache.set_many({_price_key(mint): entry for mint, entry in fetched.items()})
            answers.update(fetched)
        prices = {mint: self._parse_price(mint, answers[mint], "/defi/multi_price") for mint in wanted}
        return {mint: price for mint, price in prices.items() if price is not None}

    # -- historical prices -----------------------------------------------------------------

    def history_price(self, mint: str, time_from: int, time_to: int, interval: str = "1m") -> list[tuple[int, Decimal]]:
        """(unix_time, USD price) points of `mint` between `time_from` and `time_to` (unix seconds),
        oldest first, one per `interval` (1m … 1M). Points without a price are left out.
        """
        if interval not in HISTORY_INTERVALS:
            raise ValueError(f"interval must be one of {sorted(HISTORY_INTERVALS)}, got {interval!r}")
        path = "/defi/history_price"
        params = {
            "address": mint,
            "address_type": "token",
            "type": interval,
            "time_from": int(time_from),
            "time_to": int(time_to),
        }
        data = self._data(path, params)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise self._shape_error(path, f"no items list in {_preview(data)}")
        points: list[tuple[int, Decimal]] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise self._shape_error(path, f"item {index} is {type(item).__name__}, expected an object")
            unix_time = self._int(item.get("unixTime"), path, f"item {index} unixTime")
            value = self._decimal(item.get("value"), path, f"item {index} value")
            if unix_time is not None and value is not None:
                points.append((unix_time, value))
        points.sort(key=lambda point: point[0])
        return points

    def historical_price_unix(self, mint: str, unix_time: int) -> BirdeyePrice | None:
        """`mint`'s price at `unix_time` (`/defi/historical_price_unix`, Solana only, not in every
        plan), None when Birdeye has none."""
        path = "/defi/historical_price_unix"
        data = self._data(path, {"address": mint, "unixtime": int(unix_time)})
        return self._parse_price(mint, data, path)

    def price_at(self, mint: str, unix_time: int, interval: str = "1m") -> Decimal | None:
        """`mint`'s USD price at `unix_time` (e.g. SOL/USD at a swap's time), None when unknown.

        Asks `/defi/historical_price_unix`; when that fails or has no price, takes the point
        nearest `unix_time` (the earlier one on a tie) from `/defi/history_price` within ±15
        minutes. Raises BirdeyeError only when that fallback call fails too.
        """
        if not self.historical_unix_refused:
            try:
                point = self.historical_price_unix(mint, unix_time)
            except BirdeyeError as exc:
                if exc.status in (401, 403):
                    self.historical_unix_refused = True
                logger.warning("birdeye: historical price of %s at %s failed, using history: %s", mint, unix_time, exc)
            else:
                if point is not None:
                    return point.value
        window = self.history_price(
            mint, unix_time - PRICE_AT_WINDOW_SECONDS, unix_time + PRICE_AT_WINDOW_SECONDS, interval
        )
        if not window:
            return None
        return min(window, key=lambda point: (abs(point[0] - unix_time), point[0]))[1]

    # -- metadata --------------------------------------------------------------------------

    def token_overview(self, mint: str) -> TokenOverview | None:
        """Metadata and market figures of `mint`, None when Birdeye has nothing; cached 5 minutes."""
        path = "/defi/token_overview"
        key = f"overview:{mint}"
        cached = self.metadata_cache.get_many([key])
        if key in cached:
            data = cached[key]
        else:
            data = self._data(path, {"address": mint})
        if data is None or data == {}:
            overview = None
        elif isinstance(data, dict):
            overview = self._parse_overview(mint, data, path)
        else:
            raise self._shape_error(path, f"data is {type(data).__name__}, expected an object")
        if key not in cached:
            self.metadata_cache.set(key, data)
        return overview

    def token_trending(self, limit: int = TRENDING_LIMIT_MAX, offset: int = 0) -> TrendingTokens:
        """One page of trending tokens, by Birdeye's rank over 24 h (`limit` 1–20); cached 5 minutes."""
        if not 1 <= limit <= TRENDING_LIMIT_MAX:
            raise ValueError(f"limit must be 1..{TRENDING_LIMIT_MAX}, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        path = "/defi/token_trending"
        key = f"trending:24h:rank:{limit}:{offset}"
        cached = self.metadata_cache.get_many([key])
        if key in cached:
            data = cached[key]
        else:
            params = {"sort_by": "rank", "sort_type": "asc", "interval": "24h", "offset": offset, "limit": limit}
            data = self._data(path, params)
        trending = self._parse_trending(data, path)
        if key not in cached:
            self.metadata_cache.set(key, data)
        return trending

    def new_listings(self, limit: int = NEW_LISTING_LIMIT_MAX) -> list[NewListing]:
        """The newest listed tokens, newest first (`limit` 1–20), pump.fun and the like included."""
        if not 1 <= limit <= NEW_LISTING_LIMIT_MAX:
            raise ValueError(f"limit must be 1..{NEW_LISTING_LIMIT_MAX}, got {limit}")
        path = "/defi/v2/tokens/new_listing"
        data = self._data(path, {"limit": limit, "meme_platform_enabled": "true"})
        listings = []
        for address, item in self._addressed(data, "items", path):
            what = f"listing {address}"
            listings.append(
                NewListing(
                    address=address,
                    symbol=self._str(item.get("symbol"), path, f"{what} symbol"),
                    name=self._str(item.get("name"), path, f"{what} name"),
                    decimals=self._int(item.get("decimals"), path, f"{what} decimals"),
                    source=self._str(item.get("source"), path, f"{what} source"),
                    listed_at=self._naive_utc(item.get("liquidityAddedAt"), path, f"{what} liquidityAddedAt"),
                    liquidity=self._decimal(item.get("liquidity"), path, f"{what} liquidity"),
                )
            )
        return listings

    def token_security(self, mint: str) -> TokenSecurityReport | None:
        """Mint and freeze authority and the top-10 holders' share of `mint`; None when Birdeye has
        nothing; cached 5 minutes."""
        path = "/defi/token_security"
        key = f"security:{mint}"
        cached = self.metadata_cache.get_many([key])
        data = cached[key] if key in cached else self._data(path, {"address": mint})
        if data is None or data == {}:
            report = None
        elif isinstance(data, dict):
            report = TokenSecurityReport(
                address=mint,
                mint_authority=self._str(data.get("ownerAddress"), path, "ownerAddress"),
                freeze_authority=self._str(data.get("freezeAuthority"), path, "freezeAuthority"),
                top10_holder_share=self._decimal(data.get("top10HolderPercent"), path, "top10HolderPercent"),
                raw=data,
            )
        else:
            raise self._shape_error(path, f"data is {type(data).__name__}, expected an object")
        if key not in cached:
            self.metadata_cache.set(key, data)
        return report

    # -- plumbing --------------------------------------------------------------------------

    def _data(self, path: str, params: Mapping[str, Any]) -> Any:
        """The `data` of a successful envelope from GET `path`; BirdeyeError otherwise."""
        body = self.http.get(path, params=params)
        if self.meter is not None:
            self.meter.add(PROVIDER, CALL_CREDITS)
        if not isinstance(body, dict):
            raise self._shape_error(path, f"body is {type(body).__name__}, expected an object")
        if body.get("success") is not True:
            message = body.get("message")
            detail = message if isinstance(message, str) else _preview(body)
            raise self._shape_error(path, f"success={body.get('success')!r}: {detail}")
        if "data" not in body:
            raise self._shape_error(path, "success without data")
        return body["data"]

    def _parse_price(self, mint: str, entry: Any, path: str) -> BirdeyePrice | None:
        if entry is None:
            return None
        if not isinstance(entry, dict):
            raise self._shape_error(path, f"price of {mint} is {type(entry).__name__}, expected an object")
        value = self._decimal(entry.get("value"), path, f"value of {mint}")
        if value is None:
            return None
        return BirdeyePrice(
            mint=mint,
            value=value,
            update_unix_time=self._int(entry.get("updateUnixTime"), path, f"updateUnixTime of {mint}"),
            liquidity=self._decimal(entry.get("liquidity"), path, f"liquidity of {mint}"),
            price_change_24h=self._decimal(entry.get("priceChange24h"), path, f"priceChange24h of {mint}"),
            price_in_native=self._decimal(entry.get("priceInNative"), path, f"priceInNative of {mint}"),
        )

    def _parse_overview(self, mint: str, data: dict[str, Any], path: str) -> TokenOverview:
        address = data.get("address", mint)
        if not isinstance(address, str):
            raise self._shape_error(path, f"address is {type(address).__name__}, expected a string")
        extensions = data.get("extensions")
        return TokenOverview(
            address=address,
            symbol=self._str(data.get("symbol"), path, "symbol"),
            name=self._str(data.get("name"), path, "name"),
            decimals=self._int(data.get("decimals"), path, "decimals"),
            logo_uri=self._str(data.get("logoURI"), path, "logoURI"),
            price=self._decimal(data.get("price"), path, "price"),
            liquidity=self._decimal(data.get("liquidity"), path, "liquidity"),
            market_cap=self._decimal(data.get("marketCap"), path, "marketCap"),
            fdv=self._decimal(data.get("fdv"), path, "fdv"),
            holder=self._int(data.get("holder"), path, "holder"),
            price_change_24h_percent=self._decimal(data.get("priceChange24hPercent"), path, "priceChange24hPercent"),
            volume_24h_usd=self._decimal(data.get("v24hUSD"), path, "v24hUSD"),
            last_trade_unix_time=self._int(data.get("lastTradeUnixTime"), path, "lastTradeUnixTime"),
            extensions=extensions if isinstance(extensions, dict) else {},
            raw=data,
        )

    def _addressed(self, data: Any, key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        """The (address, entry) pairs of the list under `key`; a missing list or address is a shape error."""
        entries = data.get(key) if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise self._shape_error(path, f"no {key} list in {_preview(data)}")
        pairs = []
        for index, entry in enumerate(entries):
            address = entry.get("address") if isinstance(entry, dict) else None
            if not isinstance(address, str):
                raise self._shape_error(path, f"{key.rstrip('s')} {index} has no address")
            pairs.append((address, entry))
        return pairs

    def _parse_trending(self, data: Any, path: str) -> TrendingTokens:
        parsed: list[TrendingToken] = []
        for address, token in self._addressed(data, "tokens", path):
            what = f"token {address}"
            parsed.append(
                TrendingToken(
                    address=address,
                    symbol=self._str(token.get("symbol"), path, f"{what} symbol"),
                    name=self._str(token.get("name"), path, f"{what} name"),
                    decimals=self._int(token.get("decimals"), path, f"{what} decimals"),
                    logo_uri=self._str(token.get("logoURI"), path, f"{what} logoURI"),
                    rank=self._int(token.get("rank"), path, f"{what} rank"),
                    price=self._decimal(token.get("price"), path, f"{what} price"),
                    liquidity=self._decimal(token.get("liquidity"), path, f"{what} liquidity"),
                    volume_24h_usd=self._decimal(token.get("volume24hUSD"), path, f"{what} volume24hUSD"),
                    volume_24h_change_percent=self._decimal(
                        token.get("volume24hChangePercent"), path, f"{what} volume24hChangePercent"
                    ),
                    price_24h_change_percent=self._decimal(
                        token.get("price24hChangePercent"), path, f"{what} price24hChangePercent"
                    ),
                    fdv=self._decimal(token.get("fdv"), path, f"{what} fdv"),
                    # Lower-case here, `marketCap` in token_overview.
                    market_cap=self._decimal(token.get("marketcap"), path, f"{what} marketcap"),
                )
            )
        return TrendingTokens(
            update_unix_time=self._int(data.get("updateUnixTime"), path, "updateUnixTime"),
            total=self._int(data.get("total"), path, "total"),
            tokens=tuple(parsed),
        )

    def _naive_utc(self, value: Any, path: str, what: str) -> int | None:
        """An ISO time without a zone ("2024-09-18T17:59:23"), read as UTC, as unix seconds."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._shape_error(path, f"{what}: {_preview(value)} is not a time")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self._shape_error(path, f"{what}: {_preview(value)} is not an ISO time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())

    def _decimal(self, value: Any, path: str, what: str) -> Decimal | None:
        try:
            return json_decimal(value)
        except ValueError as exc:
            raise self._shape_error(path, f"{what}: {exc}") from None

    def _int(self, value: Any, path: str, what: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise self._shape_error(path, f"{what}: expected an integer, got {_preview(value)}")
        if isinstance(value, float) and not value.is_integer():
            raise self._shape_error(path, f"{what}: expected an integer, got {value!r}")
        return int(value)

    def _str(self, value: Any, path: str, what: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        raise self._shape_error(path, f"{what}: expected a string, got {type(value).__name__}")

    def _shape_error(self, path: str, detail: str) -> BirdeyeError:
        message = f"{PROVIDER}: GET {path} failed (permanent): {detail}"
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return BirdeyeError(message, provider=PROVIDER)


def _price_key(mint: str) -> str:
    return f"price:{mint}"


def _preview(value: Any) -> str:
    return str(value)[:_MESSAGE_CHARS]
