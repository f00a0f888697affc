"""P&L speed benchmark: prints figures for the issue's targets; asserts nothing, passes or fails nothing.

Run it with the embedded PostgreSQL and Redis (what `make test` uses):

    .venv/bin/python -m aura.embedded run -- .venv/bin/python bench/pnl.py

or against a PostgreSQL server of your own (only the server is used; see "database" below):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aura REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/pnl.py

Flags (defaults are the issue's sizes): --swaps 1000000 --wallets 1000 --leaderboard-wallets 10000
--seed 1 --repeat 200 --skip-db (pure engine only, no database at all) --keep (keep the database).

What it measures:

1. Full recompute of `--swaps` swaps over `--wallets` wallets (target: under 20 s on the machine it runs on).
   a. Pure engine (`whales.books.pnl`, no database): seeded, realistic swaps are generated (several tokens
      per wallet, buys, partial and full sells, some oversells, a few token transfers in and out,
      prices as random walks, amounts and prices rounded exactly as `whales.ingestion.ingest` stores them,
      times over 30 days) and turned into `pnl.Trade`s by `trades.swap_trade` and
      `trades.transfer_trade`, as the app makes them; generation is timed on its own. Then each
      wallet's trades are sorted with `trades.replay_order` and replayed with `pnl.replay`. Figures:
      generation time, sort and replay time, swaps/s, max RSS (getrusage) and the tracemalloc peak of
      a second, traced replay.
   b. From the database, the app's own code: the same swaps (and transfers) are loaded as real
      `whales_swap` (and `whales_tokentransfer`) rows with COPY, in block-time order as ingestion
      would write them. A fresh process then runs `recompute.recompute_all()` over every wallet, as
      `manage.py recompute_pnl` does (batches of wallets, each one transaction: swaps streamed through
      a server-side cursor, replayed per (wallet, token), rows written with COPY, `refresh_stats`).
      Figures: its read / replay / write / stats split, total, swaps/s, max RSS, CPU of this process
      and of its PostgreSQL backend; and the stored totals against the pure engine's.
   c. `ledger.recompute_position` (the per-pair path ingest uses) on a sample of pairs, extrapolated,
      and whether it leaves those pairs' rows exactly as `recompute_all` wrote them.
2. Leaderboard at `--leaderboard-wallets` wallets (target: under 50 ms): wallets and WalletStats rows
   for all four windows are created with COPY (spread-out figures, some tags and labels, NULL win
   rates where nothing closed), ANALYZEd, then the queries the dashboard runs
   (`LeaderboardQuery.from_request(...).stats()` through the page's RowsByIdPaginator of 50: count + one page with the
   wallet joined) are timed, p50/p95/max, for the default sort, win rate, a tag, a search and page
   100; then the whole page and its htmx fragment through Django's test Client (logged in).
   EXPLAIN ANALYZE of the default queries is printed once.

The database: the developer's database is never touched. A database named `aura_bench` is dropped
and created on the server DATABASE_URL points to (the embedded one when it is unset), migrated, used,
and dropped at the end unless --keep is given; a run refuses to start while `aura_bench` has open
connections (another run's). Each stage that reports memory runs in a fresh process, so its max RSS
is its own. DEBUG defaults to true (no SECRET_KEY needed), but everything is timed with DEBUG off,
as production serves. Other work on the machine skews every figure: the load average and the CPU
times are printed beside the wall times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
# AURA_BENCH_DATABASE names another one, so that two runs (two checkouts) need not share it.
BENCH_DATABASE = os.environ.get("AURA_BENCH_DATABASE", "aura_bench")


# Django is set up on import, pointed at the benchmark database, so that the stages run in fresh
# processes (multiprocessing "spawn" re-imports this file) see the same settings.
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
from bench import database  # noqa: E402

SOURCE_DATABASE_URL = database.use_bench_database(BENCH_DATABASE)

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from bench.pnl_build import load_swaps  # noqa: E402
from bench.pnl_leaderboard import measure_leaderboard  # noqa: E402
from bench.pnl_market import HOUR, Config  # noqa: E402
from bench.pnl_measuring import as_served, in_fresh_process  # noqa: E402
from bench.pnl_recompute import measure_app_path, measure_pure_engine, measure_recompute_all  # noqa: E402
from bench.pnl_report import (  # noqa: E402
    print_app_path,
    print_database_recompute,
    print_header,
    print_leaderboard,
    print_pure_engine,
    print_summary,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--swaps", type=int, default=1_000_000)
    parser.add_argument("--wallets", type=int, default=1_000)
    parser.add_argument("--leaderboard-wallets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=200, help="timed repetitions of each leaderboard query")
    parser.add_argument("--skip-db", action="store_true", help="only the pure engine; no database is created")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database at the end")
    args = parser.parse_args(argv)
    if args.swaps < 1 or args.wallets < 1 or args.leaderboard_wallets < 1 or args.repeat < 1:
        parser.error("sizes must be positive")
    end = int(time.time()) // HOUR * HOUR
    config = Config(args.swaps, args.wallets, args.leaderboard_wallets, args.seed, end, args.repeat)

    migrate_s = None if args.skip_db else database.create_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE)
    print_header(config, migrate_s)
    pure = in_fresh_process(measure_pure_engine, config)
    print_pure_engine(pure)
    if args.skip_db:
        print_summary(pure, None, None, None, config)
        return 0
    recompute = app_path = board = None
    try:
        print("1b. Full recompute from the database: recompute.recompute_all()", flush=True)
        load = as_served(load_swaps, config)
        connections.close_all()
        recompute = in_fresh_process(measure_recompute_all, config)
        print_database_recompute(load, recompute, pure)
        app_path = as_served(measure_app_path, config)
        print_app_path(app_path, config.swaps)
        board = as_served(measure_leaderboard, config)
        print_leaderboard(board)
        print_summary(pure, recompute, app_path, board, config)
    finally:
        if args.keep:
            print(f"\nkept database {BENCH_DATABASE} ({os.environ['DATABASE_URL']}); the next run drops it")
        else:
            database.drop_bench_database(SOURCE_DATABASE_URL, BENCH_DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
