"""bench/live's third measurement, where the time goes: Daphne alone, new PostgreSQL and Redis
connections, and `ingest` with its stages timed.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections
from django.test import override_settings

from aura import realtime
from bench.live_servers import DaphneServer
from bench.live_stats import Distribution
from bench.live_world import WARMUP_PUSHES, BenchWorld
from whales import fragments
from whales.books import booking, ledger
from whales.ingestion import ingest
from whales.models import ArrivedVia


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
