"""The simulator's `/sim/*` control API: faults, wallets, tokens, stats, forced trades."""

from __future__ import annotations

import json
from typing import Any

from simulator.market import SHAPES, Market, NothingToSell
from simulator.payloads import MarketData
from simulator.server.protocol import Fault, HttpError, _Reply, _Request


class ControlApi:
    """The `/sim/*` request handlers tests and benchmarks use, mixed into `MarketSimulator`."""

    def _faults_list(self, request: _Request) -> Any:
        with self.lock:
            return {"faults": [f.describe() for f in self._faults]}

    def _faults_add(self, request: _Request) -> Any:
        fault = _fault_from(request.json())
        with self.lock:
            self._faults.append(fault)
            return {"faults": [f.describe() for f in self._faults]}

    def _faults_clear(self, request: _Request) -> Any:
        with self.lock:
            self._faults.clear()
        return {"faults": []}

    def _sim_wallets(self, request: _Request) -> Any:
        return [{"address": w.address, "label": w.label, "tags": list(w.tags), "skill": w.skill}
                for w in self.market.wallets]

    def _sim_tokens(self, request: _Request) -> Any:
        market = self.market
        with self.lock:
            data = MarketData(market, self.now())
            # Only the past: a graduation or rug still to come is the market's secret.
            return [{"mint": t.mint, "symbol": t.symbol, "name": t.name, "decimals": t.decimals, "kind": t.kind,
                     "hostile": t.hostile, "launchTime": _past_minute(market, t.launch_minute, data.minute),
                     "graduationTime": _past_minute(market, t.graduation_minute, data.minute),
                     "rugTime": _past_minute(market, t.rug_minute, data.minute),
                     "priceUsd": data.price(t.mint)} for t in market.tokens]

    def _sim_stats(self, request: _Request) -> Any:
        with self.lock:
            market = self.market
            kinds: dict[str, int] = {}
            for tx in market.transactions:
                kinds[tx.kind] = kinds.get(tx.kind, 0) + 1
            pending = len(self._deliveries)
            staged = self.episodes.staged if self.episodes else []
            with self._stats_lock:
                counters = dict(self.stats)
            return {
                "seed": market.seed, "wallets": len(market.wallets), "tokens": len(market.tokens),
                "transactions": len(market.transactions), "history_transactions": market.history_count,
                "by_kind": kinds, "history_seconds": round(self.history_seconds, 3),
                "webhooks": len(self._webhooks), "pending_deliveries": pending,
                "pending_faults": sum(f.remaining for f in self._faults), **counters,
                "episodes": [{"at": at, "kind": kind, "mint": mint} for at, kind, mint in staged],
            }

    def _sim_trade(self, request: _Request) -> Any:
        body = request.json() if request.body.strip() else {}
        if not isinstance(body, dict):
            raise HttpError(400, {"error": "body must be a JSON object"})
        wallet, shape, side = body.get("wallet"), body.get("shape"), body.get("side")
        if shape is not None and shape not in SHAPES:
            raise HttpError(400, {"error": f"shape must be one of {', '.join(SHAPES)}"})
        if side not in (None, "buy", "sell"):
            raise HttpError(400, {"error": "side must be buy or sell"})
        with self.lock:
            if wallet is not None and wallet not in self.market.wallets_by_address:
                raise HttpError(404, {"error": f"unknown wallet {wallet}"})
            try:
                tx = self.market.force_trade(self.now(), wallet=wallet, shape=shape, side=side,
                                             failed=bool(body.get("failed")))
            except NothingToSell as error:
                raise HttpError(409, {"error": str(error)}) from None
        self._published([tx])
        return _Reply(200, self.rendered(tx), {"Content-Type": "application/json"})

    def _sim_transaction(self, request: _Request) -> Any:
        with self.lock:
            tx = self.market.by_signature.get(request.match["signature"])
        if tx is None:
            raise HttpError(404, {"error": "unknown signature"})
        intent = tx.intent
        return {
            "transaction": json.loads(self.rendered(tx)),
            "wallet": tx.wallet,
            "live": tx.live,
            "intent": None if intent is None else {
                "side": intent.side, "token_mint": intent.token_mint, "token_amount": str(intent.token_amount),
                "quote_mint": intent.quote_mint, "quote_amount": str(intent.quote_amount),
            },
        }


def _fault_from(body: Any) -> Fault:
    if not isinstance(body, dict):
        raise HttpError(400, {"error": "a fault is a JSON object"})
    known = {"status", "retry_after", "count", "path_prefix", "delay", "malformed"}
    unknown = set(body) - known
    if unknown:
        raise HttpError(400, {"error": f"unknown fault fields: {', '.join(sorted(unknown))}"})
    count, status, delay = body.get("count", 1), body.get("status"), body.get("delay", 0.0)
    retry_after, prefix, malformed = body.get("retry_after"), body.get("path_prefix", "/"), body.get("malformed", False)
    if not isinstance(count, int) or count < 1:
        raise HttpError(400, {"error": "count must be a positive integer"})
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise HttpError(400, {"error": "status must be an HTTP error status (400-599)"})
    if not isinstance(delay, int | float) or delay < 0 or (retry_after is not None and not isinstance(
            retry_after, int | float)):
        raise HttpError(400, {"error": "delay and retry_after are seconds"})
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise HttpError(400, {"error": "path_prefix must start with /"})
    if status is None and not delay and not malformed:
        raise HttpError(400, {"error": "a fault needs status, delay or malformed"})
    return Fault(count, prefix, status, retry_after, float(delay), bool(malformed))


def _past_minute(market: Market, minute: int | None, now_minute: int) -> int | None:
    """Unix time of `minute` if it has passed, else None."""
    return None if minute is None or minute > now_minute else market.start_time + minute * 60
