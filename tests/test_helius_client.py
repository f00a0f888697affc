"""providers.helius against a real local HTTP server (tests.support.http.ScriptedServer) and Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from providers.helius import HeliusClient, HeliusError
from tests.support.http import Recorded, Reply, ScriptedServer, Sleeps
from tests.support.redis import REDIS_URL

FIXTURES = Path(__file__).parent / "fixtures" / "helius"
WHALE = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
API_KEY = "helius-test-key"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def sig(n: int) -> str:
    """A distinct, valid-looking base58 signature for index `n`."""
    digits = ""
    while True:
        n, rest = divmod(n, 58)
        digits = B58[rest] + digits
        if n == 0:
            break
    return "5sig" + digits.rjust(84, "z")


def tx(n: int, timestamp: int = 1_760_000_000) -> dict[str, Any]:
    return {"signature": sig(n), "timestamp": timestamp, "type": "SWAP", "feePayer": WHALE}


def history(count: int, newest_time: int = 1_760_000_000) -> list[dict[str, Any]]:
    """`count` transactions newest first, one minute apart."""
    return [tx(n, newest_time - 60 * n) for n in range(count)]


def paged_history(txs: list[dict[str, Any]], cursor_param: str = "before-signature"):
    """A responder serving `txs` in pages of `limit`, paged backwards by `cursor_param`."""

    def respond(request: Recorded) -> Reply:
        limit = int(request.param("limit") or 10)
        cursor = request.param(cursor_param)
        start = 0 if cursor is None else [t["signature"] for t in txs].index(cursor) + 1
        return Reply(200, txs[start : start + limit])

    return respond


def make_helius(server: ScriptedServer, **options: Any) -> tuple[HeliusClient, Sleeps]:
    sleeps = Sleeps()
    settings: dict[str, Any] = {"rate_per_second": 0, "sleep": sleeps, "rng": lambda: 0.5}
    settings.update(options)
    return HeliusClient(server.url, API_KEY, **settings), sleeps


def credits_spent(redis_client: redis.Redis, key_prefix: str) -> tuple[int, int]:
    today = datetime.now(UTC).date().isoformat()
    total = redis_client.get(f"{key_prefix}:credits:helius:total")
    day = redis_client.get(f"{key_prefix}:credits:helius:day:{today}")
    return int(total or 0), int(day or 0)


# -- history paging -------------------------------------------------------------------------


def test_it_follows_history_pagination_to_the_end(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str
) -> None:
    txs = history(300)
    server.responder = paged_history(txs)
    helius, _ = make_helius(server, redis=redis_client, key_prefix=key_prefix)

    pages = list(helius.iter_address_history(WHALE))

    assert [len(p) for p in pages] == [100, 100, 100]
    assert [t for p in pages for t in p] == txs
    assert [r.path for r in server.requests] == [f"/v0/addresses/{WHALE}/transactions"] * 4
    assert [r.param("before-signature") for r in server.requests] == [None, sig(99), sig(199), sig(299)]
    assert all(r.param("limit") == "100" and r.param("api-key") == API_KEY for r in server.requests)
    assert credits_spent(redis_client, key_prefix) == (400, 400)


def test_history_pages_carry_real_enhanced_transactions(server: ScriptedServer) -> None:
    swap = json.loads((FIXTURES / "helius_swap_JUPITER_usdc_to_sol_raydium_clmm.json").read_text())
    server.script(Reply(200, [swap]), Reply(200, []))
    helius, _ = make_helius(server)

    assert list(helius.iter_address_history(WHALE)) == [[swap]]
    assert server.requests[1].param("before-signature") == swap["signature"]


def test_it_stops_at_the_until_signature_and_leaves_it_out(server: ScriptedServer) -> None:
    txs = history(300)
    server.responder = paged_history(txs)
    helius, _ = make_helius(server)

    pages = list(helius.iter_address_history(WHALE, until_signature=sig(150)))

    assert [t for p in pages for t in p] == txs[:150]
    assert len(server.requests) == 2


def test_it_stops_at_transactions_older_than_not_before_time(server: ScriptedServer) -> None:
    txs = history(300, newest_time=1_760_000_000)
    server.responder = paged_history(txs)
    helius, _ = make_helius(server)

    cutoff = 1_760_000_000 - 60 * 120  # tx 120 is exactly at the cutoff and is kept
    pages = list(helius.iter_address_history(WHALE, not_before_time=cutoff))

    assert [t for p in pages for t in p] == txs[:121]
    assert len(server.requests) == 2


def test_it_resumes_from_a_given_before_signature(server: ScriptedServer) -> None:
    txs = history(150)
    server.responder = paged_history(txs)
    helius, _ = make_helius(server)

    pages = list(helius.iter_address_history(WHALE, before=sig(99), limit=25))

    assert [t for p in pages for t in p] == txs[100:]
    assert server.requests[0].param("before-signature") == sig(99)
    assert server.requests[0].param("limit") == "25"


def test_the_history_cursor_parameter_name_is_configurable(server: ScriptedServer) -> None:
    server.responder = paged_history(history(150), cursor_param="before")
    helius, _ = make_helius(server, before_param="before")

    pages = list(helius.iter_address_history(WHALE))

    assert [len(p) for p in pages] == [100, 50]
    assert [r.param("before") for r in server.requests] == [None, sig(99), sig(149)]
    assert all(r.param("before-signature") is None for r in server.requests)


def test_it_refuses_to_loop_when_the_server_ignores_the_cursor(server: ScriptedServer) -> None:
    # An API that no longer knows our cursor name answers page one again, forever.
    server.responder = paged_history(history(300), cursor_param="before")
    helius, _ = make_helius(server, before_param="before-signature")

    pages = helius.iter_address_history(WHALE)
    assert len(next(pages)) == 100
    with pytest.raises(HeliusError, match="ignore the 'before-signature' parameter") as caught:
        next(pages)

    assert caught.value.transient is False
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "wording",
    [
        "Failed to find events within the search period. To continue search, query the API again "
        "with the `before-signature` parameter set to {sig}.",
        "Failed to find events within the search period. To continue search, query the API again "
        "with the before parameter set to {sig}.",
    ],
)
def test_a_type_filter_error_object_continues_from_the_named_signature(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str, wording: str
) -> None:
    server.script(
        Reply(200, {"error": wording.format(sig=sig(5000))}),
        Reply(200, [tx(5001), tx(5002)]),
        Reply(200, []),
    )
    helius, _ = make_helius(server, redis=redis_client, key_prefix=key_prefix)

    pages = list(helius.iter_address_history(WHALE))

    assert pages == [[tx(5001), tx(5002)]]
    assert [r.param("before-signature") for r in server.requests] == [None, sig(5000), sig(5002)]
    assert credits_spent(redis_client, key_prefix)[0] == 300


@pytest.mark.parametrize(
    "body",
    [{"error": "Invalid address"}, {"transactions": []}, "nope", [{"no": "signature"}]],
)
def test_an_unexpected_history_page_is_a_permanent_error(server: ScriptedServer, body: Any) -> None:
    server.script(Reply(200, body))
    helius, _ = make_helius(server)

    with pytest.raises(HeliusError) as caught:
        helius.address_transactions_page(WHALE)

    assert caught.value.transient is False
    assert caught.value.provider == "helius"
    assert len(server.requests) == 1


def test_a_rate_limited_history_call_is_retried_after_retry_after(server: ScriptedServer) -> None:
    server.script(Reply(429, {"error": {"code": -32005, "message": "Rate limit exceeded"}}, {"Retry-After": "3"}))
    server.script(Reply(200, [tx(1)]))
    helius, sleeps = make_helius(server)

    assert helius.address_transactions_page(WHALE) == [tx(1)]
    assert sleeps == [3.0]


def test_an_invalid_key_is_reported_without_the_key(server: ScriptedServer) -> None:
    server.script(Reply(401, {"error": f"invalid api key {API_KEY}"}))
    helius, _ = make_helius(server)

    with pytest.raises(HeliusError) as caught:
        helius.address_transactions_page(WHALE)

    assert (caught.value.status, caught.value.transient) == (401, False)
    assert API_KEY not in str(caught.value)
    assert len(server.requests) == 1


# -- webhooks ---------------------------------------------------------------------------------


class FakeWebhookStore:
    """Server side of the webhook management API, as far as these tests need it."""

    def __init__(self) -> None:
        self.webhooks: dict[str, dict[str, Any]] = {}

    def __call__(self, request: Recorded) -> Reply:
        if request.method == "GET" and request.path == "/v0/webhooks":
            return Reply(200, list(self.webhooks.values()))
        if request.method == "POST" and request.path == "/v0/webhooks":
            webhook_id = f"wh-{len(self.webhooks) + 1}"
            self.webhooks[webhook_id] = {"webhookID": webhook_id, "wallet": "owner", **request.body}
            return Reply(200, self.webhooks[webhook_id])
        webhook_id = request.path.rsplit("/", 1)[1]
        if request.method == "PUT" and webhook_id in self.webhooks:
            self.webhooks[webhook_id].update(request.body)
            return Reply(200, self.webhooks[webhook_id])
        if request.method == "DELETE" and self.webhooks.pop(webhook_id, None):
            return Reply(200, None)
        return Reply(404, {"error": "webhook not found"})


def test_sync_webhook_creates_then_updates_with_all_addresses(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str
) -> None:
    store = FakeWebhookStore()
    store.webhooks["other"] = {"webhookID": "other", "webhookURL": "https://elsewhere.example/hook"}
    server.responder = store
    helius, _ = make_helius(server, redis=redis_client, key_prefix=key_prefix)
    url = "https://aura.example/webhooks/helius"

    created = helius.sync_webhook(url, ["alice-wallet", "bob-wallet"], "Bearer s3cret")
    updated = helius.sync_webhook(url, ["alice-wallet", "bob-wallet", "carol-wallet", "bob-wallet"], "Bearer s3cret")

    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/v0/webhooks"),
        ("POST", "/v0/webhooks"),
        ("GET", "/v0/webhooks"),
        ("PUT", "/v0/webhooks/wh-2"),
    ]
    assert server.requests[1].body == {
        "webhookURL": url,
        "transactionTypes": ["ANY"],
        "accountAddresses": ["alice-wallet", "bob-wallet"],
        "webhookType": "enhanced",
        "authHeader": "Bearer s3cret",
    }
    assert server.requests[3].body == {
        "webhookURL": url,
        "transactionTypes": ["ANY"],
        "accountAddresses": ["alice-wallet", "bob-wallet", "carol-wallet"],
        "webhookType": "enhanced",
        "authHeader": "Bearer s3cret",
    }
    assert created["webhookID"] == updated["webhookID"] == "wh-2"
    assert all(r.param("api-key") == API_KEY for r in server.requests)
    assert credits_spent(redis_client, key_prefix)[0] == 200  # create + update; listing is free


def test_sync_webhook_sends_nothing_when_it_already_matches(server: ScriptedServer) -> None:
    server.responder = store = FakeWebhookStore()
    helius, _ = make_helius(server)
    url = "https://aura.example/webhooks/helius"
    helius.sync_webhook(url, ["alice-wallet", "bob-wallet"], "Bearer s3cret")

    again = helius.sync_webhook(url, ["bob-wallet", "alice-wallet"], "Bearer s3cret")

    assert [r.method for r in server.requests] == ["GET", "POST", "GET"]
    assert again == store.webhooks["wh-1"]


def test_sync_webhook_updates_a_changed_auth_header(server: ScriptedServer) -> None:
    server.responder = FakeWebhookStore()
    helius, _ = make_helius(server)
    url = "https://aura.example/webhooks/helius"
    helius.sync_webhook(url, ["alice-wallet"], "Bearer old")

    helius.sync_webhook(url, ["alice-wallet"], "Bearer new")

    assert server.requests[-1].method == "PUT"
    assert server.requests[-1].body["authHeader"] == "Bearer new"


def test_a_webhook_create_is_not_repeated_after_a_server_error(server: ScriptedServer) -> None:
    server.script(Reply(200, []), Reply(500, {"error": "internal"}), Reply(200, {"webhookID": "dup"}))
    helius, _ = make_helius(server)

    with pytest.raises(HeliusError) as caught:
        helius.sync_webhook("https://aura.example/hook", ["alice-wallet"], "Bearer s3cret")

    assert caught.value.transient is True
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/v0/webhooks"), ("POST", "/v0/webhooks")]


def test_a_webhook_gone_between_listing_and_update_is_a_permanent_error(server: ScriptedServer) -> None:
    url = "https://aura.example/hook"
    listed = {
        "webhookID": "wh-9",
        "webhookURL": url,
        "transactionTypes": ["ANY"],
        "accountAddresses": ["alice-wallet"],
        "webhookType": "enhanced",
        "authHeader": "Bearer old",
    }
    server.script(Reply(200, [listed]), Reply(404, {"error": "webhook not found"}))
    helius, sleeps = make_helius(server)

    with pytest.raises(HeliusError) as caught:
        helius.sync_webhook(url, ["alice-wallet"], "Bearer new")

    assert (caught.value.status, caught.value.transient) == (404, False)
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/v0/webhooks"), ("PUT", "/v0/webhooks/wh-9")]
    assert sleeps == []


# -- rate limiting and configuration ----------------------------------------------------------


def test_calls_go_through_the_shared_redis_rate_limiter(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str
) -> None:
    server.responder = lambda request: Reply(200, [])
    worker_a, sleeps_a = make_helius(server, redis=redis_client, key_prefix=key_prefix, rate_per_second=2)
    worker_b, sleeps_b = make_helius(server, redis=redis_client, key_prefix=key_prefix, rate_per_second=2)

    worker_a.address_transactions_page(WHALE)
    worker_b.address_transactions_page(WHALE)

    # The injected sleep does not wait, so the second worker is told to wait ~one 0.5 s slot.
    assert sleeps_a == []
    assert len(sleeps_b) == 1 and 0.4 < sleeps_b[0] <= 0.5
    assert redis_client.exists(f"{key_prefix}:ratelimit:helius") == 1


def test_from_settings_reads_django_settings(server: ScriptedServer, settings, key_prefix: str) -> None:
    settings.HELIUS_BASE_URL = server.url + "/v0/"
    settings.HELIUS_API_KEY = API_KEY
    settings.HELIUS_HISTORY_BEFORE_PARAM = "before"
    settings.HELIUS_TIMEOUT_SECONDS = 3
    settings.HELIUS_RATE_PER_SECOND = 2.0
    settings.REDIS_URL = REDIS_URL
    server.script(Reply(200, [tx(1)]), Reply(200, []))

    helius = HeliusClient.from_settings(key_prefix=key_prefix, sleep=Sleeps())
    list(helius.iter_address_history(WHALE))

    assert helius.before_param == "before"
    assert helius.http.rate_limiter.rate_per_second == 2.0
    assert [r.path for r in server.requests] == [f"/v0/addresses/{WHALE}/transactions"] * 2
    assert server.requests[1].param("before") == sig(1)
    assert server.requests[1].param("api-key") == API_KEY
