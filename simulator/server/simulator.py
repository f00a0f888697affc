"""The `MarketSimulator`: market, HTTP server, live trading, webhook delivery, routing; and `run`."""

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
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from simulator.market import DEFAULT_SEED, Market, SimTransaction
from simulator.market.episodes import Episodes
from simulator.payloads import enhanced_transaction, type_and_source
from simulator.server.control import ControlApi
from simulator.server.helius import HeliusApi
from simulator.server.market_data import MarketDataApi
from simulator.server.messaging import Messaging, reply_headers
from simulator.server.protocol import Fault, HttpError, Route, _fault_reply, _json_reply, _Reply, _Request

DELIVERY_WORKERS = 4


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
    # Coordinated whale episodes (simulator.market.episodes), so the demo shows token signals early.
    episodes: bool = False
    episodes_first_after_seconds: float = 45.0
    # A type-filtered history search gives up after this many transactions without a match and
    # answers with Helius's "continue from <signature>" error object.
    type_search_window: int = 1000


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    webhook_id: str = field(compare=False)
    url: str = field(compare=False)
    auth_header: str | None = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(compare=False, default=0)


class MarketSimulator(HeliusApi, MarketDataApi, ControlApi):
    """The simulator: market, HTTP server, live-trading thread and webhook delivery threads.

    Use `start()` / `stop()` (or a `with` block). `url` is the base URL once started. `market`,
    `lock` and `stats` are public for tests: hold `lock` while reading the market. The request
    handlers the routes name come from one mixin per API (`HeliusApi`, `MarketDataApi`, `ControlApi`);
    Telegram and Discord are `messaging` (`simulator.server.messaging`), answered before the routes.
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
            "episode_transactions": 0,
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
        self.messaging = Messaging()  # Telegram's Bot API and Discord's webhooks, for alerts
        self.episodes: Episodes | None = None

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
        if self.config.episodes:
            # The clock of the episodes starts with serving: the app registers its webhook meanwhile.
            first_after = self.config.episodes_first_after_seconds
            self.episodes = Episodes(self.market, self.now(), seed=self.config.seed, first_after=first_after)
            self._spawn("episodes", self._stage_episodes)
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

    def _stage_episodes(self) -> None:
        """Play the whale episodes (simulator.market.episodes) as their trades fall due."""
        episodes = self.episodes
        assert episodes is not None
        while not self._stop.wait(1.0):
            with self.lock:
                made = []
                for trade in episodes.due(self.now()):
                    tx = self.market.trade_token(
                        self.now(), trade.wallet, trade.mint, trade.side, usd=trade.usd, fraction=trade.fraction
                    )
                    if tx is not None:
                        made.append(tx)
            if made:
                self.count("episode_transactions", len(made))
                self._published(made)

    def _published(self, txs: list[SimTransaction]) -> None:
        """New live transactions: count them and queue webhook deliveries (failed ones are not sent)."""
        self.count("live_transactions", len(txs))
        for tx in txs:
            if tx.kind == "failed":
                continue  # enhanced webhooks do not deliver failed transactions (as Helius documents)
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
            ("GET", r"/defi/v2/tokens/new_listing", self._birdeye_new_listing),
            ("GET", r"/defi/token_security", self._birdeye_token_security),
            ("GET", r"/token-profiles/latest/v1", self._dexscreener_token_profiles),
            ("GET", r"/token-boosts/latest/v1", self._dexscreener_token_boosts),
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
        messaging = self.messaging.handle(method, target, body, headers)
        if messaging is not None:  # Telegram, Discord (their faults are `/sim/messaging/faults`)
            status, payload = messaging
            body = b"" if payload is None else json.dumps(payload).encode()
            return _Reply(status, body, reply_headers(status, payload))
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
