"""Helius as the tests see it: real recorded transactions (and copies of them with new signatures),
a client aimed at a scripted server, a paged history responder, webhook deliveries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from providers.helius import HeliusClient
from tests.support.http import Recorded, Reply, ScriptedServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "helius"
RAYDIUM_BUYER = "Ezi9Bn5WAfbVHmWbVHuMCdDhgyZKWxRCGGcexx3EXV8L"
SECRET = "webhook-secret-for-tests"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def fixture_tx(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text())
    return data[0] if isinstance(data, list) else data


def raydium_buy() -> dict[str, Any]:
    return fixture_tx("helius_swap_RAYDIUM_sol_to_pump_token.json")


def signature(n: int) -> str:
    digits = ""
    while True:
        n, rest = divmod(n, 58)
        digits = B58[rest] + digits
        if n == 0:
            break
    return "4sig" + digits.rjust(84, "z")


def raydium_history(count: int, newest_time: int = 1_719_909_927) -> list[dict[str, Any]]:
    """`count` copies of the real Raydium buy with distinct signatures, newest first, a minute apart."""
    txs = []
    for n in range(count):
        tx = copy.deepcopy(raydium_buy())
        tx["signature"] = signature(n)
        tx["timestamp"] = newest_time - 60 * n
        tx["slot"] = 274_000_000 - n
        txs.append(tx)
    return txs


def helius_for(server: ScriptedServer) -> HeliusClient:
    return HeliusClient(server.url, "test-key", rate_per_second=0, sleep=lambda _: None, max_attempts=2)


def paged(txs: list[dict[str, Any]], fail_after_pages: int | None = None):
    """A Helius history responder over `txs`; with `fail_after_pages`, later pages answer 400 (a dead worker)."""
    served = []

    def respond(request: Recorded) -> Reply:
        if fail_after_pages is not None and len(served) >= fail_after_pages:
            return Reply(400, {"error": "simulated crash"})
        limit = int(request.param("limit") or 100)
        cursor = request.param("before-signature")
        start = 0 if cursor is None else [t["signature"] for t in txs].index(cursor) + 1
        served.append(start)
        return Reply(200, txs[start : start + limit])

    return respond


def post_webhook(client, body: Any, secret: str | None = SECRET):
    headers = {} if secret is None else {"HTTP_AUTHORIZATION": secret}
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/hooks/helius/", data=raw, content_type="application/json", **headers)
