"""Live-update speed benchmark: prints figures for the issue's two real-time targets; asserts nothing.

Run it with the embedded PostgreSQL and Redis:

    .venv/bin/python -m aura.embedded run -- .venv/bin/python bench/live.py

or against services of your own (only the servers are used; see "database" below):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aura REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/live.py

Flags (defaults are the issue's sizes): --swaps 200 --clients 1000 --pushes 20 --keep (keep the database),
--history 300 (swaps backfilled per tracked wallet before measuring), --gap-ms 30 (pause between
measured pushes), --connect-concurrency 50 (WebSocket handshakes in flight), --served (Daphne with
DEBUG off, as production serves; the issue's runs use DEBUG=true, as the live-server tests do).

Everything runs against one Daphne process started here (as tests/conftest.LiveServer starts it),
on the same machine as the browser and the clients, so client and server share the CPUs.

1. Webhook POST → DOM update in a real Chromium (target: p95 < 50 ms over --swaps swaps).
   Debian's Chromium (Playwright) logs in through the form and opens the dashboard (which joins
   `feed.trades` and the leaderboard group); once `#connection` reads "live", a MutationObserver on
   `#swap-feed` records `performance.timeOrigin + performance.now()` when a row of a bench wallet
   appears, keyed by `data-swap-id`; an `htmx:wsBeforeMessage` listener records when the WebSocket
   message carrying it arrived, and a requestAnimationFrame after the insert the next frame. One swap
   at a time, `time.time()` is taken just before an httpx keep-alive client POSTs a fresh
   `tests.builders.usdc_swap` transaction to `/hooks/helius/`; the next swap goes once the page has
   the row (plus --gap-ms). The browser clock is mapped onto Python's by the fastest of 25
   `page.evaluate` round trips, before and after. Latency = DOM time − POST start. The server-side
   split comes from the swap's `ingested_at` / `pushed_at` columns and the HTTP response time.
   Five warm-up swaps (and a page reload) come first and are not counted.
2. Fan-out to --clients WebSocket clients (target: p95 < 250 ms). A child process opens the clients
   against `/ws/live/?groups=wallet.<address>` (a whale of this run's own), all with one logged-in
   user's session cookie and an allowed Origin. The client is a minimal RFC 6455 client over
   asyncio (handshake, unmasked server frames, masked pong and close): neither `websockets` nor
   `aiohttp` is installed, and autobahn's per-message machinery would take CPU from the server it
   shares the cores with.
   a. --pushes pushes of HTML carrying its send time, through `aura.realtime.send_html` from this
      process (a new event loop and Redis connection per call, as from a Celery worker): delivery =
      client receive time − time before send_html. Each push waits for every client to have it.
   b. --pushes webhook POSTs of swaps by that whale: its row reaches the wallet group through the
      app's whole path. Latency = client receive time − POST start.
   Both run with 1 client first (the layer and Daphne alone), then with --clients. Reported:
   connect times, deliveries vs expected (a shortfall is printed), p50/p95/max over all deliveries,
   each push's slowest client, and the CPU Daphne and the client process spent per push.
3. Where the time goes: Daphne alone (a refused webhook: no database, no Redis; `/healthz`; an empty
   delivery), what a new PostgreSQL / Redis connection costs (CONN_MAX_AGE is 0), and
   `ingest` run in this process the way Daphne runs the view (a sync thread beside an event
   loop that the channel layer sends on) with its stages timed by wrapping them: the transaction
   (store, ledger, stats), the live-row render and sends, the figure pushes, SQL time and queries.

The database: the developer's database is never touched. A database named `aura_bench_live` is
dropped and created on the server DATABASE_URL points to (the embedded one when it is unset),
migrated, used, and dropped at the end unless --keep is given. Redis is shared: the run uses a
channel-layer prefix of its own (CHANNELS_PREFIX), and, should that be overridden, swap ids start at
900,000,000 and the whales' addresses are fresh per run, so nobody else's rows count as ours.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "aura_bench_live"


# Django is set up on import, pointed at the benchmark database, so that the WebSocket client
# process (multiprocessing "spawn" re-imports this file) sees the same settings.
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
from bench import database  # noqa: E402

SOURCE_DATABASE_URL = database.use_bench_database(BENCH_DATABASE)
# Playwright's sync API keeps an event loop in the main thread; the ORM calls made beside it here
# (setup, swap ids) would otherwise be refused. Not passed on to Daphne.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
if __name__ == "__main__":  # not in the spawned client process, which inherits the parent's
    # Pub/sub channels are global to a Redis server: a prefix of this run's own keeps other apps' and
    # test runs' pushes away from our page and clients, and ours away from theirs. Daphne inherits it.
    os.environ["CHANNELS_PREFIX"] = f"aura-bench-live-{os.getpid()}"
# Webhook deliveries are booked by a Celery worker, as `make run` and the Procfiles run one: the bench
# runs its own on a queue of its own, so its CPU use is part of the figures.
os.environ["CELERY_QUEUE"] = f"aura-bench-live-{os.getpid()}"

import django  # noqa: E402

django.setup()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from decimal import Decimal  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from aura import realtime  # noqa: E402
from tests.builders import address, usdc_swap  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, log_in  # noqa: E402
from whales import fragments  # noqa: E402
from whales.books import booking, ledger  # noqa: E402
from whales.ingestion import ingest  # noqa: E402
from whales.models import ArrivedVia, Swap, Token, TrackedWallet  # noqa: E402

DOM_P95_TARGET_MS = 50.0
FANOUT_P95_TARGET_MS = 250.0
WARMUP_PUSHES = 5
FIRST_SWAP_ID = 900_000_000
USERNAME = "bench-alice"
PASSWORD = "bench live correct horse battery staple"
HISTORY_DAYS = 30
DAY = 86_400


# --- figures --------------------------------------------------------------------------------------


@dataclass
class Distribution:
    """Milliseconds; percentiles by nearest rank."""

    samples: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if not self.samples:
            return math.nan
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def max(self) -> float:
        return max(self.samples) if self.samples else math.nan

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else math.nan

    def line(self) -> str:
        return (
            f"p50 {self.p50:7.2f}  p95 {self.p95:7.2f}  max {self.max:7.2f}  mean {self.mean:7.2f} ms"
            f"  (n={len(self.samples):,})"
        )


def epoch_ms(moment: datetime) -> float:
    return moment.timestamp() * 1000


# --- the benchmark database -----------------------------------------------------------------------


# --- the world: user, whales, tokens, history -----------------------------------------------------


class SwapMaker:
    """Fresh, valid USDC swaps: per (wallet, token) two buys then a sell, so positions grow, sells
    realize P&L, and no cycle closes by accident."""

    def __init__(self, run_id: str, mints: Sequence[str]) -> None:
        self.run_id = run_id
        self.mints = list(mints)
        self.made = 0
        self.per_pair: Counter[tuple[str, str]] = Counter()

    def swap(self, wallet: str, timestamp: int) -> dict[str, Any]:
        number = self.made
        self.made += 1
        mint = self.mints[number % len(self.mints)]
        nth = self.per_pair[(wallet, mint)]
        self.per_pair[(wallet, mint)] += 1
        if nth % 3 == 2:
            side, token_amount, usdc_amount = "sell", "700", f"{80 + number % 29}.25"
        else:
            side, token_amount, usdc_amount = "buy", f"{1000 + number % 97}", f"{100 + number % 13}.5"
        return usdc_swap(
            wallet, mint, side, token_amount, usdc_amount, timestamp, seed=f"bench-live {self.run_id} {number}"
        )


@dataclass
class BenchWorld:
    run_id: str
    user: Any
    dashboard_wallets: list[TrackedWallet]  # the whales whose swaps the browser watches arrive
    fanout_wallet: TrackedWallet  # its group is private to this run: the fan-out clients join it
    maker: SwapMaker
    history_s: float

    @property
    def dashboard_addresses(self) -> list[str]:
        return [wallet.address for wallet in self.dashboard_wallets]


def seed_world(history: int) -> BenchWorld:
    """A user with a known password, three whales for the dashboard and one for the fan-out, three
    named and priced tokens (so no metadata task is queued per swap), and `history` backfilled swaps
    per whale over the last 30 days (as a whale's page would hold)."""
    run_id = uuid.uuid4().hex[:10]
    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    now = timezone.now()
    mints = [address(f"bench-live {run_id} token {n}") for n in range(3)]
    Token.objects.bulk_create(
        Token(
            mint=mint,
            symbol=f"BNCH{n}",
            name=f"Bench token {n}",
            decimals=6,
            metadata_updated_at=now,
            price_usd=Decimal("0.12"),
            price_source="bench",
            price_updated_at=now,
        )
        for n, mint in enumerate(mints)
    )
    wallets = [
        TrackedWallet.objects.create(address=address(f"bench-live {run_id} whale {n}"), label=f"Bench whale {n}")
        for n in range(3)
    ]
    fanout_wallet = TrackedWallet.objects.create(address=address(f"bench-live {run_id} fan-out"), label="Fan-out whale")
    maker = SwapMaker(run_id, mints)
    started = time.perf_counter()
    end = int(time.time()) - 3600
    for wallet in [*wallets, fanout_wallet]:
        step = HISTORY_DAYS * DAY / max(history, 1)
        past = [maker.swap(wallet.address, int(end - (history - k) * step)) for k in range(history)]
        for batch in range(0, len(past), 100):
            ingest.ingest(past[batch : batch + 100], ArrivedVia.BACKFILL)
    return BenchWorld(run_id, user, wallets, fanout_wallet, maker, time.perf_counter() - started)


def session_cookie_for(user: Any) -> str:
    """A session of `user` stored in the bench database, as a browser that logged in would hold."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# --- Daphne ---------------------------------------------------------------------------------------


class DaphneServer(LiveServer):
    """Daphne serving aura.asgi in its own process, as the live-server tests start it, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        super().__init__(env, log_path=log_path)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) Daphne's process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_bookings(seconds: float) -> str:
    """Wait until every swap is in the books (the worker keeps up) and say how it went."""
    deadline = time.monotonic() + seconds
    while True:
        waiting = Swap.objects.filter(in_books=False, usd_price__isnull=False).count()
        total = Swap.objects.count()
        if waiting == 0 or time.monotonic() > deadline:
            return f"{total - waiting:,} of {total:,} swaps in the books"
        time.sleep(0.2)


class CeleryWorker:
    """A Celery worker process booking the webhook's trades (whales.tasks.book_trades)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "aura",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    env["CELERY_QUEUE"],
                    "--loglevel=warning",
                ],
                cwd=REPO_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def daphne_env(webhook_secret: str, served: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=settings.REDIS_URL,
        HELIUS_WEBHOOK_SECRET=webhook_secret,
        DEBUG="false" if served else "true",
    )
    env.setdefault("DATABASE_POOL_SIZE", "10")  # as the Procfiles run the web process
    if served:
        # Sessions made here are checked there: the same SECRET_KEY. Plain http on 127.0.0.1.
        env.update(SECRET_KEY=settings.SECRET_KEY, ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="false")
    return env


class Webhook:
    """Helius's side of `/hooks/helius/`: one keep-alive connection; bodies are encoded before timing."""

    def __init__(self, server: DaphneServer, secret: str) -> None:
        self.client = httpx.Client(
            base_url=server.url, headers={"Authorization": secret, "Content-Type": "application/json"}, timeout=30
        )

    def post(self, transactions: list[dict[str, Any]]) -> tuple[float, float, dict[str, Any]]:
        """(POST start, response end) as epoch ms, and the answer."""
        body = json.dumps(transactions).encode()
        posted_ms = time.time() * 1000
        response = self.client.post("/hooks/helius/", content=body)
        answered_ms = time.time() * 1000
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
        return posted_ms, answered_ms, response.json()

    def post_swap(self, transaction: dict[str, Any]) -> tuple[float, float, int]:
        """POST one swap; (POST start, response end, the stored swap's id)."""
        posted_ms, answered_ms, answer = self.post([transaction])
        if answer["new_swaps"] != 1:
            raise RuntimeError(f"webhook stored {answer['new_swaps']} swaps, not 1: {answer}")
        swap_id = Swap.objects.values_list("id", flat=True).get(signature=transaction["signature"])
        return posted_ms, answered_ms, swap_id

    def close(self) -> None:
        self.client.close()


def raise_open_file_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (children inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


# --- 1. webhook POST → DOM in Chromium ------------------------------------------------------------

# Installed in the dashboard: when rows of our whales enter #swap-feed, when the WebSocket message
# carrying them arrived, and the next animation frame after the insert. Same clock for all three.
PAGE_PROBE = """
(wallets) => {
  const ours = new Set(wallets);
  const clock = () => performance.timeOrigin + performance.now();
  const probe = window.__liveBench = {inDom: {}, frame: {}, received: {}, opens: 0, closes: 0};
  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    const at = clock();
    for (const match of String(event.detail.message).matchAll(/data-swap-id="(\\d+)"/g)) {
      if (!(match[1] in probe.received)) probe.received[match[1]] = at;
    }
  });
  document.addEventListener("htmx:wsOpen", () => { probe.opens += 1; });
  document.addEventListener("htmx:wsClose", () => { probe.closes += 1; });
  new MutationObserver((records) => {
    const at = clock();
    const fresh = [];
    for (const record of records) {
      for (const node of record.addedNodes) {
        const id = node.nodeType === 1 ? node.dataset.swapId : undefined;
        if (id && ours.has(node.dataset.wallet) && !(id in probe.inDom)) { probe.inDom[id] = at; fresh.push(id); }
      }
    }
    if (fresh.length) {
      requestAnimationFrame(() => { const at = clock(); fresh.forEach((id) => { probe.frame[id] = at; }); });
    }
  }).observe(document.getElementById("swap-feed"), {childList: true});
}
"""


def page_clock_offset_ms(page: Any) -> tuple[float, float]:
    """(browser clock − Python's time.time(), ± bound) in ms, from the fastest of 25 round trips."""
    best: tuple[float, float] | None = None
    for _ in range(25):
        before = time.time() * 1000
        browser = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        if best is None or after - before < best[1] * 2:
            best = (browser - (before + after) / 2, (after - before) / 2)
    assert best is not None
    return best


@dataclass
class BrowserResult:
    chromium: str
    swaps: int
    missing: int
    post_to_dom: Distribution
    post_to_frame: Distribution
    post_to_response: Distribution
    post_to_ingested: Distribution
    ingested_to_pushed: Distribution
    post_to_received: Distribution
    received_to_dom: Distribution
    pushed_to_received: Distribution
    clock_offsets: list[tuple[float, float]]
    reconnects: int
    seconds: float


def measure_browser(
    server: DaphneServer, webhook: Webhook, world: BenchWorld, swaps: int, gap_s: float
) -> BrowserResult:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            page = context.new_page()
            log_in(page, server, USERNAME, PASSWORD)  # type: ignore[arg-type]  (duck-typed: .url)
            expect(page.locator("#connection")).to_have_text("live")
            wallets = world.dashboard_addresses
            for n in range(WARMUP_PUSHES):
                webhook.post_swap(world.maker.swap(wallets[n % len(wallets)], int(time.time())))
            page.reload()  # now the leaderboard holds our whales' rows, which the pushes replace
            expect(page.locator("#connection")).to_have_text("live")
            page.evaluate(PAGE_PROBE, wallets)
            offsets = [page_clock_offset_ms(page)]
            timeline: list[tuple[int, float, float]] = []  # (swap id, POST start, response end)
            started = time.perf_counter()
            missing = 0
            for n in range(swaps):
                posted_ms, answered_ms, swap_id = webhook.post_swap(
                    world.maker.swap(wallets[n % len(wallets)], int(time.time()))
                )
                timeline.append((swap_id, posted_ms, answered_ms))
                try:
                    page.wait_for_function(
                        "id => id in window.__liveBench.inDom", arg=str(swap_id), polling="raf", timeout=10_000
                    )
                except Exception as error:  # noqa: BLE001 - a row that never came is a figure, not a crash
                    missing += 1
                    print(f"    swap {swap_id}: no row in the page after 10 s ({type(error).__name__})")
                time.sleep(gap_s)
            seconds = time.perf_counter() - started
            offsets.append(page_clock_offset_ms(page))
            probe = page.evaluate("() => window.__liveBench")
            version = browser.version
        finally:
            browser.close()

    offset = sum(o for o, _ in offsets) / len(offsets)
    stored = {
        swap_id: (epoch_ms(ingested), epoch_ms(pushed))
        for swap_id, ingested, pushed in Swap.objects.filter(id__in=[t[0] for t in timeline]).values_list(
            "id", "ingested_at", "pushed_at"
        )
    }
    result = BrowserResult(
        chromium=version,
        swaps=swaps,
        missing=missing,
        post_to_dom=Distribution(),
        post_to_frame=Distribution(),
        post_to_response=Distribution(),
        post_to_ingested=Distribution(),
        ingested_to_pushed=Distribution(),
        post_to_received=Distribution(),
        received_to_dom=Distribution(),
        pushed_to_received=Distribution(),
        clock_offsets=offsets,
        reconnects=probe["opens"] + probe["closes"],
        seconds=seconds,
    )
    for swap_id, posted_ms, answered_ms in timeline:
        key = str(swap_id)
        result.post_to_response.samples.append(answered_ms - posted_ms)
        ingested_ms, pushed_ms = stored[swap_id]
        result.post_to_ingested.samples.append(ingested_ms - posted_ms)
        result.ingested_to_pushed.samples.append(pushed_ms - ingested_ms)
        if key in probe["inDom"]:
            result.post_to_dom.samples.append(probe["inDom"][key] - offset - posted_ms)
        if key in probe["frame"]:
            result.post_to_frame.samples.append(probe["frame"][key] - offset - posted_ms)
        if key in probe["received"]:
            received_ms = probe["received"][key] - offset
            result.post_to_received.samples.append(received_ms - posted_ms)
            result.pushed_to_received.samples.append(received_ms - pushed_ms)
            if key in probe["inDom"]:
                result.received_to_dom.samples.append(probe["inDom"][key] - probe["received"][key])
    return result


# --- 2. fan-out to many WebSocket clients ---------------------------------------------------------

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING = 0x0, 0x1, 0x2, 0x8, 0x9
# What a client recognises in a message: our synthetic pushes, and swap rows.
MESSAGE_KEYS = re.compile(rb'data-(bench-push|swap-id)="(\d+)"')


class HandshakeRefused(Exception):
    pass


@dataclass(frozen=True)
class ClientSpec:
    host: str
    ports: tuple[int, ...]  # clients are spread over these Daphne processes, as a load balancer would
    path: str
    origin: str
    session_cookie: str
    clients: int
    concurrency: int


class Arrivals:
    """When each client first saw each key; wakes whoever waits for a key to reach every client."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.waiting: tuple[str, int, asyncio.Event] | None = None

    def record(self, seen: set[str], received_at: float, message: bytes) -> None:
        for kind, number in MESSAGE_KEYS.findall(message):
            key = f"{kind.decode()}:{number.decode()}"
            if key in seen:
                continue
            seen.add(key)
            arrivals = self.times[key]
            arrivals.append(received_at)
            if self.waiting is not None and self.waiting[0] == key and len(arrivals) >= self.waiting[1]:
                self.waiting[2].set()

    async def wait_for(self, key: str, clients: int, timeout_s: float) -> int:
        if len(self.times[key]) < clients:
            event = asyncio.Event()
            self.waiting = (key, clients, event)
            try:
                await asyncio.wait_for(event.wait(), timeout_s)
            except TimeoutError:
                pass
            finally:
                self.waiting = None
        return len(self.times[key])


class LiveSocket(asyncio.Protocol):
    """A minimal RFC 6455 client: handshake, unmasked server frames, masked pong and close frames.

    `received_at` is time.time() when the event loop handed over the bytes that completed a message:
    it includes this process's own queueing, as a browser's would."""

    def __init__(self, spec: ClientSpec, port: int, arrivals: Arrivals) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {spec.path} HTTP/1.1\r\nHost: {spec.host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {spec.origin}\r\nCookie: {settings.SESSION_COOKIE_NAME}={spec.session_cookie}\r\n\r\n"
        ).encode()
        self.expected_accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        self.arrivals = arrivals
        self.seen: set[str] = set()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.upgraded = False
        self.closing = False
        self.close_code: int | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        received_at = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line, *header_lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[: end + 4]
            headers = {
                name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)
            }
            if status_line.split(" ")[1:2] != ["101"] or headers.get("sec-websocket-accept") != self.expected_accept:
                self.opened.set_exception(HandshakeRefused(status_line))
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(None)
        self.read_frames(received_at)

    def read_frames(self, received_at: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            if second & 0x80:
                raise ConnectionError("a server frame was masked (RFC 6455 5.1)")
            length, offset = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            opcode = first & 0x0F
            if opcode in (OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY):
                self.fragments.append(payload)
                if first & 0x80:
                    message, self.fragments = b"".join(self.fragments), []
                    self.arrivals.record(self.seen, received_at, message)
            elif opcode == OPCODE_PING:  # Daphne pings every 20 s and drops clients that do not answer
                self.send_frame(0xA, payload)
            elif opcode == OPCODE_CLOSE:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.closing:
                    self.closing = True
                    self.send_frame(OPCODE_CLOSE, payload[:2])
                assert self.transport is not None
                self.transport.close()
                return

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """A masked frame with a payload under 126 bytes (control frames only here)."""
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        assert self.transport is not None
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing() and not self.closing:
            self.closing = True
            self.send_frame(OPCODE_CLOSE, code.to_bytes(2, "big"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)


async def serve_clients(pipe: Connection, spec: ClientSpec) -> None:
    """The client process: connect, report, then answer the parent's commands until "close"."""
    loop = asyncio.get_running_loop()
    arrivals = Arrivals()
    gate = asyncio.Semaphore(spec.concurrency)
    sockets: list[LiveSocket] = []
    connect_ms: list[float] = []
    failures: Counter[str] = Counter()

    async def connect_one(port: int) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                _transport, socket = await asyncio.wait_for(
                    loop.create_connection(lambda: LiveSocket(spec, port, arrivals), spec.host, port), 30
                )
                await asyncio.wait_for(socket.opened, 30)
            except (OSError, TimeoutError, HandshakeRefused) as error:
                failures[f"{type(error).__name__}: {error}"[:120]] += 1
                return
            connect_ms.append((time.perf_counter() - started) * 1000)
            sockets.append(socket)

    started = time.perf_counter()
    await asyncio.gather(*(connect_one(spec.ports[n % len(spec.ports)]) for n in range(spec.clients)))
    pipe.send(("connected", len(sockets), connect_ms, dict(failures), time.perf_counter() - started))
    while True:
        command, *args = await loop.run_in_executor(None, pipe.recv)
        if command == "expect":
            key, timeout_s = args
            pipe.send(await arrivals.wait_for(key, len(sockets), timeout_s))
        elif command == "cpu":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            pipe.send(usage.ru_utime + usage.ru_stime)
        elif command == "report":
            dropped = Counter(str(s.close_code) for s in sockets if s.closed.done())
            pipe.send(({key: arrivals.times.get(key, []) for key in args[0]}, dict(dropped)))
        elif command == "close":
            for socket in sockets:
                socket.close()
            if sockets:
                await asyncio.wait([s.closed for s in sockets], timeout=10)
            pipe.send(sum(1 for s in sockets if s.closed.done()))
            return


def run_client_process(pipe: Connection, spec: ClientSpec) -> None:
    raise_open_file_limit(spec.clients + 256)
    asyncio.run(serve_clients(pipe, spec))


class ClientProcess:
    """`spec.clients` WebSocket clients in a child process of their own, driven over a pipe."""

    def __init__(self, spec: ClientSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        self.process = context.Process(target=run_client_process, args=(child_end, spec), daemon=True)
        self.process.start()

    def receive(self, timeout_s: float) -> Any:
        if not self.pipe.poll(timeout_s):
            raise RuntimeError(f"the client process did not answer within {timeout_s:.0f} s")
        return self.pipe.recv()

    def connected(self, timeout_s: float) -> tuple[int, list[float], dict[str, int], float]:
        _, count, connect_ms, failures, seconds = self.receive(timeout_s)
        return count, connect_ms, failures, seconds

    def expect(self, key: str, timeout_s: float = 15) -> int:
        """Wait until every client has `key` (or timeout_s); how many have it."""
        self.pipe.send(("expect", key, timeout_s))
        return self.receive(timeout_s + 30)

    def cpu_seconds(self) -> float:
        """CPU time the client process has used so far."""
        self.pipe.send(("cpu",))
        return self.receive(30)

    def report(self, keys: list[str]) -> tuple[dict[str, list[float]], dict[str, int]]:
        self.pipe.send(("report", keys))
        return self.receive(60)

    def close(self) -> None:
        if self.process.is_alive():
            try:
                self.pipe.send(("close",))
                self.receive(30)
            except (RuntimeError, OSError):
                pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()


@dataclass
class Delivery:
    """One way of pushing, to every connected client."""

    pushes: int
    expected: int
    delivered: int
    latency: Distribution  # every (client, push)
    slowest_client: Distribution  # per push: its last client
    call: Distribution  # send_html call, or the webhook's HTTP response
    daphne_cpu_ms: float = math.nan  # per push, warm-ups excluded
    clients_cpu_ms: float = math.nan
    wall_ms: float = math.nan


@dataclass
class FanoutResult:
    clients: int
    connected: int
    connect: Distribution
    connect_s: float
    failures: dict[str, int]
    dropped: dict[str, int]
    synthetic: Delivery
    webhook: Delivery


def delivery(
    pushed_ms: dict[str, float], arrivals: dict[str, list[float]], clients: int, call: Distribution
) -> Delivery:
    result = Delivery(len(pushed_ms), len(pushed_ms) * clients, 0, Distribution(), Distribution(), call)
    for key, started_ms in pushed_ms.items():
        latencies = [at * 1000 - started_ms for at in arrivals.get(key, [])]
        result.delivered += len(latencies)
        result.latency.samples += latencies
        if latencies:
            result.slowest_client.samples.append(max(latencies))
    return result


class DaphneFleet:
    """Several Daphne processes serving the same app: what `web` scaled to N processes looks like."""

    def __init__(self, servers: Sequence[DaphneServer]) -> None:
        self.servers = list(servers)
        self.url = self.servers[0].url

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)


def cpu_used_since(
    start: tuple[float, float, float], server: DaphneServer | DaphneFleet, holder: ClientProcess
) -> tuple[float, float, float]:
    daphne_s, clients_s, wall_s = start
    return (
        server.cpu_seconds() - daphne_s,
        holder.cpu_seconds() - clients_s,
        time.perf_counter() - wall_s,
    )


def measure_fanout(
    server: DaphneFleet,
    webhook: Webhook,
    world: BenchWorld,
    session_cookie: str,
    clients: int,
    pushes: int,
    gap_s: float,
    concurrency: int,
) -> FanoutResult:
    group = realtime.wallet_group(world.fanout_wallet.address)
    spec = ClientSpec(
        host="127.0.0.1",
        ports=tuple(daphne.port for daphne in server.servers),
        path=f"/ws/live/?groups={group}",
        origin=server.url,
        session_cookie=session_cookie,
        clients=clients,
        concurrency=concurrency,
    )
    holder = ClientProcess(spec)
    try:
        connected, connect_ms, failures, connect_s = holder.connected(timeout_s=60 + clients * 0.5)
        if connected == 0:
            raise RuntimeError(f"no WebSocket client could connect: {failures}")
        sent_ms: dict[str, float] = {}
        send_call = Distribution()
        cpu: dict[str, tuple[float, float, float]] = {}  # phase: (Daphne s, clients s, wall s) over the measured pushes
        for n in range(WARMUP_PUSHES + pushes):
            if n == WARMUP_PUSHES:
                cpu["synthetic"] = (server.cpu_seconds(), holder.cpu_seconds(), time.perf_counter())
            started_ms = time.time() * 1000
            html = f'<div id="bench-push" hx-swap-oob="true" data-bench-push="{n}" data-sent="{started_ms:.3f}"></div>'
            realtime.send_html(group, html)
            call_ms = time.time() * 1000 - started_ms
            holder.expect(f"bench-push:{n}")
            if n >= WARMUP_PUSHES:
                sent_ms[f"bench-push:{n}"] = started_ms
                send_call.samples.append(call_ms)
            time.sleep(gap_s)
        cpu["synthetic"] = cpu_used_since(cpu["synthetic"], server, holder)
        posted: dict[str, float] = {}
        response = Distribution()
        for n in range(WARMUP_PUSHES + pushes):
            if n == WARMUP_PUSHES:
                cpu["webhook"] = (server.cpu_seconds(), holder.cpu_seconds(), time.perf_counter())
            posted_ms, answered_ms, swap_id = webhook.post_swap(
                world.maker.swap(world.fanout_wallet.address, int(time.time()))
            )
            holder.expect(f"swap-id:{swap_id}")
            if n >= WARMUP_PUSHES:
                posted[f"swap-id:{swap_id}"] = posted_ms
                response.samples.append(answered_ms - posted_ms)
            time.sleep(gap_s)
        cpu["webhook"] = cpu_used_since(cpu["webhook"], server, holder)
        arrivals, dropped = holder.report([*sent_ms, *posted])
    finally:
        holder.close()
    synthetic = delivery(sent_ms, arrivals, connected, send_call)
    webhook_delivery = delivery(posted, arrivals, connected, response)
    for phase, result in (("synthetic", synthetic), ("webhook", webhook_delivery)):
        daphne_s, clients_s, wall_s = cpu[phase]
        result.daphne_cpu_ms, result.clients_cpu_ms = daphne_s * 1000 / pushes, clients_s * 1000 / pushes
        result.wall_ms = wall_s * 1000 / pushes
    return FanoutResult(
        clients=clients,
        connected=connected,
        connect=Distribution(connect_ms),
        connect_s=connect_s,
        failures=failures,
        dropped=dropped,
        synthetic=synthetic,
        webhook=webhook_delivery,
    )


# --- 3. where the time goes -----------------------------------------------------------------------


def time_requests(
    client: httpx.Client, method: str, path: str, repeat: int, status: int = 200, **kwargs: Any
) -> Distribution:
    for _ in range(10):
        client.request(method, path, **kwargs)
    timings = Distribution()
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.request(method, path, **kwargs)
        timings.samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != status:
            raise RuntimeError(f"{method} {path} answered {response.status_code}, not {status}")
    return timings


@dataclass
class DaphneAlone:
    refused: Distribution
    healthz: Distribution
    empty_delivery: Distribution


def measure_daphne_alone(server: DaphneServer, secret: str, repeat: int) -> DaphneAlone:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        refused = time_requests(
            client, "POST", "/hooks/helius/", repeat, status=401, content=b"[]", headers={"Authorization": "wrong"}
        )
        healthz = time_requests(client, "GET", "/healthz", repeat)
        empty = time_requests(
            client, "POST", "/hooks/helius/", repeat, content=b"[]", headers={"Authorization": secret}
        )
    return DaphneAlone(refused, healthz, empty)


@dataclass
class ConnectionCosts:
    postgres: Distribution
    redis: Distribution


def measure_connection_costs(repeat: int) -> ConnectionCosts:
    """A new connection + one round trip + close, as a request makes when connections are not kept."""
    config = connection.settings_dict
    postgres, redis_ping = Distribution(), Distribution()
    for _ in range(repeat):
        started = time.perf_counter()
        with psycopg.connect(
            dbname=config["NAME"],
            host=config["HOST"] or None,
            port=config["PORT"] or None,
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
        ) as database:
            database.execute("SELECT 1").fetchone()
        postgres.samples.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.ping()
        client.close()
        redis_ping.samples.append((time.perf_counter() - started) * 1000)
    return ConnectionCosts(postgres, redis_ping)


class StageClock:
    """Times named functions of our modules while installed (wrapping them, behaviour unchanged), per
    ingest: `samples[label]` gets each ingest's total time in that stage."""

    def __init__(self) -> None:
        self.samples: dict[str, Distribution] = defaultdict(Distribution)
        self.calls: Counter[str] = Counter()
        self.current: defaultdict[str, float] = defaultdict(float)
        self.originals: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[label] += (time.perf_counter() - started) * 1000
                self.calls[label] += 1

        self.originals.append((owner, name, original))
        setattr(owner, name, timed)

    def sql(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.current["SQL: time in queries"] += (time.perf_counter() - started) * 1000
            self.calls["SQL: time in queries"] += 1

    def close_sample(self) -> None:
        for label, ms in self.current.items():
            self.samples[label].samples.append(ms)
        self.current.clear()

    def restore(self) -> None:
        for owner, name, original in reversed(self.originals):
            setattr(owner, name, original)
        self.originals.clear()


# (module, function, depth, what it is): each is timed where it is called during an ingest.
INGEST_STAGES: list[tuple[Any, str, int, str]] = [
    (ingest, "ingest", 0, " (whole call)"),
    (ingest, "_store_raw", 1, ""),
    (ingest, "_store_swaps", 1, ""),
    (ingest, "push_live_swaps", 1, " (on commit)"),
    (fragments, "swap_rows", 2, " (render)"),
    (fragments, "swap_push", 2, " (render)"),
    (ingest, "book_trades", 1, " (a transaction of its own)"),
    (ledger, "apply_new_trades", 2, ""),
    (booking, "refresh_stats", 2, ""),
    (booking, "push_wallet_figures", 2, " (on commit)"),
    (fragments, "leaderboard_row", 3, " (render)"),
    (fragments, "wallet_stats", 3, " (render)"),
    (fragments, "wallet_positions", 3, " (render)"),
    (realtime, "send_many", 1, " (every push's sends)"),
]


@dataclass
class IngestProfile:
    ingests: int
    stages: dict[str, Distribution]
    calls_per_ingest: dict[str, float]


def profile_ingest(world: BenchWorld, ingests: int, debug: bool) -> IngestProfile:
    """`ingest` of one webhook swap at a time, in a sync thread beside a running event loop
    that the channel layer sends on: the way Daphne runs the webhook view, without HTTP."""
    clock = StageClock()

    def run() -> None:
        wallets = world.dashboard_addresses
        try:
            with override_settings(DEBUG=debug), connection.execute_wrapper(clock.sql):
                for n in range(WARMUP_PUSHES + ingests):
                    transaction = world.maker.swap(wallets[n % len(wallets)], int(time.time()))
                    ingest.ingest([transaction], ArrivedVia.WEBHOOK)
                    if n < WARMUP_PUSHES:
                        clock.current.clear()
                        clock.calls.clear()
                    else:
                        clock.close_sample()
        finally:
            connections.close_all()  # this thread's connection

    async def beside_a_loop() -> None:
        await sync_to_async(run, thread_sensitive=False)()

    labels = []
    for owner, name, depth, note in INGEST_STAGES:
        labels.append(f"{'  ' * depth}{owner.__name__.split('.')[-1]}.{name}{note}")
        clock.wrap(owner, name, labels[-1])
    try:
        asyncio.run(beside_a_loop())
    finally:
        clock.restore()
    return IngestProfile(
        ingests=ingests,
        stages={label: clock.samples[label] for label in labels if label in clock.samples}
        | {"SQL: time in queries": clock.samples["SQL: time in queries"]},
        calls_per_ingest={label: count / ingests for label, count in clock.calls.items()},
    )


# --- report ---------------------------------------------------------------------------------------


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"? ({error})"
    return out.strip() or "?"


@dataclass
class CpuSnapshot:
    """Jiffies of the whole machine and CPU ticks of every user process, at one moment."""

    busy: int
    total: int
    processes: dict[int, tuple[str, int, bool]]  # pid → (command, CPU ticks, ours)


def cpu_snapshot() -> CpuSnapshot:
    """Ours: this process and its descendants (Daphne, the client process, Playwright and Chromium)
    and the PostgreSQL backends serving the bench database. Redis is counted as someone else's."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    parents: dict[int, int] = {}
    found: dict[int, tuple[str, int, bool]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            command = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if not command:
            continue  # a kernel thread
        rest = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(rest[1])
        label = command.replace(b"\0", b" ").decode(errors="replace").strip()[:70]
        found[pid] = (label, int(rest[11]) + int(rest[12]), BENCH_DATABASE.encode() in command)
    me = os.getpid()

    def descends_from_me(pid: int) -> bool:
        for _ in range(64):
            if pid == me:
                return True
            pid = parents.get(pid, 0)
            if pid <= 1:
                return False
        return False

    processes = {
        pid: (label, ticks, flagged or descends_from_me(pid)) for pid, (label, ticks, flagged) in found.items()
    }
    return CpuSnapshot(sum(fields) - idle, sum(fields), processes)


def cpu_use_between(before: CpuSnapshot, after: CpuSnapshot) -> str:
    """How busy the machine was, and how much of it at least went to processes that are not ours:
    those alive at both moments (a short-lived one, or a reaped child's time, is only in the total)."""
    capacity = max(1, after.total - before.total)
    others: Counter[str] = Counter()
    for pid, (label, ticks, ours) in after.processes.items():
        if not ours and pid in before.processes and before.processes[pid][0] == label:
            others[label] += ticks - before.processes[pid][1]
    busy = (after.busy - before.busy) / capacity * 100
    share = sum(others.values()) / capacity * 100
    top = ", ".join(
        f"{label} {ticks / capacity * 100:.0f}%" for label, ticks in others.most_common(2) if ticks / capacity >= 0.01
    )
    return f"machine {busy:.0f}% busy ({os.cpu_count()} CPUs); not ours: at least {share:.0f}%" + (
        f" ({top})" if top else ""
    )


def machine_busy(seconds: float = 1.0) -> str:
    """How busy the machine is over the next `seconds`, and the load averages."""
    before = cpu_snapshot()
    time.sleep(seconds)
    loads = ", ".join(f"{load:.2f}" for load in os.getloadavg())
    return f"{cpu_use_between(before, cpu_snapshot())} over {seconds:g} s; load average {loads}"


def print_header(
    config: argparse.Namespace, daphne: DaphneServer, world: BenchWorld, migrate_s: float, busy_before: str
) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "?",
    )
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('synchronous_commit')")
        pg_version, synchronous_commit = cursor.fetchone()
    where = connection.settings_dict["HOST"] or "local socket"
    redis_version = redis.Redis.from_url(settings.REDIS_URL).info("server")["redis_version"]
    print(f"AURA live-update benchmark · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine   {os.cpu_count()} CPUs ({cpu}), {memory_gb:.0f} GB RAM, {platform.platform()}")
    print(
        f"python    {platform.python_version()}, Django {django.get_version()}, daphne {version_of('daphne')},"
        f" channels {version_of('channels')}, channels-redis {version_of('channels-redis')},"
        f" redis-py {version_of('redis')}, playwright {version_of('playwright')}"
    )
    print(f"chromium  {chromium_version()}  ({CHROMIUM})")
    print(f"postgres  {pg_version} at {where} (synchronous_commit {synchronous_commit}), database {BENCH_DATABASE}")
    print(
        f"redis     {redis_version} at {settings.REDIS_URL};"
        f" channel layer {settings.CHANNEL_LAYERS['default']['BACKEND']}"
    )
    processes = (
        "one process" if config.web_processes == 1 else f"{config.web_processes} processes (fan-out clients spread)"
    )
    print(f"daphne    {processes} at {daphne.url}, DEBUG={'false' if config.served else 'true'}, log {daphne.log_path}")
    print(f"worker    one Celery worker (solo pool), queue {os.environ['CELERY_QUEUE']}: books each delivery")
    print(f"machine   before the run: {busy_before}")
    print(
        f"sizes     {config.swaps} swaps to the browser, {config.clients:,} WebSocket clients, {config.pushes} pushes"
        f" each way, {WARMUP_PUSHES} warm-up pushes not counted, {config.gap_ms:g} ms between pushes;"
        f" {config.history} backfilled swaps per whale ({world.history_s:.1f} s), migrations {migrate_s:.1f} s"
    )
    print()


def print_browser(result: BrowserResult, cpu_use: str) -> None:
    print(f"1. Webhook POST → DOM update in Chromium ({result.chromium}), {result.swaps} swaps one at a time")
    offsets = ", ".join(f"{o:+.2f} ± {b:.2f} ms" for o, b in result.clock_offsets)
    print(f"    browser clock − time.time(): {offsets} (before, after); browser times shifted by their mean")
    print(f"    POST → row in #swap-feed (DOM)    {result.post_to_dom.line()}")
    print(f"    POST → next animation frame      {result.post_to_frame.line()}")
    print("    split:")
    print(f"      POST → ingested_at             {result.post_to_ingested.line()}")
    print(f"      ingested_at → pushed_at        {result.ingested_to_pushed.line()}")
    print(f"      POST → HTTP response           {result.post_to_response.line()}")
    print(f"      POST → WS message in the page  {result.post_to_received.line()}")
    print(f"      pushed_at → WS message         {result.pushed_to_received.line()}  (negative: before pushed_at)")
    print(f"      WS message → row in DOM        {result.received_to_dom.line()}  (htmx oob swap + aura.js)")
    verdict = "within" if result.post_to_dom.p95 < DOM_P95_TARGET_MS else "NOT within"
    print(f"    → p95 {result.post_to_dom.p95:.1f} ms: {verdict} the {DOM_P95_TARGET_MS:.0f} ms target")
    if result.missing:
        print(f"    {result.missing} swaps never appeared in the page")
    if result.reconnects:
        print(f"    the page's socket opened/closed {result.reconnects} times during the run")
    print(f"    ({result.seconds:.1f} s for the measured swaps; during this section: {cpu_use})")
    print()


def print_delivery(name: str, result: Delivery, call_name: str) -> None:
    shortfall = result.expected - result.delivered
    print(
        f"    {name}: delivered {result.delivered:,} of {result.expected:,}"
        + (f" (SHORT by {shortfall:,})" if shortfall else "")
    )
    print(f"      every delivery      {result.latency.line()}")
    print(f"      slowest per push    {result.slowest_client.line()}")
    print(f"      {call_name:19} {result.call.line()}")
    print(
        f"      CPU per push: Daphne {result.daphne_cpu_ms:.0f} ms, the client process {result.clients_cpu_ms:.0f} ms,"
        f" in a push cycle of {result.wall_ms:.0f} ms wall time"
    )


def print_fanout(result: FanoutResult, label: str, cpu_use: str) -> None:
    clients = f"{result.clients:,} WebSocket client" + ("" if result.clients == 1 else "s")
    print(f"{label} Fan-out to {clients} (group wallet.<run address>)")
    print(
        f"    connected {result.connected:,} of {result.clients:,} in {result.connect_s:.2f} s;"
        f" per connection (TCP + handshake + auth + group_add) {result.connect.line()}"
    )
    for reason, count in result.failures.items():
        print(f"      refused/failed ×{count}: {reason}")
    if result.dropped:
        print(f"      closed by the server during the run (close code: clients): {result.dropped}")
    print_delivery("send_html → client", result.synthetic, "send_html call")
    print_delivery("webhook POST → client (the row via wallet group)", result.webhook, "HTTP response")
    print(f"    (during this section: {cpu_use})")
    print()


def print_daphne_alone(result: DaphneAlone) -> None:
    print("3a. Daphne alone (one keep-alive connection)")
    print(f"    POST /hooks/helius/, wrong secret  {result.refused.line()}  (no database, no Redis)")
    print(f"    GET /healthz                      {result.healthz.line()}  (PostgreSQL query + a new Redis client)")
    print(f"    POST /hooks/helius/ with []       {result.empty_delivery.line()}  (a PostgreSQL connection, no query)")
    print()


def print_connection_costs(result: ConnectionCosts) -> None:
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    kept = "a pool is configured" if pool else "no pool is configured"
    print(
        "3b. New connections: Django under ASGI runs each request's sync code in a thread of its own, so without"
        f" a pool every request opens and closes a PostgreSQL connection, whatever CONN_MAX_AGE says ({kept})"
    )
    print(f"    PostgreSQL connect + SELECT 1 + close   {result.postgres.line()}")
    print(f"    Redis connect + PING + close            {result.redis.line()}  (redis-py, as /healthz does)")
    print()


def print_profile(result: IngestProfile) -> None:
    print(f"3c. ingest of one webhook swap, in-process beside an event loop ({result.ingests} ingests)")
    for label, timings in result.stages.items():
        calls = result.calls_per_ingest.get(label, 0)
        print(f"    {label:50} {timings.line()}  {calls:.1f} calls")


def print_summary(browser: BrowserResult | None, fanouts: list[FanoutResult]) -> None:
    rows: list[tuple[str, str, str]] = []
    if browser is not None:
        rows += [
            ("webhook POST → DOM, p95", f"{browser.post_to_dom.p95:.1f} ms", f"< {DOM_P95_TARGET_MS:.0f} ms"),
            ("webhook POST → DOM, p50", f"{browser.post_to_dom.p50:.1f} ms", "-"),
            ("webhook POST → DOM, max", f"{browser.post_to_dom.max:.1f} ms", "-"),
        ]
    for fanout in fanouts:
        n = f"{fanout.clients:,} client" + ("s" if fanout.clients != 1 else "")
        target = f"< {FANOUT_P95_TARGET_MS:.0f} ms" if fanout.clients >= 1000 else "-"
        rows += [
            (f"{n}: send_html → client, p95", f"{fanout.synthetic.latency.p95:.1f} ms", target),
            (
                f"{n}: send_html → client, p50 / max",
                f"{fanout.synthetic.latency.p50:.1f} / {fanout.synthetic.latency.max:.1f} ms",
                "-",
            ),
            (f"{n}: webhook POST → client, p95", f"{fanout.webhook.latency.p95:.1f} ms", "-"),
            (
                f"{n}: delivered / expected",
                f"{fanout.synthetic.delivered + fanout.webhook.delivered:,} / "
                f"{fanout.synthetic.expected + fanout.webhook.expected:,}",
                "all",
            ),
            (f"{n}: connect all", f"{fanout.connect_s:.2f} s", "-"),
            (f"{n}: Daphne CPU per send_html push", f"{fanout.synthetic.daphne_cpu_ms:.0f} ms", "-"),
        ]
    width = max(len(name) for name, _, _ in rows)
    print("Summary")
    print(f"  {'figure':{width}}  {'measured':>22}  target")
    for name, measured, target in rows:
        print(f"  {name:{width}}  {measured:>22}  {target}")


# --- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swaps", type=int, default=200, help="swaps POSTed while the browser watches")
    parser.add_argument("--clients", type=int, default=1000, help="WebSocket clients of the fan-out")
    parser.add_argument("--pushes", type=int, default=20, help="fan-out pushes, each way")
    parser.add_argument("--history", type=int, default=300, help="swaps backfilled per whale before measuring")
    parser.add_argument("--gap-ms", type=float, default=30.0, help="pause after each measured push")
    parser.add_argument("--connect-concurrency", type=int, default=50, help="WebSocket handshakes in flight")
    parser.add_argument("--profile-ingests", type=int, default=100, help="in-process ingests timed by stage")
    parser.add_argument("--served", action="store_true", help="Daphne with DEBUG off (default: DEBUG=true)")
    parser.add_argument(
        "--web-processes", type=int, default=1, help="Daphne processes the fan-out's clients are spread over"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database at the end")
    args = parser.parse_args(argv)
    if (
        min(args.swaps, args.clients, args.pushes, args.connect_concurrency, args.profile_ingests) < 1
        or args.history < 0
        or args.web_processes < 1
    ):
        parser.error("sizes must be positive")
    if not Path(CHROMIUM).exists():
        parser.error(f"Chromium is missing at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH")

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    raise_open_file_limit(args.clients * 2 + 1024)  # Daphne inherits it: one descriptor per client
    secret = secrets.token_urlsafe(24)
    log_path = Path(tempfile.mkstemp(prefix="aura-bench-live-daphne-", suffix=".log")[1])
    gap_s = args.gap_ms / 1000
    daphne: DaphneServer | None = None
    worker: CeleryWorker | None = None
    extra_daphnes: list[DaphneServer] = []
    webhook: Webhook | None = None
    browser: BrowserResult | None = None
    fanouts: list[FanoutResult] = []
    failed = True
    try:
        busy_before = machine_busy()  # other work on this machine inflates every figure below
        migrate_s = database.create_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE)
        with connection.cursor() as cursor:  # swap ids of this run stand apart from anyone else's
            cursor.execute("SELECT setval(pg_get_serial_sequence('whales_swap', 'id'), %s)", [FIRST_SWAP_ID])
        world = seed_world(args.history)
        session_cookie = session_cookie_for(world.user)
        connections.close_all()
        worker = CeleryWorker(daphne_env(secret, args.served), log_path)
        daphne = DaphneServer(daphne_env(secret, args.served), log_path).start()
        for _ in range(args.web_processes - 1):
            extra_daphnes.append(DaphneServer(daphne_env(secret, args.served), log_path).start())
        fleet = DaphneFleet([daphne, *extra_daphnes])
        webhook = Webhook(daphne, secret)
        print_header(args, daphne, world, migrate_s, busy_before)

        section = cpu_snapshot()
        browser = measure_browser(daphne, webhook, world, args.swaps, gap_s)
        print_browser(browser, cpu_use_between(section, cpu_snapshot()))
        print(f"    booked by the worker: {wait_for_bookings(seconds=30)}")
        for count, label in ((1, "2a."), (args.clients, "2b.")):
            section = cpu_snapshot()
            fanout = measure_fanout(
                fleet, webhook, world, session_cookie, count, args.pushes, gap_s, args.connect_concurrency
            )
            fanouts.append(fanout)
            print_fanout(fanout, label, cpu_use_between(section, cpu_snapshot()))
        section = cpu_snapshot()
        print_daphne_alone(measure_daphne_alone(daphne, secret, repeat=200))
        print_connection_costs(measure_connection_costs(repeat=50))
        print_profile(profile_ingest(world, args.profile_ingests, debug=not args.served))
        print(f"    (3a–3c, during these sections: {cpu_use_between(section, cpu_snapshot())})")
        print()
        print_summary(browser, fanouts)
        print(f"\nmachine   after the run: {machine_busy()}")
        failed = False
    finally:
        if webhook is not None:
            webhook.close()
        for server in [daphne, *extra_daphnes]:
            if server is not None:
                server.stop()
        if worker is not None:
            worker.stop()
        if failed and log_path.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            print(f"\nDaphne's log ({log_path}), last lines:\n" + "\n".join(tail), file=sys.stderr)
        elif not args.keep:
            log_path.unlink(missing_ok=True)
        if args.keep:
            print(f"\nkept database {BENCH_DATABASE} ({os.environ['DATABASE_URL']}) and Daphne's log {log_path}")
        else:
            database.drop_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
