"""What every provider client shares: from its configuration, one rate limiter and one JSON client.

No Django at import time; `ProviderClient.settings_options()` reads Django settings when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self

import redis as redis_lib

from providers.http import JsonHttpClient, ProviderError, redis_client, shared_rate_limiter


class ProviderClient:
    """A client of one external API: its `http` (a JsonHttpClient behind the provider's shared rate
    limiter), closed when it is done with. Use as `with Client.from_settings() as client: ...`.

    Subclasses name their `provider` (the key of its rate limiter, credits and log lines), a human
    `label` for configuration errors, and their `error_class`.
    """

    provider: ClassVar[str]
    label: ClassVar[str]
    error_class: ClassVar[type[ProviderError]] = ProviderError
    http: JsonHttpClient

    def __init__(
        self,
        base_url: str,
        *,
        redis: redis_lib.Redis | None,
        rate_per_second: float,
        timeout: float,
        transport: Any,
        sleep: Callable[[float], None],
        max_attempts: int,
        rng: Callable[[], float],
        key_prefix: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        redact: Iterable[str] = (),
    ) -> None:
        if not base_url:
            raise ValueError(f"{self.label} base_url is empty")
        limiter = shared_rate_limiter(redis, f"{key_prefix}:ratelimit:{self.provider}", rate_per_second, sleep=sleep)
        self.http = JsonHttpClient(
            base_url.rstrip("/"),
            provider=self.provider,
            params=params,
            headers=headers,
            timeout=timeout,
            max_attempts=max_attempts,
            rate_limiter=limiter,
            transport=transport,
            sleep=sleep,
            rng=rng,
            error_class=self.error_class,
            redact=list(redact),
        )

    @staticmethod
    def settings_options(rate_per_second: float | None, timeout: float, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor options every `from_settings` shares: the Redis of REDIS_URL, the rate and the
        timeout given; keyword `overrides` win (e.g. `transport=`)."""
        from django.conf import settings

        options: dict[str, Any] = {
            "redis": redis_client(settings.REDIS_URL),
            "rate_per_second": rate_per_second,
            "timeout": timeout,
        }
        options.update(overrides)
        return options

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
