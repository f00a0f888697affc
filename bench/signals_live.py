"""Webhook → DOM p95 with token signals on: bench/live's browser measurement while the swaps make signals.

    .venv/bin/python -m aura.embedded run -- .venv/bin/python bench/signals_live.py [--swaps 200]

(`make bench-signals` runs it after bench/signals.py.) Prints figures; asserts nothing.

bench/live's machinery (its benchmark database, Daphne, a Celery worker, the Chromium page on the
dashboard and its probe of #swap-feed) measures POST → row in the DOM, exactly as bench/live does,
with one difference: the swaps make signals. The dashboard's three whales take turns buying one
token at a time (the third buyer within seconds fires a whale accumulation), every tenth buy is
$12,000 (a big trade, which the same whale's next big buys grow), so while the page is watched the
worker books each delivery, judges it for signals (`signals.tasks.detect_swap_signals`) and pushes
the signals to the same page (its signals panel joins `feed.signals`). Printed beside it: /healthz
of the same Daphne in the same run (p50/p95 over keep-alive requests, and the DOM p95 as a ratio of
it), the signals the run stored, and ingest → signal stored (the worker's booking and detection)
for each signal that fired. First the same measurement runs with bench/live's own swaps (each whale
trades its own token: every delivery is judged, nothing fires), for comparison in the same run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
# Pub/sub channels are global to a Redis server: a prefix of this run's own (Daphne inherits it).
os.environ["CHANNELS_PREFIX"] = f"aura-bench-signals-{os.getpid()}"

import argparse  # noqa: E402
import logging  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
from django.db import connections  # noqa: E402

import bench.live as live  # noqa: E402  (points Django at bench/live's database and sets it up)
from signals.models import Signal  # noqa: E402
from tests.builders import usdc_swap  # noqa: E402
from whales.models import Swap  # noqa: E402

try:
    from bench.live_stats import Distribution  # bench/live split into modules
except ImportError:
    Distribution = live.Distribution

DOM_P95_TARGET_MS = 50.0
BIG_BUY_EVERY = 10
SWAPS_PER_TOKEN = 9


class ClusterMaker:
    """Buys that make signals (see the module's docstring); `swap(wallet, timestamp)` as bench/live's maker."""

    def __init__(self, run_id: str, mints: Sequence[str]) -> None:
        self.run_id = run_id
        self.mints = list(mints)
        self.made = 0

    def swap(self, wallet: str, timestamp: int) -> dict[str, Any]:
        number = self.made
        self.made += 1
        mint = self.mints[(number // SWAPS_PER_TOKEN) % len(self.mints)]
        usdc = "12000" if number % BIG_BUY_EVERY == BIG_BUY_EVERY - 1 else f"{100 + number % 13}.5"
        return usdc_swap(
            wallet, mint, "buy", f"{1000 + number % 97}", usdc, timestamp, seed=f"bench-signals {self.run_id} {number}"
        )


def healthz(server: Any, requests: int = 200) -> Distribution:
    """/healthz of the same Daphne, one keep-alive request at a time (ms)."""
    result = Distribution()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(20):
            client.get("/healthz")
        for _ in range(requests):
            started = time.perf_counter()
            client.get("/healthz")
            result.samples.append((time.perf_counter() - started) * 1000)
    return result


def settle_signals(seconds: float = 20.0) -> None:
    """Wait until the worker has judged every delivery: no new signal change for two seconds."""
    deadline, last, quiet_since = time.monotonic() + seconds, None, time.monotonic()
    while time.monotonic() < deadline:
        state = list(Signal.objects.order_by("id").values_list("id", "updated_at", "wallet_count"))
        if state != last:
            last, quiet_since = state, time.monotonic()
        elif time.monotonic() - quiet_since > 2:
            return
        time.sleep(0.2)


def signal_figures(since_swap_id: int) -> tuple[Counter, list[float]]:
    """Signals of the measured swaps by kind, and ingest → signal stored (ms) of each that fired."""
    counts: Counter = Counter()
    delays = []
    for signal in Signal.objects.select_related("token"):
        counts[signal.kind] += 1
        if signal.kind == "big_trade":
            firing = Swap.objects.filter(id=signal.swap_ids[0]).first()
        else:
            # The swap that made it: the token's last one stored before the signal was (block times are
            # whole seconds, and several of the run's swaps share one).
            firing = (
                Swap.objects.filter(token=signal.token, ingested_at__lte=signal.created_at)
                .order_by("-ingested_at")
                .first()
            )
        if firing is not None and firing.id >= since_swap_id:
            delays.append((signal.created_at - firing.ingested_at).total_seconds() * 1000)
    return counts, delays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swaps", type=int, default=200, help="swaps POSTed while the browser watches")
    parser.add_argument("--history", type=int, default=50, help="swaps backfilled per whale before measuring")
    parser.add_argument("--gap-ms", type=float, default=30.0, help="pause after each measured push")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database at the end")
    args = parser.parse_args(argv)
    if args.swaps < 1 or args.history < 0:
        parser.error("sizes must be positive")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secret = secrets.token_urlsafe(24)
    log_path = Path(tempfile.mkstemp(prefix="aura-bench-signals-daphne-", suffix=".log")[1])
    daphne = worker = webhook = None
    try:
        print(f"machine   before the run: {live.machine_busy()}")
        live.database.create_bench_database(live.SOURCE_DATABASE_URL, live.BENCH_DATABASE)
        world = live.seed_world(args.history)
        connections.close_all()
        worker = live.CeleryWorker(live.daphne_env(secret, False), log_path)
        daphne = live.DaphneServer(live.daphne_env(secret, False), log_path).start()
        webhook = live.Webhook(daphne, secret)
        print(f"worker    books each delivery and judges it for signals; queue {os.environ['CELERY_QUEUE']}")
        print(f"history   {args.history} swaps per whale; {len(world.dashboard_wallets)} whales on the dashboard")
        print()
        health = healthz(daphne)
        print("A. bench/live's own swaps (each whale its own token: the worker judges every delivery, nothing fires)")
        section = live.cpu_snapshot()
        quiet = live.measure_browser(daphne, webhook, world, args.swaps, args.gap_ms / 1000)
        live.print_browser(quiet, live.cpu_use_between(section, live.cpu_snapshot()))
        print(f"    booked by the worker: {live.wait_for_bookings(seconds=30)}")
        first_measured = (Swap.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        world.maker = ClusterMaker(world.run_id, world.maker.mints)
        print("B. swaps that make signals (clusters, big trades), pushed to the same page")
        section = live.cpu_snapshot()
        browser = live.measure_browser(daphne, webhook, world, args.swaps, args.gap_ms / 1000)
        live.print_browser(browser, live.cpu_use_between(section, live.cpu_snapshot()))
        print(f"    booked by the worker: {live.wait_for_bookings(seconds=30)}")
        settle_signals()
        counts, delays = signal_figures(first_measured)
        stored = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) or "none"
        print(f"signals   stored during the run: {stored}")
        if delays:
            delay = Distribution(samples=delays)
            print(f"          ingested_at → signal stored (booking + detection, fired ones): {delay.line()}")
        print(f"/healthz  same Daphne, same run: {health.line()}")
        p95 = browser.post_to_dom.p95
        verdict = "within" if p95 < DOM_P95_TARGET_MS else "NOT within"
        print()
        print(
            f"webhook → DOM with signals on: p95 {p95:.1f} ms ({p95 / health.p95:.1f}× /healthz p95 "
            f"{health.p95:.1f} ms): {verdict} the {DOM_P95_TARGET_MS:.0f} ms target"
        )
        print(
            f"          with nothing firing (A): p95 {quiet.post_to_dom.p95:.1f} ms "
            f"({quiet.post_to_dom.p95 / health.p95:.1f}× /healthz p95)"
        )
        print(f"machine   after the run: {live.machine_busy()}")
    finally:
        if webhook is not None:
            webhook.close()
        if daphne is not None:
            daphne.stop()
        if worker is not None:
            worker.stop()
        if args.keep:
            print(f"kept database {live.BENCH_DATABASE} and Daphne's log {log_path}")
        else:
            log_path.unlink(missing_ok=True)
            live.database.drop_bench_database(live.SOURCE_DATABASE_URL, live.BENCH_DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
