"""API and page throughput benchmark: prints figures beside the speed targets; asserts nothing.

It passes or fails nothing: read its ratios to /healthz against the targets.

Run it with the embedded PostgreSQL and Redis (what `make test` uses):

    .venv/bin/python -m aura.embedded run -- .venv/bin/python bench/api.py

or against servers of your own (only the servers are used; see "database" below):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aura REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/api.py

Needs `wrk` (Debian package `wrk`; `make bench-api` installs it when missing).

Flags (defaults are the issues' sizes): --swaps 1000000 --wallets 1000 (wallets that trade, as in
bench/pnl.py) --leaderboard-wallets 10000 (tracked wallets in all) --seed 1 --seconds 10 (per URL
per round) --rounds 3 --connections 8 --only TEXT (the URLs whose name contains TEXT, and /healthz)
--keep (keep the database for the next run) --rebuild (build it even if a kept one fits) --rebook
(book a kept one again) --debug (Daphne with DEBUG on; the default serves as production does).

What it measures: one Daphne process serving the app (started as tests/conftest.LiveServer starts
it, with DATABASE_POOL_SIZE=10 as the Procfile runs the web process, DEBUG off), a logged-in user
(a session cookie for the pages, a DRF token for the API), `wrk` with --connections keep-alive
connections on one thread, --seconds per URL. Round 1 takes every URL once, then round 2, then
round 3, so that other work on the machine spreads over all of them; /healthz is in every round and
each URL's figures are read as ratios to /healthz of the same round. Per run: requests/s, p50/p95/max
latency, the CPU time Daphne's process spent per request (psutil, CPU seconds over the run / requests)
and that of the PostgreSQL backends serving the bench database (when they run on this machine).
Every URL must first answer 200 with the content it should carry (a 302 to the login page or a 500
answered fast would pass for speed); a run in which any response was not a 200 is reported invalid.

The URLs: /healthz (the baseline); the API leaderboard (default, other windows and sorts, a search, a
deep page) and swaps list; the dashboard; the wallet pages of the median wallet (by swap count) and
of the heaviest; the token page of the most traded token; the wallet chart's data, if the app has
such an endpoint (a URL name with "chart" in it that takes an address).

The database: the one bench/pnl.py builds (`aura_bench` on the server DATABASE_URL names, the
embedded one when it is unset; never the developer's), built the same way by bench/pnl.py's own
functions: --wallets wallets trading --swaps swaps over 30 days, topped up to --leaderboard-wallets
tracked wallets; then a minute-by-minute price history of the last 7 days for the 20 most traded
tokens (what the price poller stores for a held token), and every book booked with
`recompute.recompute_all()` (positions, cycles, realizations, the four windows' stats of every wallet),
so the pages show real figures. A database kept by an earlier run (`--keep` here or in bench/pnl.py)
with the same sizes is reused: migrated, and booked again unless this script booked it at the same
migration state. It is dropped at the end unless --keep is given. A run refuses to start while the
database has open connections (another run's).

Figures go to stdout and, as JSON, to bench/results/api-<time>.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

# bench/pnl.py points Django at its benchmark database and sets Django up on import: this bench
# builds (with pnl's own functions) and reuses that same database.
from bench import database, pnl  # noqa: E402

BENCH_DATABASE = pnl.BENCH_DATABASE
SOURCE_DATABASE_URL = pnl.SOURCE_DATABASE_URL

import django  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection, connections, transaction  # noqa: E402
from django.db.migrations.recorder import MigrationRecorder  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.urls import NoReverseMatch, get_resolver, reverse  # noqa: E402
from rest_framework.authtoken.models import Token as ApiToken  # noqa: E402

from tests.conftest import LiveServer  # noqa: E402
from whales import selectors  # noqa: E402
from whales.books import recompute  # noqa: E402
from whales.models import (  # noqa: E402
    Position,
    PositionCycle,
    Realization,
    Swap,
    Token,
    TokenPrice,
    TrackedWallet,
    WalletStats,
)
from whales.selectors import LEADERBOARD_PAGE_SIZE, LeaderboardQuery  # noqa: E402

RESULTS_DIR = REPO_DIR / "bench" / "results"
USERNAME = "bench-api"
PRICE_HISTORY_TOKENS = 20
PRICE_HISTORY_DAYS = 7  # what the token page charts
PRICE_STEP_SECONDS = 60  # one stored point per token per minute, as the price poller stores them
DEEP_PAGE = 100
MARKER = "bench/api booked"  # how the database comment says this script booked it

# Targets, as ratios to /healthz in the same round: (least throughput ratio, largest p95 ratio).
API_TARGET = (0.5, 2.0)
PAGE_TARGET = (0.25, 4.0)
HEAVIEST_WITHIN = 1.5  # the heaviest wallet's page against the median wallet's

# wrk's Lua hooks: count every response that is not a 200 (wrk itself flags only statuses > 399, so
# a redirect to the login page would pass), and print the figures as one JSON line.
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_200 = 0
  first_not_200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_200 = not_200 + 1
    if first_not_200 == 0 then first_not_200 = status end
  end
end

function done(summary, latency, requests)
  local others, first = 0, 0
  for _, thread in ipairs(threads) do
    others = others + thread:get("not_200")
    if first == 0 then first = thread:get("first_not_200") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, "p50_us": %.0f, "p95_us": %.0f,'
    .. ' "p99_us": %.0f, "max_us": %.0f, "connect_errors": %.0f, "read_errors": %.0f, "write_errors": %.0f,'
    .. ' "status_errors": %.0f, "timeouts": %.0f, "not_200": %.0f, "first_not_200": %.0f}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout, others, first))
end
"""


# --- the database ---------------------------------------------------------------------------------


@dataclass
class DatabaseReport:
    """How the benchmark database came to be; seconds are None for steps this run did not take."""

    reused: bool
    migrate_s: float
    migrations_applied: int
    load_s: float | None = None  # generating the swaps and COPYing them (bench/pnl.load_swaps)
    top_up_s: float | None = None
    prices_s: float | None = None
    book_s: float | None = None  # recompute.recompute_all()
    analyze_s: float | None = None  # VACUUM ANALYZE and CHECKPOINT
    booked_at: str = ""
    swaps: int = 0
    trading_wallets: int = 0
    wallets: int = 0
    tokens: int = 0
    realizations: int = 0
    price_points: int = 0
    database_mb: float = 0.0

    @property
    def total_s(self) -> float:
        steps = (self.load_s, self.top_up_s, self.prices_s, self.book_s, self.analyze_s)
        return self.migrate_s + sum(step for step in steps if step is not None)


def database_exists() -> bool:
    with database.server_connection(SOURCE_DATABASE_URL) as server:
        return server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE]).fetchone() is not None


def refuse_if_in_use() -> None:
    with database.server_connection(SOURCE_DATABASE_URL) as server:
        (users,) = server.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [BENCH_DATABASE]
        ).fetchone()
    if users:
        raise SystemExit(f"{BENCH_DATABASE} has {users} open connection(s), another benchmark run's? Not touching it.")


def read_marker() -> dict[str, Any]:
    """What this script wrote into the database's comment when it last booked it ({} when nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        )
        (comment,) = cursor.fetchone()
    if not comment or not comment.startswith(MARKER + " "):
        return {}
    try:
        return json.loads(comment[len(MARKER) + 1 :])
    except ValueError:
        return {}


def write_marker(marker: dict[str, Any]) -> None:
    text = f"{MARKER} {json.dumps(marker, sort_keys=True)}"
    with connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{BENCH_DATABASE}" IS %s', [text])


def applied_migrations() -> int:
    return len(MigrationRecorder(connection).applied_migrations())


def stored_sizes() -> tuple[int, int, int]:
    """(swaps, wallets that have swaps, tracked wallets) in the database."""
    swaps = Swap.objects.count()
    trading = Swap.objects.values("wallet_id").distinct().count()
    return swaps, trading, TrackedWallet.objects.count()


def built_otherwise(config: pnl.Config) -> str:
    """Why the database at hand is not what `config` builds ("" when it is): other sizes, or the
    tokens of another seed's market."""
    wanted = (config.swaps, config.wallets, config.leaderboard_wallets)
    found = stored_sizes()
    if found != wanted:
        return (
            f"it holds {found[0]:,} swaps of {found[1]:,} wallets among {found[2]:,},"
            f" this run wants {wanted[0]:,} / {wanted[1]:,} / {wanted[2]:,}"
        )
    mints = config.market().mints
    if Token.objects.filter(mint__in=mints).count() != len(mints):
        return f"its tokens are not those of seed {config.seed}"
    return ""


def prepare_database(config: pnl.Config, rebuild: bool, rebook: bool) -> DatabaseReport:
    """Reuse a kept database built as `config` builds it, or build one; book it unless this script
    booked it at the current migration state (and --rebook is not given)."""
    refuse_if_in_use()
    report, marker = None, {}
    if database_exists() and not rebuild:
        before = applied_migrations()
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        migrate_s = time.perf_counter() - started
        applied = applied_migrations() - before
        if reason := built_otherwise(config):
            print(f"database  {BENCH_DATABASE} is there but {reason}: building it anew", flush=True)
        else:
            report = DatabaseReport(reused=True, migrate_s=migrate_s, migrations_applied=applied)
            marker = read_marker()
            print(f"database  reusing {BENCH_DATABASE} ({applied} migrations applied, {migrate_s:.1f} s)", flush=True)
    if report is None:
        report = build_database(config)
    current = {
        "swaps": config.swaps,
        "wallets": config.wallets,
        "leaderboard_wallets": config.leaderboard_wallets,
        "migrations": applied_migrations(),
    }
    if rebook or any(marker.get(key) != value for key, value in current.items()):
        book_database(report, config)
        write_marker({**current, "booked_at": report.booked_at})
    else:
        report.booked_at = marker.get("booked_at", "")
        print(f"database  booked by an earlier run at {report.booked_at} (same migrations): not booking again")
    describe_database(report)
    return report


def build_database(config: pnl.Config) -> DatabaseReport:
    """A new database with bench/pnl.py's swaps, topped up to --leaderboard-wallets tracked wallets."""
    connections.close_all()  # a connection of ours to the database would make it refuse to drop it
    print(f"database  building {BENCH_DATABASE}: {config.swaps:,} swaps of {config.wallets:,} wallets", flush=True)
    report = DatabaseReport(
        reused=False,
        migrate_s=database.create_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE),
        migrations_applied=0,
    )
    report.migrations_applied = applied_migrations()
    started = time.perf_counter()
    pnl.as_served(pnl.load_swaps, config)
    report.load_s = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        existing = TrackedWallet.objects.count()
        if existing < config.leaderboard_wallets:
            pnl.create_wallets(config, range(existing, config.leaderboard_wallets))
    report.top_up_s = time.perf_counter() - started
    return report


def book_database(report: DatabaseReport, config: pnl.Config) -> None:
    """The price history the token page charts, then every book rebuilt, then fresh planner statistics."""
    started = time.perf_counter()
    add_price_history(config)
    report.prices_s = time.perf_counter() - started
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"    recompute_all: {done:,} of {total:,} wallets, {time.perf_counter() - started:.0f} s", flush=True)

    print("database  booking every wallet: recompute.recompute_all()", flush=True)
    with override_settings(DEBUG=False):
        recompute.recompute_all(progress=progress)
    report.book_s = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Swap, Realization, PositionCycle, Position, WalletStats, TokenPrice, TrackedWallet, Token):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    # The build leaves ~1 GB of dirty pages and WAL behind; written by a checkpoint during the first
    # URLs' time it stalled their requests for seconds (a p95 of 8.5 s seen in round 1).
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as error:
        print(f"    no CHECKPOINT ({str(error).strip()}): the build's writes may spill into the first rounds")
    report.analyze_s = time.perf_counter() - started
    report.booked_at = datetime.now(UTC).isoformat(timespec="seconds")


def add_price_history(config: pnl.Config) -> int:
    """A point a minute over the last PRICE_HISTORY_DAYS days for the most traded tokens, from the price
    paths of bench/pnl's market (of the config's seed and sizes), ending at the tokens' latest price time
    (when the swaps end: a reused database may have been built at another hour)."""
    TokenPrice.objects.all().delete()
    end_at = Token.objects.aggregate(at=Max("price_updated_at"))["at"]
    busiest = list(
        Swap.objects.values("token_id").annotate(n=Count("id")).order_by("-n", "token_id")[:PRICE_HISTORY_TOKENS]
    )
    if end_at is None or not busiest:
        return 0
    end = int(end_at.timestamp())
    market = pnl.Market.build(config.seed, config.tokens, end)
    index_of = {mint: index for index, mint in enumerate(market.mints)}
    mints = dict(Token.objects.filter(id__in=[row["token_id"] for row in busiest]).values_list("id", "mint"))
    chosen = [(token_id, index_of[mint]) for token_id, mint in mints.items() if mint in index_of]
    if not chosen:
        print("    price history: the tokens are not this seed's market's; none added")
        return 0
    first = end - PRICE_HISTORY_DAYS * 86_400

    def rows() -> Iterator[tuple]:
        for token_id, index in chosen:
            for moment in range(first, end + 1, PRICE_STEP_SECONDS):
                at = datetime.fromtimestamp(moment, UTC)
                yield token_id, at, market.price_at(market.price_usd(index, moment)), "birdeye"

    with transaction.atomic():
        return pnl.CopyTable(TokenPrice, ["token", "at", "price_usd", "source"]).write(rows())


def describe_database(report: DatabaseReport) -> None:
    report.swaps, report.trading_wallets, report.wallets = stored_sizes()
    report.tokens = Token.objects.count()
    report.realizations = Realization.objects.count()
    report.price_points = TokenPrice.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (size,) = cursor.fetchone()
    report.database_mb = size / pnl.MB
    if not WalletStats.objects.exclude(total_pnl=0).exists():
        raise SystemExit("the books are empty after booking (no wallet has any P&L): nothing real to measure")


# --- what is measured -----------------------------------------------------------------------------


@dataclass
class Target:
    """One URL to load. `auth` is how the client proves who it is: "" (none), "session" or "token"."""

    key: str
    label: str
    path: str
    auth: str
    kind: str  # "baseline", "api", "page" or "chart": which target applies
    check: Callable[[httpx.Response], str | None]  # None when the answer carries what it should, else why not
    size: int = 0  # bytes of the answer's body, from the content check

    @property
    def goal(self) -> tuple[float, float] | None:
        return {"api": API_TARGET, "page": PAGE_TARGET}.get(self.kind)


def json_check(condition: Callable[[Any], str | None]) -> Callable[[httpx.Response], str | None]:
    def check(response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return f"not JSON: {response.text[:80]!r}"
        return condition(body)

    return check


def html_check(*needles: str) -> Callable[[httpx.Response], str | None]:
    def check(response: httpx.Response) -> str | None:
        if "text/html" not in response.headers.get("content-type", ""):
            return f"not HTML ({response.headers.get('content-type')})"
        missing = [needle for needle in needles if needle not in response.text]
        return f"the page lacks {', '.join(missing)}" if missing else None

    return check


def healthz_ok(body: Any) -> str | None:
    return None if body == {"database": "ok", "redis": "ok"} else f"answered {body}"


def leaderboard_rows(first_address: str | None = None, fewer_than: int | None = None) -> Callable[[Any], str | None]:
    def condition(body: Any) -> str | None:
        rows = body.get("results") if isinstance(body, dict) else None
        if not rows:
            return f"no rows: {str(body)[:120]}"
        if first_address and rows[0]["wallet"]["address"] != first_address:
            return f"first row is {rows[0]['wallet']['address']}, the leaderboard's first is {first_address}"
        if fewer_than is not None and body["count"] >= fewer_than:
            return f"{body['count']} rows: the filter did not filter"
        return None

    return condition


def swaps_rows(newest_id: int) -> Callable[[Any], str | None]:
    def condition(body: Any) -> str | None:
        rows = body.get("results") if isinstance(body, dict) else None
        if not rows:
            return f"no rows: {str(body)[:120]}"
        return None if rows[0]["id"] == newest_id else f"first swap {rows[0]['id']}, the newest is {newest_id}"

    return condition


def chart_rows(body: Any) -> str | None:
    return None if body else "an empty series"


@dataclass
class Subjects:
    """The wallets and token whose pages are measured, and what their pages must show."""

    median_wallet: TrackedWallet
    median_swaps: int
    heaviest_wallet: TrackedWallet
    heaviest_swaps: int
    token: Token
    token_swaps: int
    active_wallets: int

    @classmethod
    def find(cls) -> Subjects:
        counts = list(
            Swap.objects.values("wallet_id")
            .annotate(n=Count("id"))
            .order_by("n", "wallet_id")
            .values_list("wallet_id", "n")
        )
        median_id, median_swaps = counts[len(counts) // 2]
        heaviest_id, heaviest_swaps = counts[-1]
        token_id, token_swaps = (
            Swap.objects.values("token_id")
            .annotate(n=Count("id"))
            .order_by("-n", "token_id")
            .values_list("token_id", "n")
        )[0]
        default_window = LeaderboardQuery.from_request(RequestFactory().get("/")).window
        return cls(
            median_wallet=TrackedWallet.objects.get(id=median_id),
            median_swaps=median_swaps,
            heaviest_wallet=TrackedWallet.objects.get(id=heaviest_id),
            heaviest_swaps=heaviest_swaps,
            token=Token.objects.get(id=token_id),
            token_swaps=token_swaps,
            active_wallets=WalletStats.objects.filter(window=default_window, wallet_active=True).count(),
        )


def newest_swap_id(**filters: Any) -> int:
    return selectors.swap_feed(**filters).values_list("id", flat=True)[0]


def leaderboard_first_address(params: dict[str, str]) -> str:
    return LeaderboardQuery.from_request(RequestFactory().get("/", params)).stats()[0].wallet.address


def chart_data_path(address: str) -> tuple[str, str] | None:
    """(URL name, path) of the wallet chart's data endpoint, when the app has one: a URL name with
    "chart" in it that takes the wallet's address."""
    names = sorted(name for name in get_resolver().reverse_dict if isinstance(name, str) and "chart" in name)
    for name in names:
        try:
            return name, reverse(name, kwargs={"address": address})
        except NoReverseMatch:
            continue
    return None


def targets_for(subjects: Subjects) -> tuple[list[Target], list[str]]:
    """Every URL measured, /healthz first; and notes on what could not be measured."""
    median, heaviest, token = subjects.median_wallet, subjects.heaviest_wallet, subjects.token
    pages = max(1, math.ceil(subjects.active_wallets / LEADERBOARD_PAGE_SIZE))
    deep = min(DEEP_PAGE, pages)
    api = "/api/v1/"
    search = "whale"
    every_row = subjects.active_wallets
    targets = [
        Target("healthz", "/healthz", "/healthz", "", "baseline", json_check(healthz_ok)),
        Target(
            "api-leaderboard",
            "API leaderboard (7d, total P&L)",
            f"{api}leaderboard/",
            "token",
            "api",
            json_check(leaderboard_rows(leaderboard_first_address({}))),
        ),
        Target(
            "api-leaderboard-winrate-30d",
            "API leaderboard (30d, win rate)",
            f"{api}leaderboard/?window=30d&sort=win_rate",
            "token",
            "api",
            json_check(leaderboard_rows(leaderboard_first_address({"window": "30d", "sort": "win_rate"}))),
        ),
        Target(
            "api-leaderboard-volume-24h",
            "API leaderboard (24h, volume)",
            f"{api}leaderboard/?window=24h&sort=volume",
            "token",
            "api",
            json_check(leaderboard_rows(leaderboard_first_address({"window": "24h", "sort": "volume"}))),
        ),
        Target(
            "api-leaderboard-search",
            f"API leaderboard (search '{search}')",
            f"{api}leaderboard/?q={search}",
            "token",
            "api",
            json_check(leaderboard_rows(fewer_than=every_row)),
        ),
        Target(
            "api-leaderboard-deep-page",
            f"API leaderboard (page {deep} of {pages})",
            f"{api}leaderboard/?page={deep}",
            "token",
            "api",
            json_check(leaderboard_rows()),
        ),
        Target("api-swaps", "API swaps", f"{api}swaps/", "token", "api", json_check(swaps_rows(newest_swap_id()))),
        Target(
            "dashboard",
            "dashboard /",
            reverse("dashboard"),
            "session",
            "page",
            html_check(
                f'href="{reverse("wallet", args=[leaderboard_first_address({})])}"',
                f'data-swap-id="{newest_swap_id()}"',
            ),
        ),
        Target(
            "wallet-median",
            f"wallet page, median wallet ({subjects.median_swaps:,} swaps)",
            reverse("wallet", args=[median.address]),
            "session",
            "page",
            html_check(median.address, f'data-swap-id="{newest_swap_id(wallet=median)}"'),
        ),
        Target(
            "wallet-heaviest",
            f"wallet page, heaviest wallet ({subjects.heaviest_swaps:,} swaps)",
            reverse("wallet", args=[heaviest.address]),
            "session",
            "page",
            html_check(heaviest.address, f'data-swap-id="{newest_swap_id(wallet=heaviest)}"'),
        ),
        Target(
            "token",
            f"token page, most traded ({subjects.token_swaps:,} swaps)",
            reverse("token", args=[token.mint]),
            "session",
            "page",
            html_check(token.mint, f'data-swap-id="{newest_swap_id(token=token)}"'),
        ),
    ]
    notes = []
    chart = chart_data_path(heaviest.address)
    if chart is None:
        notes.append(
            "wallet chart data: not measured, the app has no such endpoint (the series is inlined in the page)"
        )
    else:
        name, path = chart
        targets.append(
            Target(
                "wallet-chart-heaviest",
                f"wallet chart data, heaviest wallet ({name})",
                path,
                "session",
                "chart",
                json_check(chart_rows),
            )
        )
    return targets, notes


# --- the server, the client and the load ------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    session_cookie: str
    api_token: str


def log_in() -> Credentials:
    """A normal user's session (stored in the bench database) and DRF token."""
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    client = Client()
    client.force_login(user)
    token, _ = ApiToken.objects.get_or_create(user=user)
    return Credentials(client.cookies[settings.SESSION_COOKIE_NAME].value, token.key)


def headers_for(target: Target, credentials: Credentials) -> dict[str, str]:
    if target.auth == "session":
        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={credentials.session_cookie}"}
    if target.auth == "token":
        return {"Authorization": f"Token {credentials.api_token}", "Accept": "application/json"}
    return {}


def daphne_env(debug: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="bench.api_settings",  # the app's settings, API throttle out of the load's reach
        DEBUG="true" if debug else "false",
        # Sessions made here are checked there: the same SECRET_KEY. Plain http on 127.0.0.1.
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
    )
    env.setdefault("DATABASE_POOL_SIZE", "10")  # as the Procfile runs the web process
    return env


def check_targets(server: LiveServer, targets: list[Target], credentials: Credentials) -> dict[str, str]:
    """GET each URL a few times (this also warms it up); returns key → why it cannot be measured."""
    problems = {}
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as client:
        for target in targets:
            for _ in range(3):
                response = client.get(target.path, headers=headers_for(target, credentials))
                if response.status_code != 200:
                    where = f" to {response.headers['location']}" if response.is_redirect else ""
                    problems[target.key] = f"answered {response.status_code}{where}"
                    break
                problem = target.check(response)
                if problem:
                    problems[target.key] = problem
                    break
                target.size = len(response.content)
    return problems


def postgres_backends() -> list[psutil.Process]:
    """The PostgreSQL server processes serving the bench database, when they run on this machine."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {BENCH_DATABASE} " in f"{title} ":
            found.append(process)
    return found


def cpu_of(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


@dataclass
class Run:
    """One URL loaded once. Latencies in ms; CPU in seconds over the whole run."""

    key: str
    round: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    not_200: int
    first_not_200: int
    socket_errors: int
    timeouts: int
    daphne_cpu_s: float
    postgres_cpu_s: float | None
    load_average: float
    received_mb: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def valid(self) -> bool:
        return self.requests > 0 and self.not_200 == 0 and self.socket_errors == 0 and self.timeouts == 0

    @property
    def daphne_ms_per_request(self) -> float:
        return self.daphne_cpu_s / self.requests * 1000 if self.requests else math.nan

    @property
    def postgres_ms_per_request(self) -> float | None:
        if self.postgres_cpu_s is None or not self.requests:
            return None
        return self.postgres_cpu_s / self.requests * 1000

    def problem(self) -> str:
        parts = []
        if self.not_200:
            parts.append(f"{self.not_200:,} answers not 200 (first: {self.first_not_200})")
        if self.socket_errors:
            parts.append(f"{self.socket_errors:,} socket errors")
        if self.timeouts:
            parts.append(f"{self.timeouts:,} timeouts")
        if not self.requests:
            parts.append("no request completed")
        return "; ".join(parts)


def load(
    server: LiveServer,
    daphne: psutil.Process,
    target: Target,
    credentials: Credentials,
    config: LoadConfig,
    round_: int,
) -> Run:
    """`wrk` on one URL for `config.seconds`, with the CPU Daphne and PostgreSQL spent meanwhile."""
    command = ["wrk", "-t1", f"-c{config.connections}", f"-d{config.seconds}s", "--timeout", "30s"]
    command += ["-s", config.script]
    for name, value in headers_for(target, credentials).items():
        command += ["-H", f"{name}: {value}"]
    command.append(server.url + target.path)
    backends = postgres_backends()
    load_average = os.getloadavg()[0]
    daphne_before, postgres_before = daphne.cpu_times(), cpu_of(backends)
    finished = subprocess.run(command, capture_output=True, text=True, timeout=config.seconds + 120)
    daphne_after = daphne.cpu_times()
    postgres_after = cpu_of(postgres_backends())
    drain(server, daphne)
    line = next((line for line in finished.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if finished.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip() or finished.stdout.strip()}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    postgres_cpu = (
        sum(seconds - postgres_before.get(pid, 0.0) for pid, seconds in postgres_after.items())
        if postgres_after
        else None
    )
    return Run(
        key=target.key,
        round=round_,
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        not_200=int(figures["not_200"]),
        first_not_200=int(figures["first_not_200"]),
        socket_errors=int(figures["connect_errors"] + figures["read_errors"] + figures["write_errors"]),
        timeouts=int(figures["timeouts"]),
        daphne_cpu_s=(daphne_after.user + daphne_after.system) - (daphne_before.user + daphne_before.system),
        postgres_cpu_s=postgres_cpu,
        load_average=load_average,
        received_mb=figures["bytes"] / pnl.MB,
    )


def drain(server: LiveServer, daphne: psutil.Process, timeout_s: float = 120) -> None:
    """Wait until Daphne has finished the requests wrk left in flight when it stopped: Django's views
    run one at a time in one thread, so a slow page's leftovers (up to one per connection) would
    otherwise run into the next URL's time and CPU."""
    deadline = time.monotonic() + timeout_s
    httpx.get(f"{server.url}/healthz", timeout=timeout_s)  # served after whatever is queued before it
    while time.monotonic() < deadline:
        before = daphne.cpu_times()
        time.sleep(0.2)
        after = daphne.cpu_times()
        if (after.user + after.system) - (before.user + before.system) < 0.02:
            return


@dataclass(frozen=True)
class LoadConfig:
    seconds: int
    rounds: int
    connections: int
    script: str  # path of the Lua script


# --- the report -------------------------------------------------------------------------------------


@dataclass
class Ratios:
    """A URL's figures over the rounds, against /healthz of the same round."""

    target: Target
    runs: list[Run] = field(default_factory=list)
    throughput: list[float] = field(default_factory=list)  # req/s ÷ /healthz req/s
    p95: list[float] = field(default_factory=list)  # p95 ÷ /healthz p95

    @property
    def invalid(self) -> str:
        return "; ".join(f"round {run.round}: {run.problem()}" for run in self.runs if not run.valid)

    def met(self) -> bool | None:
        """Whether the medians of the ratios over the rounds meet the target; None when there is no target."""
        if self.target.goal is None or not self.throughput:
            return None
        least, most = self.target.goal
        return statistics.median(self.throughput) >= least and statistics.median(self.p95) <= most


def spread(values: list[float], digits: int = 2, suffix: str = "") -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    if f"{low:.{digits}f}" == f"{high:.{digits}f}":
        return f"{low:.{digits}f}{suffix}"
    return f"{low:.{digits}f}–{high:.{digits}f}{suffix}"


def ratios_by_target(targets: list[Target], runs: list[Run]) -> dict[str, Ratios]:
    baseline = {run.round: run for run in runs if run.key == "healthz"}
    found = {target.key: Ratios(target) for target in targets}
    for run in runs:
        entry = found[run.key]
        entry.runs.append(run)
        base = baseline.get(run.round)
        if base is not None and base.valid and run.valid and base.per_second and base.p95_ms:
            entry.throughput.append(run.per_second / base.per_second)
            entry.p95.append(run.p95_ms / base.p95_ms)
    return found


def heaviest_against_median(found: dict[str, Ratios]) -> dict[str, list[float]] | None:
    """Per round: the heaviest wallet page's p95 and CPU per request over the median's, and the median's
    throughput over the heaviest's (each ≤ HEAVIEST_WITHIN to meet the target)."""
    median, heaviest = found.get("wallet-median"), found.get("wallet-heaviest")
    if median is None or heaviest is None:
        return None
    pairs = [
        (m, h)
        for m in median.runs
        for h in heaviest.runs
        if m.round == h.round and m.valid and h.valid and h.per_second and m.p95_ms
    ]
    return {
        "p95": [h.p95_ms / m.p95_ms for m, h in pairs],
        "throughput": [m.per_second / h.per_second for m, h in pairs],
        "cpu": [h.daphne_ms_per_request / m.daphne_ms_per_request for m, h in pairs],
    }


def goal_text(target: Target) -> str:
    if target.goal is None:
        return "(baseline)" if target.kind == "baseline" else "(no target)"
    least, most = target.goal
    return f"≥ {least:g}, p95 ≤ {most:g}×"


def summary_rows(found: dict[str, Ratios]) -> list[list[str]]:
    rows = []
    for entry in found.values():
        runs = [run for run in entry.runs if run.valid]
        target = entry.target
        if entry.invalid or not runs:
            rows.append([target.label, "not valid", "", "", "", "", "", size_text(target.size), goal_text(target)])
            continue
        met = entry.met()
        postgres = [run.postgres_ms_per_request for run in runs if run.postgres_ms_per_request is not None]
        rows.append(
            [
                target.label,
                f"{statistics.median(run.per_second for run in runs):,.0f}",
                "1" if target.kind == "baseline" else spread(entry.throughput),
                f"{statistics.median(run.p95_ms for run in runs):,.1f}",
                "1" if target.kind == "baseline" else spread(entry.p95, 1, "×"),
                spread([run.daphne_ms_per_request for run in runs], 1),
                spread(postgres, 1) if postgres else "?",
                size_text(target.size),
                goal_text(target) + ("" if met is None else ("  met" if met else "  NOT met")),
            ]
        )
    return rows


SUMMARY_HEADER = [
    "URL",
    "req/s",
    "throughput ÷ /healthz",
    "p95 ms",
    "p95 ÷ /healthz p95",
    "Daphne CPU ms/req",
    "PostgreSQL CPU ms/req",
    "body",
    "target (median ratios)",
]


def size_text(size: int) -> str:
    return f"{size:,} B" if size < 1024 else f"{size / 1024:,.0f} KB"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """A Markdown table, columns padded so that it reads in a terminal too."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in rows:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |")


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def wrk_version() -> str:
    finished = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (finished.stdout or finished.stderr).split("Copyright")[0].strip()


def machine_line() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "?",
    )
    memory_gb = psutil.virtual_memory().total / 1024**3
    return f"{os.cpu_count()} CPUs ({cpu}), {memory_gb:.0f} GB RAM, {platform.platform()}"


def load_averages() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def print_header(
    report: DatabaseReport, subjects: Subjects, server: LiveServer, load_config: LoadConfig, debug: bool
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('shared_buffers')")
        pg_version, shared_buffers = cursor.fetchone()
    print()
    print(f"AURA API and pages benchmark · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine   {machine_line()}")
    print(
        f"python    {platform.python_version()}, Django {django.get_version()},"
        f" DRF {version_of('djangorestframework')}, daphne {version_of('daphne')}, psycopg {version_of('psycopg')};"
        f" {wrk_version()}"
    )
    where = connection.settings_dict["HOST"] or "local socket"
    print(f"postgres  {pg_version} at {where} (shared_buffers {shared_buffers}), database {BENCH_DATABASE}")
    built = "reused" if report.reused else "built"
    steps = ", ".join(
        f"{name} {seconds:.1f} s"
        for name, seconds in (
            ("migrate", report.migrate_s),
            ("generate + load swaps", report.load_s),
            ("top up wallets", report.top_up_s),
            ("price history", report.prices_s),
            ("book (recompute_all)", report.book_s),
            ("VACUUM ANALYZE + CHECKPOINT", report.analyze_s),
        )
        if seconds is not None
    )
    print(f"database  {built} in {report.total_s:.1f} s ({steps}); booked {report.booked_at}")
    print(
        f"          {report.swaps:,} swaps of {report.trading_wallets:,} wallets, {report.wallets:,} tracked wallets,"
        f" {report.tokens:,} tokens, {report.realizations:,} realizations, {report.price_points:,} price points;"
        f" {report.database_mb:,.0f} MB"
    )
    print(
        f"subjects  median wallet {subjects.median_wallet.address} ({subjects.median_swaps:,} swaps), heaviest"
        f" {subjects.heaviest_wallet.address} ({subjects.heaviest_swaps:,}), token {subjects.token.symbol}"
        f" {subjects.token.mint} ({subjects.token_swaps:,} swaps); {subjects.active_wallets:,} on the leaderboard"
    )
    print(
        f"daphne    one process at {server.url}, DEBUG={'true' if debug else 'false'},"
        f" DATABASE_POOL_SIZE={daphne_env(debug)['DATABASE_POOL_SIZE']}, API throttle raised (bench/api_settings.py)"
    )
    print(
        f"load      wrk, 1 thread, {load_config.connections} connections, {load_config.seconds} s per URL,"
        f" {load_config.rounds} interleaved rounds"
    )
    print(f"machine   load average {load_averages()} before the rounds (1, 5, 15 min); 2 cores shared with other work")
    print()


def print_run(target: Target, run: Run) -> None:
    postgres = run.postgres_ms_per_request
    text = (
        f"  {target.label:46} {run.per_second:8,.1f} req/s  p50 {run.p50_ms:7.1f}  p95 {run.p95_ms:7.1f}"
        f"  max {run.max_ms:7.1f} ms  Daphne {run.daphne_ms_per_request:6.1f} ms/req"
        f"  PG {'?' if postgres is None else f'{postgres:5.1f}'} ms/req  load {run.load_average:.2f}"
    )
    if not run.valid:
        text += f"  NOT VALID: {run.problem()}"
    print(text, flush=True)


def write_results(payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"api-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


# --- main -------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--swaps", type=int, default=1_000_000, help="swaps in the database")
    parser.add_argument("--wallets", type=int, default=1_000, help="wallets that trade (as in bench/pnl.py)")
    parser.add_argument("--leaderboard-wallets", type=int, default=10_000, help="tracked wallets in all")
    parser.add_argument("--seed", type=int, default=1, help="of the generated market and swaps")
    parser.add_argument("--seconds", type=int, default=10, help="load per URL per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over every URL")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--only", default="", help="measure only the URLs whose name contains this (and /healthz)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database for the next run")
    parser.add_argument("--rebuild", action="store_true", help="build the database even if a kept one fits")
    parser.add_argument("--rebook", action="store_true", help="book a reused database again")
    parser.add_argument("--debug", action="store_true", help="Daphne with DEBUG on (off: as production)")
    args = parser.parse_args(argv)
    if min(args.swaps, args.wallets, args.seconds, args.rounds, args.connections) < 1:
        parser.error("sizes, seconds, rounds and connections must be positive")
    if args.leaderboard_wallets < args.wallets:
        parser.error("--leaderboard-wallets counts every tracked wallet: at least --wallets")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    if shutil.which("wrk") is None:
        parser.error("wrk is missing: apt-get install wrk (Debian package), or `make bench-api`, which installs it")
    end = int(time.time()) // pnl.HOUR * pnl.HOUR
    config = pnl.Config(args.swaps, args.wallets, args.leaderboard_wallets, args.seed, end, repeat=1)

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    server: LiveServer | None = None
    script = tempfile.NamedTemporaryFile("w", prefix="aura-bench-api-", suffix=".lua", delete=False)
    script.write(WRK_SCRIPT)
    script.close()
    log_path = Path(tempfile.mkstemp(prefix="aura-bench-api-daphne-", suffix=".log")[1])
    failed = True
    try:
        report = prepare_database(config, args.rebuild, args.rebook)
        subjects = Subjects.find()
        targets, notes = targets_for(subjects)
        if args.only:
            targets = [t for t in targets if t.key == "healthz" or args.only in t.key or args.only in t.label]
        credentials = log_in()
        connections.close_all()
        server = LiveServer(daphne_env(args.debug), log_path=log_path).start()
        assert server.process is not None
        daphne = psutil.Process(server.process.pid)
        load_config = LoadConfig(args.seconds, args.rounds, args.connections, script.name)
        print_header(report, subjects, server, load_config, args.debug)

        problems = check_targets(server, targets, credentials)
        for key, problem in problems.items():
            label = next(t.label for t in targets if t.key == key)
            notes.append(f"{label}: not measured, {problem}")
        if "healthz" in problems:
            raise SystemExit(f"/healthz {problems['healthz']}: no baseline, nothing to compare")
        measured = [t for t in targets if t.key not in problems]
        print("Every URL answered 200 with its content: " + ", ".join(f"{t.key} {size_text(t.size)}" for t in measured))
        for note in notes:
            print(f"  note: {note}")
        print()
        connections.close_all()  # this process's own connection would count among the backends

        runs: list[Run] = []
        for round_ in range(1, args.rounds + 1):
            print(f"Round {round_} of {args.rounds} (load average {load_averages()})", flush=True)
            for target in measured:
                run = load(server, daphne, target, credentials, load_config, round_)
                runs.append(run)
                print_run(target, run)
            print()

        found = ratios_by_target(measured, runs)
        print(
            f"Summary: ratios to /healthz of the same round, min–max over the rounds ({args.rounds});"
            " req/s and p95 ms: medians over the rounds; a target is met when the medians of its ratios meet it"
        )
        print()
        print_table(SUMMARY_HEADER, summary_rows(found))
        for entry in found.values():
            if entry.invalid:
                notes.append(f"{entry.target.label}: not valid, {entry.invalid}")
        heavy = heaviest_against_median(found)
        if heavy is not None and heavy["p95"]:
            met = all(statistics.median(heavy[key]) <= HEAVIEST_WITHIN for key in ("p95", "throughput"))
            print()
            print(
                f"Heaviest wallet's page ({subjects.heaviest_swaps:,} swaps) against the median wallet's"
                f" ({subjects.median_swaps:,}), same round: p95 {spread(heavy['p95'], 2, '×')},"
                f" Daphne CPU per request {spread(heavy['cpu'], 2, '×')}, throughput"
                f" {spread(heavy['throughput'], 2, '×')} lower; target within {HEAVIEST_WITHIN:g}× (p95 and"
                f" throughput, medians over the rounds) → {'met' if met else 'NOT met'}"
            )
        for note in notes:
            print(f"note: {note}")
        print(f"\nmachine   load average {load_averages()} after the rounds (1, 5, 15 min)")
        path = write_results(
            {
                "started": started_at,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine_line(),
                "load_average_after": os.getloadavg(),
                "arguments": vars(args),
                "database": asdict(report),
                "subjects": {
                    "median_wallet": [subjects.median_wallet.address, subjects.median_swaps],
                    "heaviest_wallet": [subjects.heaviest_wallet.address, subjects.heaviest_swaps],
                    "token": [subjects.token.mint, subjects.token_swaps],
                },
                "urls": [
                    {
                        "key": t.key,
                        "label": t.label,
                        "path": t.path,
                        "body_bytes": t.size,
                        "target": t.goal,
                        "throughput_ratios": found[t.key].throughput,
                        "p95_ratios": found[t.key].p95,
                        "met": found[t.key].met(),
                        "not_valid": found[t.key].invalid,
                    }
                    for t in measured
                ],
                "heaviest_against_median": heavy,
                "runs": [asdict(run) | {"per_second": run.per_second} for run in runs],
                "notes": notes,
            }
        )
        print(f"figures   {path.relative_to(REPO_DIR)}")
        failed = False
    finally:
        if server is not None:
            server.stop()
        Path(script.name).unlink(missing_ok=True)
        if failed and log_path.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            if tail:
                print(f"\nDaphne's log ({log_path}), last lines:\n" + "\n".join(tail), file=sys.stderr)
        else:
            log_path.unlink(missing_ok=True)
        if args.keep:
            print(f"kept database {BENCH_DATABASE} ({os.environ['DATABASE_URL']}): the next run reuses it")
        else:
            database.drop_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
