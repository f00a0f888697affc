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
import importlib.metadata  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench.live_breakdown import measure_connection_costs, measure_daphne_alone, profile_ingest  # noqa: E402
from bench.live_browser import BrowserResult, measure_browser  # noqa: E402
from bench.live_fanout import DaphneFleet, FanoutResult, measure_fanout  # noqa: E402
from bench.live_report import (  # noqa: E402
    print_browser,
    print_connection_costs,
    print_daphne_alone,
    print_fanout,
    print_profile,
    print_summary,
)
from bench.live_servers import (  # noqa: E402
    CeleryWorker,
    DaphneServer,
    Webhook,
    daphne_env,
    raise_open_file_limit,
    wait_for_bookings,
)
from bench.live_world import FIRST_SWAP_ID, WARMUP_PUSHES, BenchWorld, seed_world, session_cookie_for  # noqa: E402
from tests.conftest import CHROMIUM  # noqa: E402


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
