"""Fault benchmark: the whole stack under provider faults, a worker killed with SIGKILL, a Redis restart
and a PostgreSQL restart; prints a table of what was expected, stored, booked and pushed. Asserts
nothing (targets: every swap stored once, 0 unbooked, 0 unpushed).

    make bench-faults                       # the full run (about 15 minutes)
    make bench-faults FAULTS_ARGS="--fault-minutes 3 --settle-minutes 3"   # a shorter one

What runs, as `make run` runs it: the market simulator (in this process, so its own record of every
transaction it made is at hand), Daphne (`aura.asgi`), the Celery workers (prefork: 2 processes on
the main queue, 1 on the backfills' queue) and Celery beat (DatabaseScheduler), against an embedded
PostgreSQL and Redis of the benchmark's own in `.data/bench-faults` (`AURA_DATA_DIR`): it restarts
them, so it never uses anyone else's, and it ignores DATABASE_URL and REDIS_URL. The database
`aura_bench_faults` is made afresh each run. The simulator's whales are tracked (`load_demo`): their
history backfills while live trades are delivered to the webhook.

The faults, during `--fault-minutes` (times are from the start of the stack):
* provider faults, every 15 s from 30 s on: 429 with Retry-After, 500/503, responses slower than the
  client's timeout and truncated JSON, on Helius's history and Birdeye's price and metadata paths
  (the simulator's `POST /sim/faults`);
* the workers killed with SIGKILL (each whole process group) at 20 % of the phase, started 10 s later;
* Redis shut down at 40 %, started again 8 s later;
* PostgreSQL stopped (fast) at 60 %, started again 8 s later.

Then the cut: every transaction the simulator made up to the end of the fault phase is expected.
The benchmark waits (up to `--settle-minutes`, 5 by default) until those swaps are all stored,
booked and pushed, and reports at that moment:

* expected — swaps of tracked wallets in the simulator's record (history and live), token transfers;
* stored — rows for them; duplicates — expected swaps stored more than once; missing — not stored;
* unbooked — stored swaps not in the books (`in_books` false), after the settle time;
* unpushed — live swaps (delivered by webhook or found by a poll within 10 minutes) with no push;
* the webhook's counters (the simulator's), and how live swaps arrived (webhook or poll);
* block → push of live swaps: p50, p95, and how many were pushed more than 60 s after their block.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
BENCH_DATABASE = "aura_bench_faults"
WEBHOOK_SECRET = "bench-faults-webhook-secret"
PROVIDER_FAULTS = [
    {"path_prefix": "/v0/addresses", "status": 429, "retry_after": 2, "count": 4},
    {"path_prefix": "/v0/addresses", "status": 500, "count": 3},
    {"path_prefix": "/v0/addresses", "status": 503, "count": 2},
    {"path_prefix": "/v0/addresses", "delay": 12, "count": 1},
    {"path_prefix": "/v0/addresses", "malformed": True, "count": 2},
    {"path_prefix": "/defi/multi_price", "status": 429, "retry_after": 1, "count": 3},
    {"path_prefix": "/defi/multi_price", "status": 500, "count": 2},
    {"path_prefix": "/defi/history_price", "status": 503, "count": 2},
    {"path_prefix": "/defi/token_overview", "malformed": True, "count": 2},
    {"path_prefix": "/v0/webhooks", "status": 500, "count": 1},
]


def prepare_environment(data_dir: Path) -> None:
    """Point this process (and the children it starts) at the benchmark's own embedded services,
    started if need be."""
    os.environ["AURA_DATA_DIR"] = str(data_dir)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    from aura import embedded

    embedded.ensure_services(os.environ)
    from bench import database

    os.environ["AURA_BENCH_SOURCE_URL"] = database.use_bench_database(BENCH_DATABASE)
    run_id = uuid.uuid4().hex[:8]
    os.environ["CHANNELS_PREFIX"] = f"aura-bench-faults-{run_id}"
    os.environ["CELERY_QUEUE"] = f"aura-bench-faults-{run_id}"
    os.environ["DEBUG"] = "true"


# --- the stack ------------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=REPO_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill_hard(self) -> None:
        """SIGKILL to the whole process group: the main process and its children die at once."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Events:
    lines: list[tuple[float, str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    faults_posted: int = 0

    def note(self, what: str, detail: str) -> None:
        at = time.monotonic() - self.started
        self.lines.append((at, what, detail))
        print(f"  [{at:6.1f} s] {what}: {detail}", flush=True)


def service_env(sim_url: str, web_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "HELIUS_API_KEY": "sim",
        "HELIUS_BASE_URL": sim_url,
        "HELIUS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HELIUS_WEBHOOK_URL": f"http://127.0.0.1:{web_port}/hooks/helius/",
        "HELIUS_RATE_PER_SECOND": "25",
        "HELIUS_TIMEOUT_SECONDS": "10",
        "BIRDEYE_API_KEY": "sim",
        "BIRDEYE_BASE_URL": sim_url,
        "BIRDEYE_RATE_PER_SECOND": "25",
        "DEXSCREENER_BASE_URL": sim_url,
        "JUPITER_BASE_URL": sim_url,
        "DATABASE_POOL_SIZE": "0",
        "PYTHONUNBUFFERED": "1",
    }


def wait_for_http(url: str, seconds: float) -> bool:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


# --- what the simulator made ----------------------------------------------------------------------


def expected_activity(simulator: Any, tracked: set[str], until: float) -> tuple[dict[str, bool], set[tuple]]:
    """From the simulator's own record, up to `until`: {signature: live} of tracked wallets' swaps, and
    {(signature, wallet, direction)} of their token transfers."""
    swaps: dict[str, bool] = {}
    transfers: set[tuple] = set()
    with simulator.lock:
        for tx in simulator.market.transactions:
            if tx.timestamp > until:
                continue
            if tx.kind == "swap" and tx.wallet in tracked:
                swaps[tx.signature] = tx.live
            elif tx.kind == "spl_transfer":
                if tx.wallet in tracked:
                    transfers.add((tx.signature, tx.wallet, tx.side))
                if tx.side == "out" and tx.counterparty in tracked:
                    transfers.add((tx.signature, tx.counterparty, "in"))
    return swaps, transfers


# --- the run --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fault-minutes", type=float, default=6.0)
    parser.add_argument("--settle-minutes", type=float, default=5.0)
    parser.add_argument("--wallets", type=int, default=60)
    parser.add_argument("--history-days", type=float, default=3.0)
    parser.add_argument("--history-txs", type=int, default=3000)
    parser.add_argument("--swaps-per-minute", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only-start", action="store_true", help="no faults: start the stack and watch the feed")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "pgserver"):  # a line per request, per pg_ctl call
        logging.getLogger(noisy).setLevel(logging.WARNING)
    data_dir = Path(os.environ.get("AURA_DATA_DIR") or REPO_DIR / ".data" / "bench-faults").resolve()
    prepare_environment(data_dir)
    import django

    django.setup()

    from django.core.management import call_command

    from aura import embedded
    from bench import database
    from simulator.server import MarketSimulator, SimulatorConfig
    from tests.conftest import free_port

    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    source_url = os.environ["AURA_BENCH_SOURCE_URL"]
    print(f"bench/faults: services and logs in {data_dir}")
    database.create_bench_database(source_url, BENCH_DATABASE)
    call_command("load_demo", seed=args.seed, wallets=args.wallets, stdout=open(os.devnull, "w"))  # noqa: SIM115

    config = SimulatorConfig(
        port=free_port(),
        seed=args.seed,
        wallets=args.wallets,
        history_days=args.history_days,
        history_txs=args.history_txs,
        swaps_per_minute=args.swaps_per_minute,
    )
    sim_url = f"http://{config.host}:{config.port}"
    web_port = free_port()
    env = service_env(sim_url, web_port)
    python = sys.executable
    web = Process(
        "web",
        [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(web_port), "aura.asgi:application"],
        {**env, "DATABASE_POOL_SIZE": "10"},
        log_dir / "web.log",
    )
    worker = Process(
        "worker",
        [python, "-m", "celery", "-A", "aura", "worker", "--concurrency=2", "-Q", env["CELERY_QUEUE"]]
        + ["--loglevel=info"],
        env,
        log_dir / "worker.log",
    )
    history = Process(
        "history",
        [python, "-m", "celery", "-A", "aura", "worker", "-n", "history@%h", "--concurrency=1"]
        + ["-Q", f"{env['CELERY_QUEUE']}.history", "--loglevel=info"],
        env,
        log_dir / "history.log",
    )
    beat = Process(
        "beat",
        [python, "-m", "celery", "-A", "aura", "beat", "--loglevel=info", "--pidfile="]
        + ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        env,
        log_dir / "beat.log",
    )
    processes = [web, worker, history, beat]
    events = Events()
    # As `make run` starts them: everything at once, the simulator last to answer (it builds its history).
    for process in processes:
        process.start()
    simulator = MarketSimulator(config).start()
    events.note("simulator", f"{len(simulator.market.transactions):,} transactions of history, at {simulator.url}")
    if not wait_for_http(f"http://127.0.0.1:{web_port}/healthz", 60):
        print("Daphne did not answer /healthz within 60 s; see", web.log_path)
        return 1
    events.note("stack", f"Daphne on :{web_port}, worker, beat started")

    fault_seconds = args.fault_minutes * 60
    stop_faults = threading.Event()
    rng = random.Random(args.seed)

    def provider_faults() -> None:
        import httpx

        if stop_faults.wait(30):
            return
        while not stop_faults.is_set():
            fault = rng.choice(PROVIDER_FAULTS)
            try:
                httpx.post(f"{simulator.url}/sim/faults", json=fault, timeout=5).raise_for_status()
                events.faults_posted += fault["count"]
            except httpx.HTTPError as error:
                events.note("provider faults", f"could not post a fault: {error}")
            if stop_faults.wait(15):
                return

    faulting = threading.Thread(target=provider_faults, daemon=True)
    if not args.only_start:
        faulting.start()

    def at(fraction: float) -> None:
        remaining = events.started + fraction * fault_seconds - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    try:
        if not args.only_start:
            at(0.2)
            worker.kill_hard()
            history.kill_hard()
            events.note("workers", "both killed with SIGKILL (each whole process group)")
            time.sleep(10)
            worker.start()
            history.start()
            events.note("workers", "started again")

            at(0.4)
            embedded.stop_redis()
            events.note("redis", "shut down")
            time.sleep(8)
            embedded.start_redis()
            events.note("redis", "started again")

            at(0.6)
            from django.db import connections

            connections.close_all()
            embedded.stop_postgres()
            events.note("postgres", "stopped (fast shutdown)")
            time.sleep(8)
            # From a process of its own: pgserver keeps, per process, a handle that takes the server
            # for running once it has seen it running.
            subprocess.run(
                [sys.executable, "-m", "aura.embedded", "start"], cwd=REPO_DIR, check=True, stdout=subprocess.DEVNULL
            )
            events.note("postgres", "started again")
        at(1.0)
        stop_faults.set()
        cut = simulator.now()
        events.note(
            "cut",
            f"the fault phase ends; transactions up to now are expected (faults served: "
            f"{simulator.stats['faults_served']})",
        )
        report = settle(simulator, cut, args.settle_minutes * 60, events, processes)
    finally:
        stop_faults.set()
        for process in reversed(processes):
            process.stop()
        simulator.stop()
        from django.db import connections

        connections.close_all()
        # Its own services, restarted during the run whoever started them first: stopped.
        embedded.stop_services(embedded.Started(postgres=True, redis=True))
    print_report(report, events, args)
    return 0


@dataclass
class Report:
    expected_history: int = 0
    expected_live: int = 0
    stored_history: int = 0
    stored_live: int = 0
    duplicates: int = 0
    missing: list[str] = field(default_factory=list)
    missing_live: int = 0
    unexpected: int = 0
    unbooked: int = 0
    unvalued: int = 0
    unpushed: int = 0
    expected_transfers: int = 0
    stored_transfers: int = 0
    transfers_unbooked: int = 0
    live_by_webhook: int = 0
    live_by_poll: int = 0
    live_as_history: int = 0
    pushed_late: int = 0
    push_p50: float | None = None
    push_p95: float | None = None
    settled_after: float | None = None
    waited: float = 0.0
    sim: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    dead: list[str] = field(default_factory=list)


def measure(simulator: Any, cut: float) -> Report:
    from django.db import connection
    from django.db.models import Count

    from whales.live import LIVE_SWAPS
    from whales.models import Quarantined, Swap, TokenTransfer, TrackedWallet

    tracked = set(TrackedWallet.objects.values_list("address", flat=True))
    swaps, transfers = expected_activity(simulator, tracked, cut)
    report = Report()
    report.expected_live = sum(swaps.values())
    report.expected_history = len(swaps) - report.expected_live
    rows = Swap.objects.filter(signature__in=list(swaps))
    per_signature = dict(rows.values_list("signature").annotate(n=Count("id")))
    report.duplicates = sum(n - 1 for n in per_signature.values() if n > 1)
    report.stored_live = sum(1 for s in per_signature if swaps[s])
    report.stored_history = len(per_signature) - report.stored_live
    report.missing = [s for s in swaps if s not in per_signature]
    report.missing_live = sum(1 for s in report.missing if swaps[s])
    report.unbooked = rows.filter(in_books=False).count()
    report.unvalued = rows.filter(usd_value=None).count()
    live_signatures = [s for s, live in swaps.items() if live]
    live_rows = Swap.objects.filter(signature__in=live_signatures)
    report.live_by_webhook = live_rows.filter(arrived_via="webhook").count()
    report.live_by_poll = live_rows.filter(arrived_via="poll").count()
    report.live_as_history = live_rows.exclude(LIVE_SWAPS).count()  # the simulator's live, our history
    report.unpushed = live_rows.filter(LIVE_SWAPS, pushed_at=None).count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pushed_at - block_time)),"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM pushed_at - block_time)),"
            " count(*) FILTER (WHERE pushed_at - block_time > interval '60 seconds')"
            f" FROM {Swap._meta.db_table} WHERE pushed_at IS NOT NULL AND signature = ANY(%s)",
            [live_signatures],
        )
        report.push_p50, report.push_p95, report.pushed_late = cursor.fetchone()
    stored_transfers = set(
        TokenTransfer.objects.filter(signature__in=[t[0] for t in transfers]).values_list(
            "signature", "wallet__address", "direction"
        )
    )
    report.expected_transfers = len(transfers)
    report.stored_transfers = len(stored_transfers & transfers)
    report.transfers_unbooked = TokenTransfer.objects.filter(
        signature__in=[t[0] for t in transfers], in_books=False
    ).count()
    report.quarantined = Quarantined.objects.count()
    with simulator._stats_lock:
        report.sim = dict(simulator.stats)
    return report


def settle(simulator: Any, cut: float, seconds: float, events: Events, processes: list[Process]) -> Report:
    """Wait until the expected swaps are all stored, booked and pushed (or `seconds` pass); measure."""
    from django.db import DatabaseError, connections

    started = time.monotonic()
    report = Report()
    while True:
        try:
            report = measure(simulator, cut)
        except DatabaseError as error:
            events.note("measure", f"database error, trying again: {error}")
            connections.close_all()
        report.waited = time.monotonic() - started
        done = not report.missing and report.unbooked == 0 and report.unpushed == 0
        done = done and report.stored_transfers == report.expected_transfers and report.transfers_unbooked == 0
        if done:
            report.settled_after = report.waited
            break
        if report.waited >= seconds:
            break
        time.sleep(5)
    report.dead = [p.name for p in processes if not p.alive()]
    events.note("settled" if report.settled_after is not None else "gave up", f"after {report.waited:.0f} s")
    return report


def print_report(report: Report, events: Events, args: argparse.Namespace) -> None:
    sim = report.sim
    print()
    print(
        f"bench/faults — {args.wallets} whales, {args.swaps_per_minute:g} live swaps/min, "
        f"{args.fault_minutes:g} min of faults, settle limit {args.settle_minutes:g} min"
    )
    print()
    print(f"{'when':>8}  {'fault':<18} detail")
    for at, what, detail in events.lines:
        print(f"{at:7.1f}s  {what:<18} {detail}")
    print(
        f"{'':>8}  {'provider faults':<18} {events.faults_posted} injected, {sim.get('faults_served', 0)} served "
        "(429+Retry-After, 500/503, slower than the timeout, truncated JSON)"
    )
    print()
    header = f"{'':<16}{'expected':>10}{'stored':>10}{'missing':>9}{'dupes':>7}{'unbooked':>10}{'unpushed':>10}"
    print(header)
    print("-" * len(header))
    history_missing = len(report.missing) - report.missing_live
    print(
        f"{'swaps, history':<16}{report.expected_history:>10}{report.stored_history:>10}{history_missing:>9}"
        f"{'':>7}{'':>10}{'—':>10}"
    )
    print(
        f"{'swaps, live':<16}{report.expected_live:>10}{report.stored_live:>10}"
        f"{report.missing_live:>9}{'':>7}{'':>10}{report.unpushed:>10}"
    )
    print(
        f"{'swaps, all':<16}{report.expected_history + report.expected_live:>10}"
        f"{report.stored_history + report.stored_live:>10}{len(report.missing):>9}{report.duplicates:>7}"
        f"{report.unbooked:>10}{report.unpushed:>10}"
    )
    print(
        f"{'token transfers':<16}{report.expected_transfers:>10}{report.stored_transfers:>10}"
        f"{report.expected_transfers - report.stored_transfers:>9}{0:>7}{report.transfers_unbooked:>10}{'—':>10}"
    )
    print()
    settled = (
        f"{report.settled_after:.0f} s after the cut" if report.settled_after is not None else "not within the limit"
    )
    print(f"settled: {settled} (unbooked counted then; {report.unvalued} swaps without a USD value)")
    print(
        f"live swaps: {report.live_by_webhook} arrived by webhook, {report.live_by_poll} by poll "
        f"({report.live_as_history} of them stored as history)"
    )
    if report.push_p50 is not None:
        print(
            f"block → push of live swaps: p50 {report.push_p50:.1f} s, p95 {report.push_p95:.1f} s, "
            f"{report.pushed_late} pushed more than 60 s after their block"
        )
    print(
        f"webhook (the simulator's counters): {sim.get('webhook_deliveries', 0)} deliveries, "
        f"{sim.get('webhook_delivered', 0)} delivered, {sim.get('webhook_failed_attempts', 0)} failed attempts, "
        f"{sim.get('webhook_retries', 0)} retries, {sim.get('webhook_dropped', 0)} dropped after 3 retries"
    )
    print(f"quarantined: {report.quarantined}; processes not running at the end: {', '.join(report.dead) or 'none'}")
    if report.missing[:5]:
        print("missing, first few:", ", ".join(s[:16] for s in report.missing[:5]))


if __name__ == "__main__":
    sys.exit(main())
