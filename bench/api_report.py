"""bench/api's report: ratios to /healthz per round, the summary against the targets, the machine,
and the figures as JSON in bench/results/.

Imported by bench/api.py after bench/pnl.py has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
import psutil
from django.db import connection

from bench.api_database import DatabaseReport
from bench.api_load import LoadConfig, Run, daphne_env
from bench.api_targets import Subjects, Target
from bench.pnl import BENCH_DATABASE
from tests.conftest import LiveServer

REPO_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_DIR / "bench" / "results"


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
