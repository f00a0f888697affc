"""Jupiter Price API v3 client: USD prices of Solana tokens, the last fallback of current prices.

`GET /price/v3?ids=<up to 50 mints>` with an optional `x-api-key` header. Jupiter
leaves out tokens without a reliable price (not traded for 7 days, or flagged): such mints are
simply absent. Built on `providers.base` like `providers.helius`: timeouts, retries with backoff honouring
Retry-After, one Redis rate limiter shared by all workers. Failures raise `JupiterError` only.

No Django at import time; `JupiterClient.from_settings()` reads settings when called.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import redis as redis_lib

from providers.base import ProviderClient
from providers.http import ProviderError, json_decimal

PROVIDER = "jupiter"
DEFAULT_BASE_URL = "https://api.jup.ag"
PRICE_BATCH_SIZE = 50
# Jupiter's plans: keyless calls to api.jup.ag get 0.5 rps; the Free plan's key gets 1 rps.
KEYLESS_RATE_PER_SECOND = 0.5
KEYED_RATE_PER_SECOND = 1.0
_MESSAGE_CHARS = 200


class JupiterError(ProviderError):
    """Any failure talking to Jupiter (see `ProviderError` for `transient`/`status`)."""


@dataclass(frozen=True)
class JupiterPrice:
    """A token's USD price from Jupiter; the other figures are None when absent.

    `price_change_24h` is in percent (1.29 means +1.29 %). Jupiter gives no update time.
    """

    mint: str
    usd_price: Decimal
    block_id: int | None = None
    decimals: int | None = None
    price_change_24h: Decimal | None = None
    liquidity: Decimal | None = None


class JupiterClient(ProviderClient):
    """Synchronous Jupiter price client. Thread-safe for concurrent calls.

    `api_key=""` calls keylessly. `rate_per_second=None` picks the plan default for the key
    (0.5 keyless, 1 with a key). With `redis=None` the rate limit is per process.
    """

    provider = PROVIDER
    label = "Jupiter"
    error_class = JupiterError
    batch_size = PRICE_BATCH_SIZE

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        *,
        redis: redis_lib.Redis | None = None,
        rate_per_second: float | None = None,
        timeout: float = 10.0,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        rng: Callable[[], float] = random.random,
        key_prefix: str = "aura",
    ) -> None:
        if rate_per_second is None:
            rate_per_second = KEYED_RATE_PER_SECOND if api_key else KEYLESS_RATE_PER_SECOND
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
            headers={"x-api-key": api_key} if api_key else None,
            redact=[api_key],
        )

    @classmethod
    def from_settings(cls, **overrides: Any) -> JupiterClient:
        """Build a client from Django settings; keyword `overrides` win (e.g. `transport=`).

        Reads JUPITER_BASE_URL, JUPITER_API_KEY, JUPITER_RATE_PER_SECOND (None: the plan's default for
        the key), JUPITER_TIMEOUT_SECONDS and REDIS_URL.
        """
        from django.conf import settings

        options = cls.settings_options(settings.JUPITER_RATE_PER_SECOND, settings.JUPITER_TIMEOUT_SECONDS, overrides)
        return cls(settings.JUPITER_BASE_URL, settings.JUPITER_API_KEY, **options)

    def prices(self, mints: Iterable[str]) -> dict[str, JupiterPrice]:
        """USD prices of `mints` (duplicates ignored), asked 50 a call; mints Jupiter leaves out
        (or answers with null) are absent. An answer of the wrong shape raises JupiterError."""
        wanted = list(dict.fromkeys(mints))
        found: dict[str, JupiterPrice] = {}
        for start in range(0, len(wanted), PRICE_BATCH_SIZE):
            chunk = wanted[start : start + PRICE_BATCH_SIZE]
            body = self.http.get("/price/v3", params={"ids": ",".join(chunk)})
            if not isinstance(body, dict):
                raise _shape_error(f"body is {type(body).__name__}, expected an object of prices")
            for mint in chunk:
                price = _parse_price(mint, body.get(mint))
                if price is not None:
                    found[mint] = price
        return found


def _parse_price(mint: str, entry: Any) -> JupiterPrice | None:
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise _shape_error(f"price of {mint} is {type(entry).__name__}, expected an object")
    try:
        usd_price = json_decimal(entry.get("usdPrice"))
        price_change = json_decimal(entry.get("priceChange24h"))
        liquidity = json_decimal(entry.get("liquidity"))
    except ValueError as exc:
        raise _shape_error(f"price of {mint}: {exc}") from None
    if usd_price is None:
        return None
    return JupiterPrice(
        mint=mint,
        usd_price=usd_price,
        block_id=_optional_int(entry.get("blockId")),
        decimals=_optional_int(entry.get("decimals")),
        price_change_24h=price_change,
        liquidity=liquidity,
    )


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shape_error(detail: str) -> JupiterError:
    return JupiterError(f"{PROVIDER}: GET /price/v3 failed (permanent): {detail[:_MESSAGE_CHARS]}", provider=PROVIDER)
