"""Helius client: Enhanced Transactions history and webhook management.

Built on `providers.http`: every call has a timeout, transient faults are retried with backoff, every
request goes through one Redis rate limiter shared by all workers, and the credits each call
costs are counted in Redis. Failures raise `HeliusError` only. Endpoint facts: the
reference notes on the Helius API (paging, parsing, webhooks, credits).

No Django at import time; `HeliusClient.from_settings()` reads settings when called.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

import redis as redis_lib

from providers.base import ProviderClient
from providers.http import CreditMeter, ProviderError

PROVIDER = "helius"
DEFAULT_BASE_URL = "https://api-mainnet.helius-rpc.com"
# Helius's pricing: each Enhanced Transactions call and each webhook create/edit/delete costs 100.
ENHANCED_CALL_CREDITS = 100
WEBHOOK_CALL_CREDITS = 100
PAGE_LIMIT_MAX = 100
WEBHOOK_ADDRESSES_MAX = 100_000
# Each continuation of a type-filtered search is another 100-credit call; stop a runaway scan.
MAX_SEARCH_CONTINUATIONS = 25

# Both wordings seen in the docs: "...the `before-signature` parameter set to <SIG>." (2026) and
# "...with the before parameter set to <SIG>" (Dec 2025). Only "set to <base58>" is relied on.
_CONTINUE_FROM = re.compile(r"set to\s*[`'\"]?([1-9A-HJ-NP-Za-km-z]{32,100})")

Transaction = dict[str, Any]
Webhook = dict[str, Any]


class HeliusError(ProviderError):
    """Any failure talking to Helius (see `ProviderError` for `transient`/`status`)."""


class HeliusClient(ProviderClient):
    """Synchronous Helius API client. Thread-safe for concurrent calls (httpx.Client is).

    `base_url` is the API host (e.g. https://api-mainnet.helius-rpc.com, or the market
    simulator); a trailing `/v0` as in the SDK's base URL is accepted and dropped.
    `before_param` names the history cursor: `before-signature` (current) or `before` (pre-Dec
    2025). With `redis=None` the rate limit is per process and no credits are counted.
    """

    provider = PROVIDER
    label = "Helius"
    error_class = HeliusError

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        redis: redis_lib.Redis | None = None,
        rate_per_second: float = 2.0,
        before_param: str = "before-signature",
        timeout: float = 10.0,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        rng: Callable[[], float] = random.random,
        key_prefix: str = "aura",
    ) -> None:
        self.before_param = before_param
        self.meter = CreditMeter(redis, f"{key_prefix}:credits") if redis is not None else None
        super().__init__(
            _api_root(base_url),
            redis=redis,
            rate_per_second=rate_per_second,
            timeout=timeout,
            transport=transport,
            sleep=sleep,
            max_attempts=max_attempts,
            rng=rng,
            key_prefix=key_prefix,
            params={"api-key": api_key},
            redact=[api_key],
        )

    @classmethod
    def from_settings(cls, **overrides: Any) -> HeliusClient:
        """Build a client from Django settings; keyword `overrides` win (e.g. `transport=`).

        Reads HELIUS_BASE_URL, HELIUS_API_KEY, HELIUS_RATE_PER_SECOND, HELIUS_HISTORY_BEFORE_PARAM,
        HELIUS_TIMEOUT_SECONDS and REDIS_URL.
        """
        from django.conf import settings

        options = cls.settings_options(settings.HELIUS_RATE_PER_SECOND, settings.HELIUS_TIMEOUT_SECONDS, overrides)
        options.setdefault("before_param", settings.HELIUS_HISTORY_BEFORE_PARAM)
        return cls(settings.HELIUS_BASE_URL, settings.HELIUS_API_KEY, **options)

    # -- Enhanced Transactions -------------------------------------------------------------

    def address_transactions_page(
        self, address: str, *, before: str | None = None, limit: int = PAGE_LIMIT_MAX
    ) -> list[Transaction]:
        """One page of `address`'s enhanced transactions, newest first, older than `before`.

        An empty list means there is nothing older. When Helius answers with its "Failed to find
        events ... set to <SIG>" object (type-filtered scans), the search is continued from that
        signature, so the caller only ever sees pages. Costs 100 credits per underlying call.
        """
        if not 1 <= limit <= PAGE_LIMIT_MAX:
            raise ValueError(f"limit must be 1..{PAGE_LIMIT_MAX}, got {limit}")
        path = f"/v0/addresses/{quote(address, safe='')}/transactions"
        cursor = before
        for _ in range(MAX_SEARCH_CONTINUATIONS + 1):
            params: dict[str, Any] = {"limit": limit}
            if cursor:
                params[self.before_param] = cursor
            body = self._call("GET", path, params=params, credits=ENHANCED_CALL_CREDITS)
            if isinstance(body, list):
                return _checked_transactions(body, f"history page of {address}")
            next_cursor = _continuation_signature(body, f"history page of {address}")
            if next_cursor == cursor:
                raise HeliusError(
                    f"helius: history search for {address} asked to continue from {cursor} again",
                    provider=PROVIDER,
                )
            cursor = next_cursor
        raise HeliusError(
            f"helius: history search for {address} found nothing after "
            f"{MAX_SEARCH_CONTINUATIONS} continuations (last cursor {cursor})",
            provider=PROVIDER,
            transient=True,
        )

    def iter_address_history(
        self,
        address: str,
        *,
        until_signature: str | None = None,
        not_before_time: int | None = None,
        before: str | None = None,
        limit: int = PAGE_LIMIT_MAX,
    ) -> Iterator[list[Transaction]]:
        """Yield non-empty pages of `address`'s history, newest first, paging backwards.

        Stops after an empty page, at `until_signature` (it and everything older are left out),
        or at the first transaction whose `timestamp` is older than `not_before_time` (unix
        seconds; it and everything older are left out). A transaction without a timestamp is
        kept. Raises HeliusError if the server ignores the paging cursor (a renamed parameter
        would otherwise return page one forever, at 100 credits a call).
        """
        cursor = before
        while True:
            page = self.address_transactions_page(address, before=cursor, limit=limit)
            if not page:
                return
            if cursor is not None and any(tx["signature"] == cursor for tx in page):
                raise HeliusError(
                    f"helius: history of {address} repeated cursor {cursor}; the server seems to "
                    f"ignore the {self.before_param!r} parameter (HELIUS_HISTORY_BEFORE_PARAM)",
                    provider=PROVIDER,
                )
            kept = _newer_part(page, until_signature, not_before_time)
            if kept:
                yield kept
            if len(kept) < len(page):
                return
            cursor = page[-1]["signature"]

    # -- Webhooks --------------------------------------------------------------------------

    def list_webhooks(self) -> list[Webhook]:
        """All webhooks of this API key's project."""
        body = self._call("GET", "/v0/webhooks")
        if not isinstance(body, list):
            raise HeliusError(
                f"helius: list webhooks returned {type(body).__name__}, expected a list", provider=PROVIDER
            )
        return body

    def sync_webhook(self, url: str, addresses: Iterable[str], auth_header: str) -> Webhook:
        """Make one enhanced `ANY` webhook to `url` watch exactly `addresses`; return it.

        Updates the first existing webhook with the same URL, or creates one. When it already
        matches, nothing is sent (saving 100 credits per periodic sync).
        """
        wanted = _webhook_body(url, addresses, auth_header, "enhanced", ("ANY",))
        existing = next((w for w in self.list_webhooks() if w.get("webhookURL") == url), None)
        if existing is None:
            return self._webhook_call("POST", "/v0/webhooks", wanted)
        if _webhook_matches(existing, wanted):
            return existing
        return self._webhook_call("PUT", f"/v0/webhooks/{quote(existing['webhookID'], safe='')}", wanted)

    # -- plumbing --------------------------------------------------------------------------

    def _webhook_call(self, method: str, path: str, body: dict[str, Any]) -> Webhook:
        webhook = self._call(method, path, json_body=body, credits=WEBHOOK_CALL_CREDITS)
        if not isinstance(webhook, dict) or "webhookID" not in webhook:
            raise HeliusError(
                f"helius: {method} {path} returned no webhook object: {str(webhook)[:200]}",
                provider=PROVIDER,
            )
        return webhook

    def _call(self, method: str, path: str, *, credits: int = 0, **kwargs: Any) -> Any:
        body = self.http.request(method, path, **kwargs)
        if credits and self.meter is not None:
            self.meter.add(PROVIDER, credits)
        return body


def _api_root(base_url: str) -> str:
    root = base_url.rstrip("/")
    return root[: -len("/v0")] if root.endswith("/v0") else root


def _checked_transactions(body: list[Any], what: str) -> list[Transaction]:
    """`body` itself, after checking every item is an object with a string `signature`."""
    for index, tx in enumerate(body):
        if not isinstance(tx, dict) or not isinstance(tx.get("signature"), str):
            raise HeliusError(f"helius: {what}: item {index} is not a transaction with a signature", provider=PROVIDER)
    return body


def _continuation_signature(body: Any, what: str) -> str:
    """The signature to continue from, named by Helius's "Failed to find events" error object."""
    message = body.get("error") if isinstance(body, dict) else None
    if not isinstance(message, str):
        raise HeliusError(
            f"helius: {what}: expected a list, got {type(body).__name__}: {str(body)[:200]}",
            provider=PROVIDER,
        )
    match = _CONTINUE_FROM.search(message)
    if match is None:
        raise HeliusError(f"helius: {what}: {message[:300]}", provider=PROVIDER)
    return match.group(1)


def _newer_part(page: list[Transaction], until_signature: str | None, not_before_time: int | None) -> list[Transaction]:
    """The leading (newest) part of `page` above the until-signature and time boundaries."""
    for index, tx in enumerate(page):
        if until_signature is not None and tx["signature"] == until_signature:
            return page[:index]
        timestamp = tx.get("timestamp")
        if not_before_time is not None and isinstance(timestamp, (int, float)) and timestamp < not_before_time:
            return page[:index]
    return page


def _webhook_body(
    url: str,
    addresses: Iterable[str],
    auth_header: str,
    webhook_type: str,
    transaction_types: Sequence[str],
) -> dict[str, Any]:
    """A CreateWebhookRequest body; addresses de-duplicated, order kept."""
    unique = list(dict.fromkeys(addresses))
    if len(unique) > WEBHOOK_ADDRESSES_MAX:
        raise ValueError(f"a Helius webhook takes at most {WEBHOOK_ADDRESSES_MAX} addresses, got {len(unique)}")
    return {
        "webhookURL": url,
        "transactionTypes": list(transaction_types),
        "accountAddresses": unique,
        "webhookType": webhook_type,
        "authHeader": auth_header,
    }


def _webhook_matches(existing: Webhook, wanted: dict[str, Any]) -> bool:
    return (
        set(existing.get("accountAddresses") or []) == set(wanted["accountAddresses"])
        and set(existing.get("transactionTypes") or []) == set(wanted["transactionTypes"])
        and existing.get("webhookType") == wanted["webhookType"]
        and existing.get("authHeader") == wanted["authHeader"]
    )
