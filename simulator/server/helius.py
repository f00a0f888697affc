"""The simulator's Helius API: transaction history, parsing by signature, webhooks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from simulator.base58 import derived_address
from simulator.market import SimTransaction
from simulator.payloads import type_and_source
from simulator.server.protocol import HttpError, _Reply, _Request

PAGE_LIMIT_MAX = 100
PARSE_BATCH_MAX = 100
WEBHOOK_TYPES = ("enhanced", "raw", "discord", "enhancedDevnet", "rawDevnet", "discordDevnet")


class HeliusApi:
    """Helius's request handlers, mixed into `MarketSimulator` (its market, lock and webhooks)."""

    def _helius_key(self, request: _Request) -> str:
        key = request.param("api-key")
        if not key:
            raise HttpError(401, {"error": "invalid api key provided"})
        return key

    def _helius_history(self, request: _Request) -> Any:
        self._helius_key(request)
        address = request.match["address"]
        limit_text = request.param("limit", "10")
        try:
            limit = int(limit_text or "")
        except ValueError:
            raise HttpError(400, {"error": f"invalid limit: {limit_text}"}) from None
        if not 1 <= limit <= PAGE_LIMIT_MAX:
            raise HttpError(400, {"error": f"limit must be between 1 and {PAGE_LIMIT_MAX}"})
        before = request.param("before-signature") or request.param("before")
        wanted_type, wanted_source = request.param("type"), request.param("source")
        with self.lock:
            if before is not None and before not in self.market.by_signature:
                raise HttpError(400, {"error": f"before-signature {before} not found"})
            if wanted_type is None and wanted_source is None:
                page = self.market.history_of(address, before=before, limit=limit)
            else:
                page, stopped_at = self._filtered_history(address, before, limit, wanted_type, wanted_source)
                if not page and stopped_at is not None:
                    return {"error": "Failed to find events within the search period. To continue search, query the "
                                     f"API again with the `before-signature` parameter set to {stopped_at}."}
        return _Reply(200, self._json_array(page), {"Content-Type": "application/json"})

    def _filtered_history(self, address: str, before: str | None, limit: int, wanted_type: str | None,
                          wanted_source: str | None) -> tuple[list[SimTransaction], str | None]:
        """Matches of a type/source filter, scanning at most `type_search_window` transactions.

        Returns (page, signature the scan stopped at when it gave up, or None).
        """
        matches: list[SimTransaction] = []
        scanned = 0
        cursor = before
        while True:
            chunk = self.market.history_of(address, before=cursor, limit=PAGE_LIMIT_MAX)
            if not chunk:
                return matches, None
            for tx in chunk:
                scanned += 1
                tx_type, tx_source = type_and_source(tx)
                if (wanted_type in (None, tx_type)) and (wanted_source in (None, tx_source)):
                    matches.append(tx)
                    if len(matches) == limit:
                        return matches, None
                if scanned >= self.config.type_search_window:
                    return matches, tx.signature
            cursor = chunk[-1].signature

    def _helius_parse(self, request: _Request) -> Any:
        self._helius_key(request)
        body = request.json()
        signatures = body.get("transactions") if isinstance(body, dict) else None
        if not isinstance(signatures, list) or not all(isinstance(s, str) for s in signatures):
            raise HttpError(400, {"error": "body must be {\"transactions\": [signature, ...]}"})
        if len(signatures) > PARSE_BATCH_MAX:
            raise HttpError(400, {"error": f"at most {PARSE_BATCH_MAX} transactions per request"})
        with self.lock:
            found = [self.market.by_signature[s] for s in signatures if s in self.market.by_signature]
        return _Reply(200, self._json_array(found), {"Content-Type": "application/json"})

    def _webhook_list(self, request: _Request) -> Any:
        key = self._helius_key(request)
        with self.lock:
            return [e["webhook"] for e in self._webhooks.values() if e["api_key"] == key]

    def _webhook_create(self, request: _Request) -> Any:
        key = self._helius_key(request)
        settings = _webhook_settings(request.json(), partial=False)
        webhook = {"webhookID": str(uuid.uuid4()), "wallet": derived_address("helius project", key), **settings}
        with self.lock:
            self._webhooks[webhook["webhookID"]] = _webhook_entry(key, webhook)
        return webhook

    def _webhook_get(self, request: _Request) -> Any:
        return self._own_webhook(request)["webhook"]

    def _webhook_update(self, request: _Request) -> Any:
        entry = self._own_webhook(request)
        settings = _webhook_settings(request.json(), partial=True)
        with self.lock:
            webhook = {**entry["webhook"], **settings}
            self._webhooks[webhook["webhookID"]] = _webhook_entry(entry["api_key"], webhook)
        return webhook

    def _webhook_delete(self, request: _Request) -> Any:
        entry = self._own_webhook(request)
        with self.lock:
            self._webhooks.pop(entry["webhook"]["webhookID"], None)
        return _Reply(200, b"")

    def _own_webhook(self, request: _Request) -> dict[str, Any]:
        key = self._helius_key(request)
        with self.lock:
            entry = self._webhooks.get(request.match["id"])
        if entry is None or entry["api_key"] != key:
            raise HttpError(404, {"error": "Webhook not found"})
        return entry


def _webhook_settings(body: Any, *, partial: bool) -> dict[str, Any]:
    """The CreateWebhookRequest fields of `body`, validated (all required unless `partial`)."""
    if not isinstance(body, dict):
        raise HttpError(400, {"error": "body must be a JSON object"})
    settings: dict[str, Any] = {}
    checks: dict[str, Callable[[Any], bool]] = {
        "webhookURL": lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
        "transactionTypes": lambda v: isinstance(v, list) and bool(v) and all(isinstance(t, str) for t in v),
        "accountAddresses": lambda v: isinstance(v, list) and len(v) <= 100_000
        and all(isinstance(a, str) for a in v),
        "webhookType": lambda v: v in WEBHOOK_TYPES,
        "authHeader": lambda v: v is None or isinstance(v, str),
    }
    for name, valid in checks.items():
        if name not in body:
            if not partial and name != "authHeader":
                raise HttpError(400, {"error": f"{name} is required"})
            continue
        if not valid(body[name]):
            raise HttpError(400, {"error": f"invalid {name}"})
        settings[name] = body[name]
    if not partial:
        settings.setdefault("authHeader", None)
    for extra in ("encoding", "txnStatus"):
        if extra in body:
            settings[extra] = body[extra]
    return settings


def _webhook_entry(api_key: str, webhook: dict[str, Any]) -> dict[str, Any]:
    return {"api_key": api_key, "webhook": webhook, "accounts": frozenset(webhook["accountAddresses"])}
