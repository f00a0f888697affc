"""The market simulator's HTTP server: Helius, Birdeye, DexScreener and Jupiter on one local port.

`MarketSimulator(config).start()` builds the market (history first), then serves it from a
`ThreadingHTTPServer`, trades live in a background thread, and delivers Helius webhooks from
delivery threads (retrying failed deliveries), so neither HTTP clients nor webhook receivers ever
hold up the market. `POST /sim/faults` makes the next matching requests fail on purpose (429 with
Retry-After, 5xx, slow, truncated JSON); `/sim/*` is the control API tests and benchmarks use.

Every piece of market state is touched under one lock; rendered transactions are immutable, so
their JSON is built outside it and cached (zlib-compressed: 30k transactions take ~40 MB).
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from simulator.base58 import ALPHABET, derived_address
from simulator.market import DEFAULT_SEED, SHAPES, Market, NothingToSell, SimTransaction
from simulator.payloads import (
    BIRDEYE_INTERVALS,
    MarketData,
    enhanced_transaction,
    type_and_source,
)

PAGE_LIMIT_MAX = 100
PARSE_BATCH_MAX = 100
DEXSCREENER_MAX_ADDRESSES = 30
JUPITER_MAX_IDS = 50
BIRDEYE_TRENDING_MAX = 20
WEBHOOK_TYPES = ("enhanced", "raw", "discord", "enhancedDevnet", "rawDevnet", "discordDevnet")
DELIVERY_WORKERS = 4
_ADDRESS = re.compile(f"[{ALPHABET}]{{32,44}}")


@dataclass(frozen=True)
class SimulatorConfig:
    """How to run the simulator. `port=0` picks a free port; `now` pins the clock of history."""

    host: str = "127.0.0.1"
    port: int = 8765
    seed: int = DEFAULT_SEED
    wallets: int = 200
    tokens: int = 50
    history_days: float = 30.0
    history_txs: int = 30_000
    swaps_per_minute: float = 60.0
    webhook_retry_seconds: float = 5.0  # Helius waits a minute between its 3 retries
    webhook_retries: int = 3
    webhook_timeout_seconds: float = 10.0
    now: float | None = None
    warm_cache: bool = True  # render all history JSON in the background after start
    # A type-filtered history search gives up after this many transactions without a match and
    # answers with Helius's "continue from <signature>" error object (APIS.md §1.2).
    type_search_window: int = 1000


class HttpError(Exception):
    """Answer the request with `status` and the JSON `body`."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass
class Fault:
    """An injected fault for the next `remaining` requests whose path starts with `path_prefix`."""

    remaining: int
    path_prefix: str = "/"
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    malformed: bool = False

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    webhook_id: str = field(compare=False)
    url: str = field(compare=False)
    auth_header: str | None = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(compare=False, default=0)


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[["_Request"], Any]


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    body: bytes
    match: re.Match[str]

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise HttpError(400, {"error": "request body is not valid JSON"}) from None


class MarketSimulator:
    """The simulator: market, HTTP server, live-trading thread and webhook delivery threads.

    Use `start()` / `stop()` (or a `with` block). `url` is the base URL once started. `market`,
    `lock` and `stats` are public for tests: hold `lock` while reading the market.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        started = time.perf_counter()
        self.market = Market(
            config.seed,
            wallet_count=config.wallets,
            token_count=config.tokens,
            history_days=config.history_days,
            history_txs=config.history_txs,
            now=config.now,
        )
        self.history_seconds = time.perf_counter() - started
        self.lock = threading.RLock()
        self.stats: dict[str, int] = {
            "requests": 0, "faults_served": 0, "live_transactions": 0, "webhook_deliveries": 0,
            "webhook_delivered": 0, "webhook_failed_attempts": 0, "webhook_retries": 0, "webhook_dropped": 0,
        }
        self._stats_lock = threading.Lock()
        self._rendered: dict[str, bytes] = {}
        self._faults: list[Fault] = []
        self._webhooks: dict[str, dict[str, Any]] = {}  # id -> {"api_key", "webhook", "accounts"}
        self._deliveries: list[_Delivery] = []
        self._delivery_ready = threading.Condition()
        self._order = itertools.count()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._live_rng = random.Random(f"aura-sim:{config.seed}:live clock")
        # With a pinned `now` (tests), the clock runs on from it instead of jumping to today.
        self._clock_offset = 0.0 if config.now is None else config.now - time.time()
        self._routes = self._build_routes()

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the simulator is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, server: ThreadingHTTPServer | None = None) -> MarketSimulator:
        """Bind the port (or take over `server`, already serving: see `run`) and start serving,
        trading and delivering; returns self."""
        handler = type("Handler", (_Handler,), {"simulator": self})
        if server is None:
            self._httpd = ThreadingHTTPServer((self.config.host, self.config.port), handler)
            self._httpd.daemon_threads = True
            self._spawn("http", self._httpd.serve_forever)
        else:
            server.RequestHandlerClass = handler  # requests from now on reach the market
            self._httpd = server
        self._spawn("live-trading", self._trade_live)
        for index in range(DELIVERY_WORKERS):
            self._spawn(f"webhook-delivery-{index}", self._deliver)
        if self.config.warm_cache:
            self._spawn("warm-cache", self._warm_cache)
        return self

    def stop(self) -> None:
        """Stop serving and join every thread this simulator started."""
        self._stop.set()
        with self._delivery_ready:
            self._delivery_ready.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        # A delivery thread may be inside a webhook POST: give it its timeout once, not per thread.
        deadline = time.monotonic() + self.config.webhook_timeout_seconds + 1
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def __enter__(self) -> MarketSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"simulator-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def now(self) -> float:
        """The simulator's clock: wall time, or time since start added to a pinned `now`."""
        return time.time() + self._clock_offset

    def count(self, key: str, amount: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += amount

    # -- transactions as JSON ------------------------------------------------------------------------

    def rendered(self, tx: SimTransaction) -> bytes:
        """The enhanced-transaction JSON of `tx` (built once, then from the cache)."""
        packed = self._rendered.get(tx.signature)
        if packed is None:
            body = json.dumps(enhanced_transaction(tx, self.market), separators=(",", ":"), ensure_ascii=False)
            raw = body.encode()
            self._rendered[tx.signature] = zlib.compress(raw, 1)
            return raw
        return zlib.decompress(packed)

    def _json_array(self, txs: list[SimTransaction]) -> bytes:
        return b"[" + b",".join(self.rendered(tx) for tx in txs) + b"]"

    def _warm_cache(self) -> None:
        """Render history newest first, so backfills find pages ready; yields to requests often."""
        with self.lock:
            history = self.market.transactions[: self.market.history_count]
        for index, tx in enumerate(reversed(history)):
            if self._stop.is_set():
                return
            if tx.signature not in self._rendered:
                self.rendered(tx)
            if index % 50 == 0:
                time.sleep(0.001)

    # -- live trading and webhooks ---------------------------------------------------------------------

    def _trade_live(self) -> None:
        rate = self.config.swaps_per_minute / 60.0
        while not self._stop.is_set():
            wait = self._live_rng.expovariate(rate) if rate > 0 else 1.0
            if self._stop.wait(min(wait, 5.0)):
                return
            if rate <= 0:
                continue
            with self.lock:
                made = self.market.live_tick(self.now())
            self._published(made)

    def _published(self, txs: list[SimTransaction]) -> None:
        """New live transactions: count them and queue webhook deliveries (failed ones are not sent)."""
        self.count("live_transactions", len(txs))
        for tx in txs:
            if tx.kind == "failed":
                continue  # enhanced webhooks do not deliver failed transactions (APIS.md §1.6)
            tx_type = type_and_source(tx)[0]
            involved = set(tx.involved)
            with self.lock:
                targets = [entry for entry in self._webhooks.values()
                           if entry["webhook"]["webhookType"] in ("enhanced", "enhancedDevnet")
                           and involved & entry["accounts"]
                           and ({"ANY", tx_type} & set(entry["webhook"]["transactionTypes"]))]
            if not targets:
                continue
            body = self._json_array([tx])
            with self._delivery_ready:
                for entry in targets:
                    webhook = entry["webhook"]
                    heapq.heappush(self._deliveries, _Delivery(time.monotonic(), next(self._order),
                                                               webhook["webhookID"], webhook["webhookURL"],
                                                               webhook.get("authHeader"), body))
                    self.count("webhook_deliveries")
                self._delivery_ready.notify_all()

    def _deliver(self) -> None:
        while not self._stop.is_set():
            with self._delivery_ready:
                while not self._stop.is_set():
                    if self._deliveries and self._deliveries[0].due <= time.monotonic():
                        job = heapq.heappop(self._deliveries)
                        break
                    wait = self._deliveries[0].due - time.monotonic() if self._deliveries else None
                    self._delivery_ready.wait(timeout=wait)
                else:
                    return
            if self._post(job):
                self.count("webhook_delivered")
            elif job.attempt < self.config.webhook_retries:
                self.count("webhook_retries")
                job.attempt += 1
                job.due = time.monotonic() + self.config.webhook_retry_seconds
                with self._delivery_ready:
                    heapq.heappush(self._deliveries, job)
                    self._delivery_ready.notify()
            else:
                self.count("webhook_dropped")

    def _post(self, job: _Delivery) -> bool:
        headers = {"Content-Type": "application/json"}
        if job.auth_header:
            headers["Authorization"] = job.auth_header
        request = urllib.request.Request(job.url, data=job.body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.config.webhook_timeout_seconds) as response:
                ok = 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            ok = False
        if not ok:
            self.count("webhook_failed_attempts")
        return ok

    # -- faults ------------------------------------------------------------------------------------

    def take_fault(self, path: str) -> Fault | None:
        """Consume one use of the first pending fault that matches `path` (never /sim/ paths)."""
        if path.startswith("/sim/"):
            return None
        with self.lock:
            for fault in self._faults:
                if fault.remaining > 0 and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    self.count("faults_served")
                    return Fault(1, fault.path_prefix, fault.status, fault.retry_after, fault.delay, fault.malformed)
        return None

    def wait(self, seconds: float) -> None:
        """Sleep for a slow-response fault, cut short when the simulator stops."""
        self._stop.wait(seconds)

    # -- routing -------------------------------------------------------------------------------------------

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Route]]:
        table: list[tuple[str, str, Route]] = [
            ("GET", r"/", self._index),
            ("GET", r"/v0/addresses/(?P<address>[^/]+)/transactions", self._helius_history),
            ("POST", r"/v0/transactions", self._helius_parse),
            ("GET", r"/v0/webhooks", self._webhook_list),
            ("POST", r"/v0/webhooks", self._webhook_create),
            ("GET", r"/v0/webhooks/(?P<id>[^/]+)", self._webhook_get),
            ("PUT", r"/v0/webhooks/(?P<id>[^/]+)", self._webhook_update),
            ("DELETE", r"/v0/webhooks/(?P<id>[^/]+)", self._webhook_delete),
            ("GET", r"/defi/price", self._birdeye_price),
            ("GET", r"/defi/multi_price", self._birdeye_multi_price),
            ("POST", r"/defi/multi_price", self._birdeye_multi_price),
            ("GET", r"/defi/history_price", self._birdeye_history_price),
            ("GET", r"/defi/historical_price_unix", self._birdeye_historical_price_unix),
            ("GET", r"/defi/token_overview", self._birdeye_token_overview),
            ("GET", r"/defi/token_trending", self._birdeye_token_trending),
            ("GET", r"/tokens/v1/solana/(?P<mints>[^/]+)", self._dexscreener_tokens_v1),
            ("GET", r"/latest/dex/tokens/(?P<mints>[^/]+)", self._dexscreener_latest),
            ("GET", r"/price/v3", self._jupiter_price),
            ("GET", r"/sim/faults", self._faults_list),
            ("POST", r"/sim/faults", self._faults_add),
            ("DELETE", r"/sim/faults", self._faults_clear),
            ("GET", r"/sim/wallets", self._sim_wallets),
            ("GET", r"/sim/tokens", self._sim_tokens),
            ("GET", r"/sim/stats", self._sim_stats),
            ("POST", r"/sim/trade", self._sim_trade),
            ("GET", r"/sim/transactions/(?P<signature>[^/]+)", self._sim_transaction),
        ]
        return [(method, re.compile(pattern + "/?"), route) for method, pattern, route in table]

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> _Reply:
        """Answer one request (faults included); never raises."""
        self.count("requests")
        parts = urlsplit(target)
        path = unquote(parts.path)
        fault = self.take_fault(path)
        if fault is not None and fault.delay:
            self.wait(fault.delay)
        if fault is not None and fault.status is not None:
            return _fault_reply(fault, path)
        reply = self._route(method, path, parse_qs(parts.query, keep_blank_values=True), headers, body)
        if fault is not None and fault.malformed:
            reply.body = reply.body[: max(1, len(reply.body) // 2)]
        return reply

    def _route(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes) -> _Reply:
        allowed = False
        for route_method, pattern, route in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            allowed = True
            if route_method != method:
                continue
            request = _Request(method, path, query, headers, body, match)
            try:
                result = route(request)
            except HttpError as error:
                return _json_reply(error.status, error.body)
            except Exception as error:  # a simulator bug must not kill the connection silently
                return _json_reply(500, {"error": f"simulator error: {type(error).__name__}: {error}"})
            return result if isinstance(result, _Reply) else _json_reply(200, result)
        if allowed:
            return _json_reply(405, {"error": f"{method} is not allowed on {path}"})
        return _json_reply(404, {"error": f"no such endpoint: {path}"})

    def _index(self, request: _Request) -> Any:
        market = self.market
        return {"name": "AURA market simulator", "seed": market.seed, "wallets": len(market.wallets),
                "tokens": len(market.tokens), "endpoints": sorted({p.pattern for _, p, _ in self._routes})}

    # -- Helius ---------------------------------------------------------------------------------------------

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

    # -- Birdeye -------------------------------------------------------------------------------------------

    def _birdeye(self, request: _Request) -> MarketData:
        if not request.headers.get("X-API-KEY"):
            raise HttpError(401, {"success": False, "message": "Unauthorized"})
        return MarketData(self.market, self.now())

    def _birdeye_price(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        with self.lock:
            return {"data": data.birdeye_price(mint), "success": True}

    def _birdeye_multi_price(self, request: _Request) -> Any:
        data = self._birdeye(request)
        listed = request.param("list_address")
        if request.method == "POST":
            body = request.json()
            listed = body.get("list_address") if isinstance(body, dict) else None
        mints = [m.strip() for m in (listed or "").split(",") if m.strip()]
        if not mints:
            raise HttpError(400, {"success": False, "message": "list_address is required"})
        for mint in mints:
            _birdeye_address(mint)
        with self.lock:
            return {"success": True, "data": data.birdeye_multi_price(mints)}

    def _birdeye_history_price(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        interval = BIRDEYE_INTERVALS.get(request.param("type") or "")
        if interval is None:
            raise HttpError(400, {"success": False, "message": f"type must be one of {', '.join(BIRDEYE_INTERVALS)}"})
        if request.param("address_type", "token") != "token":
            raise HttpError(400, {"success": False, "message": "the simulator only knows address_type=token"})
        time_from, time_to = _int_param(request, "time_from"), _int_param(request, "time_to")
        with self.lock:
            return {"success": True, "data": data.birdeye_history_price(mint, interval, time_from, time_to)}

    def _birdeye_historical_price_unix(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        unixtime = _int_param(request, "unixtime")
        with self.lock:
            return {"success": True, "data": data.birdeye_historical_price_unix(mint, unixtime)}

    def _birdeye_token_overview(self, request: _Request) -> Any:
        data = self._birdeye(request)
        mint = _birdeye_address(request.param("address"))
        with self.lock:
            return {"success": True, "data": data.birdeye_token_overview(mint)}

    def _birdeye_token_trending(self, request: _Request) -> Any:
        data = self._birdeye(request)
        sort_by = request.param("sort_by", "rank") or "rank"
        sort_type = request.param("sort_type", "asc") or "asc"
        if sort_by not in ("rank", "volumeUSD", "volume24hUSD", "liquidity") or sort_type not in ("asc", "desc"):
            raise HttpError(400, {"success": False, "message": "bad sort_by or sort_type"})
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", BIRDEYE_TRENDING_MAX)
        if not 1 <= limit <= BIRDEYE_TRENDING_MAX or offset < 0:
            raise HttpError(400, {"success": False, "message": f"limit must be 1-{BIRDEYE_TRENDING_MAX}"})
        with self.lock:
            return {"success": True, "data": data.birdeye_token_trending(sort_by, sort_type, offset, limit)}

    # -- DexScreener and Jupiter ----------------------------------------------------------------------------

    def _dexscreener_mints(self, request: _Request) -> list[str]:
        mints = [m for m in request.match["mints"].split(",") if m]
        if len(mints) > DEXSCREENER_MAX_ADDRESSES:
            raise HttpError(400, {"error": f"at most {DEXSCREENER_MAX_ADDRESSES} addresses"})
        return mints

    def _dexscreener_tokens_v1(self, request: _Request) -> Any:
        mints = self._dexscreener_mints(request)
        with self.lock:
            return MarketData(self.market, self.now()).dexscreener_pairs(mints)

    def _dexscreener_latest(self, request: _Request) -> Any:
        mints = self._dexscreener_mints(request)
        with self.lock:
            pairs = MarketData(self.market, self.now()).dexscreener_pairs(mints)
        return {"schemaVersion": "1.0.0", "pairs": pairs or None}

    def _jupiter_price(self, request: _Request) -> Any:
        ids = [m.strip() for m in (request.param("ids") or "").split(",") if m.strip()]
        if not ids:
            raise HttpError(400, {"error": "ids is required"})
        if len(ids) > JUPITER_MAX_IDS:
            raise HttpError(400, {"error": f"at most {JUPITER_MAX_IDS} ids"})
        with self.lock:
            return MarketData(self.market, self.now()).jupiter_prices(ids)

    # -- /sim control API -------------------------------------------------------------------------------------

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
            with self._stats_lock:
                counters = dict(self.stats)
            return {
                "seed": market.seed, "wallets": len(market.wallets), "tokens": len(market.tokens),
                "transactions": len(market.transactions), "history_transactions": market.history_count,
                "by_kind": kinds, "history_seconds": round(self.history_seconds, 3),
                "webhooks": len(self._webhooks), "pending_deliveries": pending,
                "pending_faults": sum(f.remaining for f in self._faults), **counters,
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


class _Handler(BaseHTTPRequestHandler):
    simulator: MarketSimulator
    protocol_version = "HTTP/1.1"  # keep-alive: clients page through history on one connection
    # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK stalled
    # one page in ten by 40 ms.
    disable_nagle_algorithm = True
    server_version = "AuraMarketSimulator/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._answer("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply = self.simulator.handle(method, self.path, self.headers, body)
        try:
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. timed out on a slow fault)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Quiet: a backfill makes thousands of requests."""


def _json_reply(status: int, body: Any) -> _Reply:
    return _Reply(status, json.dumps(body, ensure_ascii=False).encode())


def _fault_reply(fault: Fault, path: str) -> _Reply:
    status = fault.status or 500
    headers = {}
    if fault.retry_after is not None:
        seconds = fault.retry_after
        headers["Retry-After"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
    if path.startswith("/v0/") and status == 429:
        body: Any = {"jsonrpc": "2.0", "error": {"code": -32005, "message": "Rate limit exceeded"}, "id": "1"}
    elif path.startswith("/defi/"):
        body = {"success": False, "message": "Too many requests" if status == 429 else "Internal server error"}
    else:
        body = {"error": "Too many requests" if status == 429 else f"HTTP {status}"}
    reply = _json_reply(status, body)
    reply.headers.update(headers)
    return reply


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


def _birdeye_address(address: str | None) -> str:
    if not address:
        raise HttpError(400, {"success": False, "message": "address is required"})
    if not _ADDRESS.fullmatch(address):
        raise HttpError(400, {"success": False, "message": "address is invalid format"})
    return address


def _int_param(request: _Request, name: str, default: int | None = None) -> int:
    text = request.param(name)
    if text in (None, ""):
        if default is None:
            raise HttpError(400, {"success": False, "message": f"{name} is required"})
        return default
    try:
        return int(text)
    except ValueError:
        raise HttpError(400, {"success": False, "message": f"{name} must be an integer"}) from None


def _past_minute(market: Market, minute: int | None, now_minute: int) -> int | None:
    """Unix time of `minute` if it has passed, else None."""
    return None if minute is None or minute > now_minute else market.start_time + minute * 60


class _Building(BaseHTTPRequestHandler):
    """What the port answers while the market is being built: 503 and Retry-After, which API clients
    take as "try again shortly" (a refused connection would fail their first calls outright)."""

    protocol_version = "HTTP/1.1"
    server_version = "AuraMarketSimulator/1.0"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)
        body = json.dumps({"error": "the market simulator is building its market; retry shortly"}).encode()
        self.send_response(503)
        for name, value in (("Content-Type", "application/json"), ("Retry-After", "1"),
                            ("Content-Length", str(len(body))), ("Connection", "close")):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


def run(config: SimulatorConfig, *, announce: Callable[[str], None] = print, stop: threading.Event) -> None:
    """Bind the port at once (answering 503 while the market is built, a few seconds), then serve
    the market, trade live and deliver webhooks until `stop` is set; then shut everything down."""
    server = ThreadingHTTPServer((config.host, config.port), _Building)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, name="simulator-http", daemon=True)
    serving.start()
    host, port = server.server_address[:2]
    announce(f"Market simulator bound to http://{host}:{port}; building the market…")
    simulator = None
    try:
        simulator = MarketSimulator(config).start(server)
        market = simulator.market
        announce(f"Market simulator listening on {simulator.url} "
                 f"(seed {market.seed}, {len(market.wallets)} wallets, {len(market.tokens)} tokens, "
                 f"history built in {simulator.history_seconds:.1f} s; trading live)")
        stop.wait()
    finally:
        if simulator is not None:
            simulator.stop()
        else:
            server.shutdown()
            server.server_close()
        serving.join(timeout=5)
