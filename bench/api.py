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
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

# bench/pnl.py points Django at its benchmark database and sets Django up on import: this bench
# builds (with pnl's own functions) and reuses that same database.
from bench import database, pnl  # noqa: E402

BENCH_DATABASE = pnl.BENCH_DATABASE
SOURCE_DATABASE_URL = pnl.SOURCE_DATABASE_URL

import psutil  # noqa: E402
from django.db import connections  # noqa: E402

from bench.api_database import prepare_database  # noqa: E402
from bench.api_load import WRK_SCRIPT, LoadConfig, Run, check_targets, daphne_env, load, log_in  # noqa: E402
from bench.api_report import (  # noqa: E402
    SUMMARY_HEADER,
    heaviest_against_median,
    load_averages,
    machine_line,
    print_header,
    print_run,
    print_table,
    ratios_by_target,
    size_text,
    spread,
    summary_rows,
    write_results,
)
from bench.api_targets import Subjects, targets_for  # noqa: E402
from bench.pnl_market import HOUR, Config  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402

HEAVIEST_WITHIN = 1.5  # the heaviest wallet's page against the median wallet's


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
    end = int(time.time()) // HOUR * HOUR
    config = Config(args.swaps, args.wallets, args.leaderboard_wallets, args.seed, end, repeat=1)

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
