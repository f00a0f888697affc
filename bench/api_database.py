"""bench/api's database: bench/pnl's, reused when a kept one fits, else built and topped up to the
leaderboard's size, given a price history, and booked; marked so the next run knows.

Imported by bench/api.py after bench/pnl.py has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Count, Max
from django.test import override_settings

from bench import database
from bench.pnl import BENCH_DATABASE, SOURCE_DATABASE_URL
from bench.pnl_build import CopyTable, create_wallets, load_swaps
from bench.pnl_market import MB, Config, Market
from bench.pnl_measuring import as_served
from whales.books import recompute
from whales.models import Position, PositionCycle, Realization, Swap, Token, TokenPrice, TrackedWallet, WalletStats

PRICE_HISTORY_TOKENS = 20
PRICE_HISTORY_DAYS = 7  # what the token page charts
PRICE_STEP_SECONDS = 60  # one stored point per token per minute, as the price poller stores them
MARKER = "bench/api booked"  # how the database comment says this script booked it


@dataclass
class DatabaseReport:
    """How the benchmark database came to be; seconds are None for steps this run did not take."""

    reused: bool
    migrate_s: float
    migrations_applied: int
    load_s: float | None = None  # generating the swaps and COPYing them (bench/pnl_build.load_swaps)
    top_up_s: float | None = None
    prices_s: float | None = None
    book_s: float | None = None  # ledger.recompute_all()
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


def built_otherwise(config: Config) -> str:
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


def prepare_database(config: Config, rebuild: bool, rebook: bool) -> DatabaseReport:
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


def build_database(config: Config) -> DatabaseReport:
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
    as_served(load_swaps, config)
    report.load_s = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        existing = TrackedWallet.objects.count()
        if existing < config.leaderboard_wallets:
            create_wallets(config, range(existing, config.leaderboard_wallets))
    report.top_up_s = time.perf_counter() - started
    return report


def book_database(report: DatabaseReport, config: Config) -> None:
    """The price history the token page charts, then every book rebuilt, then fresh planner statistics."""
    started = time.perf_counter()
    add_price_history(config)
    report.prices_s = time.perf_counter() - started
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"    recompute_all: {done:,} of {total:,} wallets, {time.perf_counter() - started:.0f} s", flush=True)

    print("database  booking every wallet: ledger.recompute_all()", flush=True)
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


def add_price_history(config: Config) -> int:
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
    market = Market.build(config.seed, config.tokens, end)
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
        return CopyTable(TokenPrice, ["token", "at", "price_usd", "source"]).write(rows())


def describe_database(report: DatabaseReport) -> None:
    report.swaps, report.trading_wallets, report.wallets = stored_sizes()
    report.tokens = Token.objects.count()
    report.realizations = Realization.objects.count()
    report.price_points = TokenPrice.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (size,) = cursor.fetchone()
    report.database_mb = size / MB
    if not WalletStats.objects.exclude(total_pnl=0).exists():
        raise SystemExit("the books are empty after booking (no wallet has any P&L): nothing real to measure")
