"""bench/pnl's report: the machine, each stage's figures, and the summary against the targets.

Imported by bench/pnl.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import django
import psycopg
from django.db import connection

from bench.pnl_build import LoadResult
from bench.pnl_leaderboard import LeaderboardResult
from bench.pnl_market import Config
from bench.pnl_measuring import rate
from bench.pnl_recompute import AppPathResult, DatabaseRecomputeResult, PureEngineResult
from whales.books import recompute

RECOMPUTE_TARGET_S = 20.0
LEADERBOARD_TARGET_MS = 50.0


def print_header(config: Config, migrate_s: float | None) -> None:
    """Machine, versions and sizes; `migrate_s` is None when no database is used (--skip-db)."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "?",
    )
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    print(f"AURA P&L benchmark · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine   {os.cpu_count()} CPUs ({cpu}), {memory_gb:.0f} GB RAM, {platform.platform()}")
    print(f"python    {platform.python_version()}, Django {django.get_version()}, psycopg {psycopg.__version__}")
    if migrate_s is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('server_version'), current_setting('shared_buffers'),"
                " current_setting('work_mem'), current_setting('synchronous_commit')"
            )
            version, shared_buffers, work_mem, synchronous_commit = cursor.fetchone()
        settings_dict = connection.settings_dict
        where = settings_dict["HOST"] or "local socket"
        print(
            f"postgres  {version} at {where} (shared_buffers {shared_buffers}, work_mem {work_mem},"
            f" synchronous_commit {synchronous_commit})"
        )
        print(
            f"database  {settings_dict['NAME']}, created and migrated in {migrate_s:.1f} s"
            " (dropped at the end unless --keep)"
        )
    print(
        f"sizes     {config.swaps:,} swaps over {config.wallets:,} wallets and {config.tokens:,} tokens;"
        f" leaderboard at {config.leaderboard_wallets:,} wallets; seed {config.seed}; timed with DEBUG off"
    )
    print(f"load      1-minute load average {os.getloadavg()[0]:.2f} (other work on the machine skews every figure)")
    print()


def print_pure_engine(result: PureEngineResult) -> None:
    each_us = result.sort_and_replay_s / result.swaps * 1e6
    print("1a. Pure engine (whales.books.pnl, no database)")
    print(
        f"    generate {result.swaps:,} swaps + {result.transfers:,} transfers → {result.trades:,} Trades"
        f" {result.generate_s:.2f} s   (setup, not part of the recompute)"
    )
    print(f"    sort (ledger.replay_order)       {result.sort_s:7.2f} s")
    print(f"    replay (pnl.replay per wallet)   {result.replay_s:7.2f} s   of which cyclic GC {result.gc_s:.2f} s")
    print(
        f"    sort + replay                    {result.sort_and_replay_s:7.2f} s   "
        f"{rate(result.swaps, result.sort_and_replay_s)} swaps, {each_us:.1f} µs each;"
        f" CPU {result.cpu_s:.2f} s; load average before {result.load_average:.2f}"
    )
    print(
        f"    RSS {result.rss_before_mb:,.0f} MB before generating, {result.rss_after_generate_mb:,.0f} MB with every"
        f" Trade in memory, max {result.max_rss_mb:,.0f} MB"
    )
    print(f"    tracemalloc peak of a replay (on top of the Trades given to it): {result.tracemalloc_peak_mb:,.1f} MB")
    print(f"    → {result.totals.line()}")
    print()


def print_database_recompute(load: LoadResult, result: DatabaseRecomputeResult, pure: PureEngineResult | None) -> None:
    summary = result.summary
    print(
        f"    load (setup): {load.swaps:,} swaps and {load.transfers:,} transfers by COPY in {load.seconds:.1f} s,"
        f" VACUUM ANALYZE {load.analyze_s:.1f} s;"
        f" whales_swap {load.table_mb:,.0f} MB + indexes {load.indexes_mb:,.0f} MB"
    )
    print(
        f"    recompute.recompute_all(): {summary.wallets:,} wallets in {summary.batches} batches"
        f" (one transaction each, up to {recompute.BATCH_SWAPS:,} swaps)"
    )
    other = summary.seconds - summary.read_seconds - summary.replay_seconds - summary.write_seconds
    other -= summary.stats_seconds
    print(f"    read   {summary.read_seconds:7.2f} s   server-side cursor fetch + decode: swaps, transfers, tokens")
    print(f"    replay {summary.replay_seconds:7.2f} s   tuples → Trades, sort, pnl.replay per (wallet, token)")
    print(f"    write  {summary.write_seconds:7.2f} s   DELETE, events → rows, COPY, COMMIT")
    print(
        f"           {summary.realizations:,} realizations, {summary.cycles:,} cycles, {summary.positions:,} positions"
    )
    print(f"    stats  {summary.stats_seconds:7.2f} s   refresh_stats of each batch's wallets")
    print(f"    other  {other:7.2f} s   planning the batches, locking the wallets")
    print(
        f"    total  {summary.seconds:7.2f} s   {rate(summary.swaps, summary.seconds)} swaps;"
        f" without stats {result.recompute_s:.2f} s ({rate(summary.swaps, result.recompute_s)});"
        f" max RSS {result.max_rss_mb:,.0f} MB; cyclic GC {result.gc_s:.2f} s"
    )
    server = "?" if result.server_cpu_s is None else f"{result.server_cpu_s:.2f} s"
    print(
        f"           CPU: this process {result.client_cpu_s:.2f} s, its PostgreSQL backend {server};"
        f" load average before {result.load_average:.2f}"
    )
    if result.recompute_s < RECOMPUTE_TARGET_S:
        print(f"    → within the {RECOMPUTE_TARGET_S:.0f} s target (without stats)")
    else:
        print(f"    → NOT within the {RECOMPUTE_TARGET_S:.0f} s target. {where_the_time_goes(result)}")
    print(
        f"    reading block_time as datetimes rather than unix seconds would add"
        f" {result.datetime_decode_us:.1f} µs a swap (~{result.datetime_decode_us * result.swaps / 1e6:.1f} s here)"
    )
    print(f"    → {result.totals.line()}")
    if pure is not None:
        same = result.totals.agrees_with(pure.totals)
        print(f"    → {'same as' if same else 'DIFFERENT from'} the pure engine's totals (stored rows)")
    print()


def where_the_time_goes(result: DatabaseRecomputeResult) -> str:
    """The parts of the recompute, and the least wall time its CPU use allows on this machine."""
    summary = result.summary
    parts = {"write": summary.write_seconds, "read": summary.read_seconds, "replay": summary.replay_seconds}
    biggest = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in sorted(parts.items(), key=lambda p: -p[1]))
    text = f"By part: {biggest}."
    if result.server_cpu_s is not None:
        cores = os.cpu_count() or 1
        floor = max(result.client_cpu_s, result.server_cpu_s, (result.client_cpu_s + result.server_cpu_s) / cores)
        text += (
            f" This process used {result.client_cpu_s:.1f} s of CPU and PostgreSQL {result.server_cpu_s:.1f} s"
            f" (stats included): on {cores} cores, even with perfect overlap, at least {floor:.1f} s."
        )
    return text


def print_app_path(result: AppPathResult, swaps: int) -> None:
    print("1c. The per-pair path ingest uses: ledger.recompute_position, ORM objects")
    print(
        f"    {result.pairs} sampled pairs, {result.swaps:,} swaps: {result.seconds:.2f} s"
        f" ({rate(result.swaps, result.seconds)}); {swaps:,} swaps at that rate: ~{result.extrapolated_s(swaps):,.0f} s"
    )
    print(f"    it left the rows of {result.identical} of {result.pairs} pairs exactly as recompute_all wrote them")
    for line in result.differences[:10]:
        print(f"      {line}")
    print()


def print_leaderboard(result: LeaderboardResult) -> None:
    print(f"2. Leaderboard at {result.wallets:,} wallets (stats rows for 4 windows created in {result.setup_s:.1f} s)")
    for name, (matching, counts, pages, both) in result.scenarios.items():
        print(f"    {name:26} {matching:>6,} rows  count + page: {both.line()}")
        print(f"    {'':26} {'':>6}        count p50 {counts.p50:.2f} ms, page p50 {pages.p50:.2f} ms")
    print(f"    whole page, test Client    {result.page.line()}")
    print(f"    htmx fragment, test Client {result.fragment.line()}")
    print("    EXPLAIN ANALYZE of the default leaderboard:")
    for plan in result.explain:
        for line in plan.splitlines():
            print(f"      {line}")
    print()


def print_summary(
    pure: PureEngineResult,
    database: DatabaseRecomputeResult | None,
    app_path: AppPathResult | None,
    board: LeaderboardResult | None,
    config: Config,
) -> None:
    rows: list[tuple[str, str, str]] = [
        (
            "pure engine: sort + replay",
            f"{pure.sort_and_replay_s:.2f} s ({rate(pure.swaps, pure.sort_and_replay_s)})",
            f"< {RECOMPUTE_TARGET_S:.0f} s",
        ),
        (
            "pure engine: max RSS / tracemalloc peak",
            f"{pure.max_rss_mb:,.0f} MB / {pure.tracemalloc_peak_mb:,.1f} MB",
            "-",
        ),
    ]
    if database is not None:
        rows += [
            (
                "database: recompute_all without stats",
                f"{database.recompute_s:.2f} s ({rate(database.swaps, database.recompute_s)})",
                f"< {RECOMPUTE_TARGET_S:.0f} s",
            ),
            (
                "database: recompute_all with refresh_stats",
                f"{database.summary.seconds:.2f} s ({rate(database.swaps, database.summary.seconds)})",
                "-",
            ),
            ("database: max RSS", f"{database.max_rss_mb:,.0f} MB", "-"),
        ]
    if app_path is not None:
        rows.append(
            (
                "per-pair path (recompute_position), extrapolated",
                f"~{app_path.extrapolated_s(config.swaps):,.0f} s",
                "(comparison)",
            )
        )
    if board is not None:
        for name, (_matching, _counts, _pages, both) in board.scenarios.items():
            rows.append((f"leaderboard {name}: p95", f"{both.p95:.2f} ms", f"< {LEADERBOARD_TARGET_MS:.0f} ms"))
        for name, page in (("whole page", board.page), ("htmx fragment", board.fragment)):
            measured = "not measured" if page.error else f"{page.timings.p95:.2f} ms"
            rows.append((f"leaderboard {name} (test Client): p95", measured, "(for comparison)"))
    width = max(len(name) for name, _, _ in rows)
    sizes = f"{config.swaps:,} swaps, {config.wallets:,} wallets, {config.leaderboard_wallets:,} leaderboard wallets"
    print(f"Summary ({sizes})")
    print(f"  {'figure':{width}}  {'measured':>26}  target")
    for name, measured, target in rows:
        print(f"  {name:{width}}  {measured:>26}  {target}")
