"""The market simulator over real HTTP: Helius history, parsing and webhooks (delivered to a
receiver in this test), Birdeye/DexScreener/Jupiter shapes against the real recorded payloads,
fault injection, and the app's own Helius client reading a whole wallet history from it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.helius import HeliusClient
from simulator.market import USDC_MINT, WSOL_MINT, demo_wallets
from simulator.server import MarketSimulator, SimulatorConfig

FIXTURES = Path(__file__).parent / "fixtures"
SEED = 11
API_KEY = "sim-test-key"
BIRDEYE = {"X-API-KEY": "sim-birdeye-key"}
JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"
UNKNOWN_MINT = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


@pytest.fixture(scope="module")
def simulator() -> Iterator[MarketSimulator]:
    """Three days of 30 whales on a free port; no live trading, so histories only change when a
    test forces a trade (always for a wallet it names)."""
    config = SimulatorConfig(port=0, seed=SEED, wallets=30, tokens=16, history_days=3, history_txs=3000,
                             swaps_per_minute=0, webhook_retry_seconds=0.2, webhook_timeout_seconds=2,
                             warm_cache=False, type_search_window=100)
    with MarketSimulator(config) as running:
        yield running


@pytest.fixture
def http(simulator: MarketSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.url, timeout=10) as client:
        yield client
    httpx.delete(f"{simulator.url}/sim/faults")


def busiest_wallets(simulator: MarketSimulator) -> list[str]:
    with simulator.lock:
        market = simulator.market
        return sorted((w.address for w in market.wallets), key=lambda a: -len(market.history_seqs(a)))


def signatures_of(simulator: MarketSimulator, address: str) -> list[str]:
    """`address`'s history, newest first, as the market holds it."""
    with simulator.lock:
        market = simulator.market
        return [market.transactions[seq].signature for seq in reversed(market.history_seqs(address))]


def stats(http: httpx.Client) -> dict[str, Any]:
    return http.get("/sim/stats").json()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


def shape(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", dict: "object", list: "array", type(None): "null"}[type(value)]


def assert_same_shape(ours: Any, real: Any, where: str = "$") -> None:
    """Same keys (and key order) in every object, same JSON types; a null on either side matches
    anything, and every element of a list is compared with the real list's first element."""
    if ours is None or real is None:
        return
    assert shape(ours) == shape(real), f"{where}: {shape(ours)} where the real payload has {shape(real)}"
    if isinstance(real, dict):
        assert list(ours) == list(real), f"{where}: keys {list(ours)} != {list(real)}"
        for key in real:
            assert_same_shape(ours[key], real[key], f"{where}.{key}")
    elif isinstance(real, list) and real:
        for index, item in enumerate(ours):
            assert_same_shape(item, real[0], f"{where}[{index}]")


def assert_pair_like_real_pairs(pair: dict[str, Any], real_pairs: list[dict[str, Any]]) -> None:
    """Every key a real pair has, we send; every key we send, some real pair has; types match."""
    required = set.intersection(*(set(p) for p in real_pairs))
    possible = set.union(*(set(p) for p in real_pairs))
    assert required <= set(pair) <= possible, (set(pair) - possible, required - set(pair))
    for key, value in pair.items():
        sample = next(p[key] for p in real_pairs if key in p)
        if key == "info":
            assert set(value) <= set.union(*(set(p.get("info", {})) for p in real_pairs))
            continue
        assert_same_shape(value, sample, f"pair.{key}")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class Receiver:
    """A webhook endpoint on a free port: records each POST, answers with the queued statuses
    (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    receiver.requests.append((dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/helius/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(f"{len(self.requests)} of {count} webhook deliveries arrived in {timeout} s")
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def register(http: httpx.Client, url: str, addresses: list[str], auth: str = "Bearer hook-secret") -> dict:
    body = {"webhookURL": url, "transactionTypes": ["ANY"], "accountAddresses": addresses,
            "webhookType": "enhanced", "authHeader": auth}
    response = http.post("/v0/webhooks", params={"api-key": API_KEY}, json=body)
    assert response.status_code == 200, response.text
    return response.json()


# --- Helius history and parsing ------------------------------------------------------------------


def test_history_pages_back_to_the_first_transaction_without_gaps_or_duplicates(
    simulator: MarketSimulator, http: httpx.Client
) -> None:
    wallet = busiest_wallets(simulator)[0]
    expected = signatures_of(simulator, wallet)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"api-key": API_KEY, "limit": 37}
        if cursor:
            params["before-signature"] = cursor
        page = http.get(f"/v0/addresses/{wallet}/transactions", params=params).json()
        if not page:
            break
        assert len(page) <= 37
        seen += [tx["signature"] for tx in page]
        cursor = page[-1]["signature"]

    assert len(expected) > 150
    assert seen == expected


def test_the_legacy_before_parameter_pages_the_same_way(simulator: MarketSimulator, http: httpx.Client) -> None:
    wallet = busiest_wallets(simulator)[1]
    expected = signatures_of(simulator, wallet)
    first = http.get(f"/v0/addresses/{wallet}/transactions", params={"api-key": API_KEY, "limit": 100}).json()
    second = http.get(f"/v0/addresses/{wallet}/transactions",
                      params={"api-key": API_KEY, "limit": 100, "before": first[-1]["signature"]}).json()

    assert [tx["signature"] for tx in first + second] == expected[:200]


def test_history_is_newest_first_and_includes_failed_transactions(
    simulator: MarketSimulator, http: httpx.Client
) -> None:
    with simulator.lock:
        failed = next(tx for tx in simulator.market.transactions if tx.kind == "failed")
    everything: list[dict] = []
    cursor = None
    while True:
        params = {"api-key": API_KEY, "limit": 100, **({"before-signature": cursor} if cursor else {})}
        page = http.get(f"/v0/addresses/{failed.wallet}/transactions", params=params).json()
        if not page:
            break
        everything += page
        cursor = page[-1]["signature"]
    stamps = [(tx["slot"], tx["timestamp"]) for tx in everything]

    assert stamps == sorted(stamps, reverse=True)
    errors = {tx["signature"]: tx["transactionError"] for tx in everything if tx["transactionError"]}
    assert errors[failed.signature] == {"error": "custom program error: 0x1771"}


def test_history_refuses_a_missing_api_key_and_bad_limits(simulator: MarketSimulator, http: httpx.Client) -> None:
    wallet = busiest_wallets(simulator)[0]
    path = f"/v0/addresses/{wallet}/transactions"

    assert http.get(path).status_code == 401
    assert http.get(path, params={"api-key": API_KEY, "limit": 0}).status_code == 400
    assert http.get(path, params={"api-key": API_KEY, "limit": 101}).status_code == 400
    assert http.get(f"/v0/addresses/{UNKNOWN_MINT}/transactions", params={"api-key": API_KEY}).json() == []


def test_a_type_filter_that_finds_nothing_asks_to_continue_like_helius(
    simulator: MarketSimulator, http: httpx.Client
) -> None:
    """The fixture scans 100 transactions per type-filtered call (Helius: an unstated window)."""
    wallet = busiest_wallets(simulator)[0]
    path = f"/v0/addresses/{wallet}/transactions"
    swaps = http.get(path, params={"api-key": API_KEY, "limit": 20, "type": "SWAP"}).json()
    continuations = []
    cursor = None
    while True:
        params = {"api-key": API_KEY, "type": "NFT_SALE", **({"before-signature": cursor} if cursor else {})}
        answer = http.get(path, params=params).json()
        if answer == []:
            break
        assert "Failed to find events within the search period" in answer["error"]
        cursor = answer["error"].split("parameter set to ")[1].rstrip(".")
        continuations.append(cursor)

    assert len(swaps) == 20 and {tx["type"] for tx in swaps} == {"SWAP"}
    history = signatures_of(simulator, wallet)
    assert continuations == history[99::100][: len(continuations)]
    assert len(continuations) == len(history) // 100


def test_parse_transactions_returns_known_signatures_in_the_order_asked(
    simulator: MarketSimulator, http: httpx.Client
) -> None:
    wallet = busiest_wallets(simulator)[0]
    wanted = signatures_of(simulator, wallet)[5:15][::-1]
    response = http.post("/v0/transactions", params={"api-key": API_KEY},
                         json={"transactions": [wanted[0], "1" * 88, *wanted[1:]]})
    history = http.get(f"/v0/addresses/{wallet}/transactions", params={"api-key": API_KEY, "limit": 20}).json()

    assert [tx["signature"] for tx in response.json()] == wanted
    assert response.json()[0] == next(tx for tx in history if tx["signature"] == wanted[0])
    too_many = http.post("/v0/transactions", params={"api-key": API_KEY}, json={"transactions": wanted * 11})
    assert too_many.status_code == 400


def test_the_apps_helius_client_reads_a_whole_history_exactly_once(simulator: MarketSimulator) -> None:
    wallet = busiest_wallets(simulator)[3]
    expected = signatures_of(simulator, wallet)
    with HeliusClient(simulator.url, "sim", redis=None, rate_per_second=0) as client:
        pages = list(client.iter_address_history(wallet))

    assert [tx["signature"] for page in pages for tx in page] == expected
    assert len(pages) == -(-len(expected) // 100)


def test_the_apps_helius_client_recovers_from_injected_429s(simulator: MarketSimulator, http: httpx.Client) -> None:
    wallet = busiest_wallets(simulator)[4]
    served = stats(http)["faults_served"]
    http.post("/sim/faults", json={"status": 429, "retry_after": 2, "count": 2, "path_prefix": "/v0/addresses/"})
    waits: list[float] = []
    with HeliusClient(simulator.url, "sim", redis=None, rate_per_second=0, sleep=waits.append) as client:
        page = client.address_transactions_page(wallet)

    assert [tx["signature"] for tx in page] == signatures_of(simulator, wallet)[:100]
    assert waits == [2.0, 2.0]
    assert stats(http)["faults_served"] == served + 2


# --- webhooks -------------------------------------------------------------------------------------------


def test_a_webhook_is_created_read_updated_and_deleted_per_api_key(simulator: MarketSimulator,
                                                                    http: httpx.Client) -> None:
    wallets = busiest_wallets(simulator)
    created = register(http, "https://example.test/hook", wallets[:2])
    key = {"api-key": API_KEY}

    assert uuid.UUID(created["webhookID"]).version == 4
    assert {k: created[k] for k in ("webhookURL", "transactionTypes", "accountAddresses", "webhookType",
                                    "authHeader")} == {
        "webhookURL": "https://example.test/hook", "transactionTypes": ["ANY"], "accountAddresses": wallets[:2],
        "webhookType": "enhanced", "authHeader": "Bearer hook-secret"}
    path = f"/v0/webhooks/{created['webhookID']}"
    assert http.get(path, params=key).json() == created
    assert created in http.get("/v0/webhooks", params=key).json()
    assert created not in http.get("/v0/webhooks", params={"api-key": "someone-else"}).json()
    assert http.get(path, params={"api-key": "someone-else"}).status_code == 404
    updated = http.put(path, params=key, json={**created, "accountAddresses": wallets[2:5]}).json()
    assert updated["accountAddresses"] == wallets[2:5] and updated["webhookID"] == created["webhookID"]
    assert http.delete(path, params=key).status_code == 200
    assert http.get(path, params=key).status_code == 404
    assert http.post("/v0/webhooks", params=key, json={"webhookURL": "https://x.test"}).status_code == 400


def test_a_live_trade_is_delivered_to_the_webhook_with_its_auth_header(
    simulator: MarketSimulator, http: httpx.Client, receiver: Receiver
) -> None:
    watched, other = busiest_wallets(simulator)[5], busiest_wallets(simulator)[6]
    webhook = register(http, receiver.url, [watched], auth="Bearer s3cret")
    queued = stats(http)["webhook_deliveries"]
    http.post("/sim/trade", json={"wallet": other, "side": "buy"})
    trade = http.post("/sim/trade", json={"wallet": watched, "shape": "raydium", "side": "buy"}).json()

    (headers, body), = receiver.wait_for(1)
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == [trade]
    assert stats(http)["webhook_deliveries"] == queued + 1  # the unwatched wallet's trade was not queued
    history = http.get(f"/v0/addresses/{watched}/transactions", params={"api-key": API_KEY, "limit": 1}).json()
    assert history == [trade]
    http.delete(f"/v0/webhooks/{webhook['webhookID']}", params={"api-key": API_KEY})


def test_failed_transactions_reach_the_history_but_not_the_webhook(
    simulator: MarketSimulator, http: httpx.Client, receiver: Receiver
) -> None:
    watched = busiest_wallets(simulator)[7]
    webhook = register(http, receiver.url, [watched])
    queued = stats(http)["webhook_deliveries"]
    failed = http.post("/sim/trade", json={"wallet": watched, "shape": "jupiter", "failed": True}).json()
    later = http.post("/sim/trade", json={"wallet": watched, "side": "buy"}).json()

    (_, body), = receiver.wait_for(1)
    assert [tx["signature"] for tx in json.loads(body)] == [later["signature"]]
    assert failed["transactionError"]
    newest = http.get(f"/v0/addresses/{watched}/transactions", params={"api-key": API_KEY, "limit": 2}).json()
    assert [tx["signature"] for tx in newest] == [later["signature"], failed["signature"]]
    assert stats(http)["webhook_deliveries"] == queued + 1
    http.delete(f"/v0/webhooks/{webhook['webhookID']}", params={"api-key": API_KEY})


def test_a_failed_delivery_is_retried_until_the_receiver_accepts_it(
    simulator: MarketSimulator, http: httpx.Client
) -> None:
    flaky = Receiver(statuses=[500, 503])
    try:
        watched = busiest_wallets(simulator)[8]
        webhook = register(http, flaky.url, [watched])
        before = stats(http)
        trade = http.post("/sim/trade", json={"wallet": watched, "side": "buy"}).json()

        deliveries = flaky.wait_for(3)
        wait_until(lambda: stats(http)["webhook_delivered"] == before["webhook_delivered"] + 1)
        after = stats(http)
    finally:
        flaky.close()
    assert [json.loads(body) for _, body in deliveries] == [[trade]] * 3
    assert after["webhook_retries"] - before["webhook_retries"] == 2
    assert after["webhook_dropped"] == before["webhook_dropped"]
    http.delete(f"/v0/webhooks/{webhook['webhookID']}", params={"api-key": API_KEY})


# --- Birdeye, DexScreener, Jupiter: shapes of the real payloads -----------------------------------------


def test_birdeye_price_endpoints_answer_in_the_real_shapes(http: httpx.Client) -> None:
    price = http.get("/defi/price", params={"address": JUP}, headers=BIRDEYE).json()
    multi = http.get("/defi/multi_price", params={"list_address": f"{WSOL_MINT},{JUP}"}, headers=BIRDEYE).json()
    posted = http.post("/defi/multi_price", json={"list_address": f"{WSOL_MINT},{JUP}"}, headers=BIRDEYE).json()
    now = int(time.time())
    history = http.get("/defi/history_price", headers=BIRDEYE, params={
        "address": WSOL_MINT, "address_type": "token", "type": "15m", "time_from": now - 6 * 3600, "time_to": now,
    }).json()

    assert_same_shape(price, fixture("birdeye/birdeye_defi_price.json"))
    real_multi = fixture("birdeye/birdeye_defi_multi_price.json")
    assert list(multi["data"]) == [WSOL_MINT, JUP]
    for entry in multi["data"].values():
        assert_same_shape(entry, real_multi["data"][WSOL_MINT])
    assert posted["data"].keys() == multi["data"].keys()
    assert_same_shape(history, fixture("birdeye/birdeye_defi_history_price.json"))
    times = [item["unixTime"] for item in history["data"]["items"]]
    assert len(times) in (24, 25) and all(b - a == 900 for a, b in zip(times, times[1:], strict=False))
    assert times[0] >= now - 6 * 3600 and times[-1] <= now


def test_birdeye_token_overview_and_trending_answer_in_the_real_shapes(http: httpx.Client) -> None:
    overview = http.get("/defi/token_overview", params={"address": JUP}, headers=BIRDEYE).json()
    trending = http.get("/defi/token_trending", headers=BIRDEYE,
                        params={"sort_by": "rank", "sort_type": "asc", "offset": 0, "limit": 5}).json()

    assert_same_shape(overview, fixture("birdeye/birdeye_defi_token_overview.json"))
    assert len(overview["data"]) == 254
    assert_same_shape(trending, fixture("birdeye/birdeye_defi_token_trending.json"))
    assert [t["rank"] for t in trending["data"]["tokens"]] == [1, 2, 3, 4, 5]


def test_birdeye_historical_price_agrees_with_the_prices_swaps_were_made_at(
    simulator: MarketSimulator, http: httpx.Client
) -> None:
    with simulator.lock:
        swaps = [tx for tx in simulator.market.transactions[: simulator.market.history_count]
                 if tx.kind == "swap" and tx.quote_mint == WSOL_MINT and not tx.extra_fee_raw][::97][:12]
    for tx in swaps:
        intent = tx.intent
        minute = tx.timestamp // 60 * 60
        sol = http.get("/defi/historical_price_unix", params={"address": WSOL_MINT, "unixtime": tx.timestamp},
                       headers=BIRDEYE).json()["data"]
        token = http.get("/defi/history_price", headers=BIRDEYE, params={
            "address": tx.token_mint, "address_type": "token", "type": "1m", "time_from": minute, "time_to": minute,
        }).json()["data"]["items"]
        implied_usd = intent.quote_amount / intent.token_amount * Decimal(sol["value"])

        assert list(sol) == ["isScaledUiToken", "value", "updateUnixTime", "priceChange24h"]
        assert token[0]["unixTime"] == minute
        assert abs(implied_usd / Decimal(token[0]["value"]) - 1) < Decimal("0.015"), tx.signature


def test_birdeye_refuses_calls_without_an_api_key(http: httpx.Client) -> None:
    response = http.get("/defi/price", params={"address": JUP})

    assert response.status_code == 401
    assert response.json()["success"] is False


def test_dexscreener_endpoints_answer_in_the_real_shapes(simulator: MarketSimulator, http: httpx.Client) -> None:
    mints = [t.mint for t in simulator.market.tokens[:8]]
    real_pairs = [*fixture("dexscreener/dexscreener_tokens_v1_solana_SOL.json"),
                  *fixture("dexscreener/dexscreener_latest_dex_tokens_solana_multi.json")["pairs"],
                  fixture("dexscreener/dexscreener_pair_object_solana_raydium_clmm.json")]
    v1 = http.get(f"/tokens/v1/solana/{','.join([WSOL_MINT, *mints])}").json()
    latest = http.get(f"/latest/dex/tokens/{','.join(mints)}").json()

    assert isinstance(v1, list) and len(v1) >= len(mints)
    for pair in v1:
        assert_pair_like_real_pairs(pair, real_pairs)
    assert {p["baseToken"]["address"] for p in v1} >= set(mints)
    assert list(latest) == ["schemaVersion", "pairs"] and latest["schemaVersion"] == "1.0.0"
    for pair in latest["pairs"]:
        assert_pair_like_real_pairs(pair, real_pairs)
    assert http.get(f"/tokens/v1/solana/{UNKNOWN_MINT}").json() == []


def test_jupiter_prices_answer_in_the_real_shape_and_omit_unknown_mints(http: httpx.Client) -> None:
    prices = http.get("/price/v3", params={"ids": f"{WSOL_MINT},{USDC_MINT},{UNKNOWN_MINT},{JUP}"}).json()
    real = fixture("jupiter/jupiter_price_v3_openapi_example.json")[WSOL_MINT]

    assert list(prices) == [WSOL_MINT, USDC_MINT, JUP]
    for entry in prices.values():
        assert set(entry) == set(real)
        assert {k: shape(v) for k, v in entry.items()} == {k: shape(v) for k, v in real.items()}
    assert 0.98 < prices[USDC_MINT]["usdPrice"] < 1.02
    assert http.get("/price/v3", params={"ids": ",".join([JUP] * 51)}).status_code == 400


def test_the_apps_price_clients_read_the_simulator(simulator: MarketSimulator) -> None:
    from providers.birdeye import BirdeyeClient
    from providers.dexscreener import DexScreenerClient
    from providers.jupiter import JupiterClient

    mints = [WSOL_MINT, JUP]
    with BirdeyeClient(simulator.url, "k", redis=None, rate_per_second=0) as birdeye, \
            DexScreenerClient(simulator.url, redis=None, rate_per_second=0) as dexscreener, \
            JupiterClient(simulator.url, redis=None, rate_per_second=0) as jupiter:
        from_birdeye = birdeye.multi_price(mints)
        from_dexscreener = dexscreener.token_prices(mints)
        from_jupiter = jupiter.prices(mints)
        trending = birdeye.token_trending(limit=5)

    assert set(from_birdeye) == set(from_dexscreener) == set(from_jupiter) == set(mints)
    assert len(trending.tokens) == 5


# --- faults ---------------------------------------------------------------------------------------------


def test_an_injected_429_carries_retry_after_and_then_clears(http: httpx.Client) -> None:
    http.post("/sim/faults", json={"status": 429, "retry_after": 2, "count": 1, "path_prefix": "/v0/"})
    refused = http.get("/v0/webhooks", params={"api-key": API_KEY})
    served = http.get("/v0/webhooks", params={"api-key": API_KEY})

    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert served.status_code == 200


def test_injected_500s_fail_exactly_count_requests(http: httpx.Client) -> None:
    http.post("/sim/faults", json={"status": 500, "count": 2})
    statuses = [http.get("/price/v3", params={"ids": JUP}).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_an_injected_delay_makes_an_impatient_client_time_out(simulator: MarketSimulator, http: httpx.Client) -> None:
    http.post("/sim/faults", json={"delay": 1.5, "count": 1, "path_prefix": "/price/"})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{simulator.url}/price/v3", params={"ids": JUP}, timeout=0.3)
    started = time.monotonic()
    answered = http.get("/price/v3", params={"ids": JUP})

    assert answered.status_code == 200 and time.monotonic() - started < 1.0


def test_an_injected_malformed_body_is_truncated_json(http: httpx.Client) -> None:
    http.post("/sim/faults", json={"malformed": True, "count": 1, "path_prefix": "/defi/"})
    broken = http.get("/defi/price", params={"address": JUP}, headers=BIRDEYE)

    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    assert http.get("/defi/price", params={"address": JUP}, headers=BIRDEYE).json()["success"] is True


def test_clearing_faults_stops_them_and_bad_faults_are_refused(http: httpx.Client) -> None:
    http.post("/sim/faults", json={"status": 503, "count": 5})
    http.delete("/sim/faults")

    assert http.get("/price/v3", params={"ids": JUP}).status_code == 200
    assert http.get("/sim/faults").json() == {"faults": []}
    assert http.post("/sim/faults", json={"status": 200}).status_code == 400
    assert http.post("/sim/faults", json={"count": 2}).status_code == 400


# --- the control API ------------------------------------------------------------------------------------


def test_sim_wallets_are_the_demo_wallets_of_the_seed(http: httpx.Client) -> None:
    listed = http.get("/sim/wallets").json()

    assert listed == [{"address": w.address, "label": w.label, "tags": list(w.tags), "skill": w.skill}
                      for w in demo_wallets(SEED, 30)]


def test_sim_tokens_include_the_hostile_ones(http: httpx.Client) -> None:
    tokens = http.get("/sim/tokens").json()

    assert len(tokens) == 16
    assert "<script>alert(1)</script>" in {t["symbol"] for t in tokens}
    assert {t["mint"] for t in tokens} >= {JUP}


def test_a_forced_trade_can_be_looked_up_with_its_intent(simulator: MarketSimulator, http: httpx.Client) -> None:
    wallet = busiest_wallets(simulator)[9]
    trade = http.post("/sim/trade", json={"wallet": wallet, "shape": "pumpfun", "side": "buy"}).json()
    looked_up = http.get(f"/sim/transactions/{trade['signature']}").json()

    assert looked_up["transaction"] == trade
    assert looked_up["wallet"] == wallet and looked_up["live"] is True
    assert looked_up["intent"]["side"] == "buy" and looked_up["intent"]["quote_mint"] == WSOL_MINT
    assert (trade["type"], trade["source"]) == ("TRANSFER", "SYSTEM_PROGRAM")
    assert http.post("/sim/trade", json={"wallet": UNKNOWN_MINT}).status_code == 404
    assert http.post("/sim/trade", json={"shape": "orca"}).status_code == 400


def test_the_simulator_answers_at_once_while_it_builds_its_market_and_the_apps_client_waits_for_it() -> None:
    from simulator.server import run

    announced: list[str] = []
    bound, stop = threading.Event(), threading.Event()

    def announce(line: str) -> None:
        announced.append(line)
        bound.set()

    # The demo's market (200 whales, 30 days): seconds to build, as `make run` has it.
    config = SimulatorConfig(port=0, seed=SEED, swaps_per_minute=0, warm_cache=False)
    runner = threading.Thread(target=run, args=(config,), kwargs={"announce": announce, "stop": stop})
    runner.start()
    try:
        assert bound.wait(5), "the port was not bound before the market was built"
        url = announced[0].split()[4].rstrip(";")
        early = httpx.get(f"{url}/v0/addresses/{demo_wallets(SEED, 1)[0].address}/transactions",
                          params={"api-key": "sim"}, timeout=5)
        assert early.status_code == 503 and early.headers["Retry-After"] == "1"
        assert "building" in announced[0] and len(announced) == 1  # answered before the market was ready

        with HeliusClient(url, "sim", redis=None, rate_per_second=0, max_attempts=10) as client:
            page = client.address_transactions_page(demo_wallets(SEED, 1)[0].address)
        assert page  # the client took the 503s as "retry shortly" and got the history once it was built
        assert "trading live" in announced[-1]
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()
