"""Booking throughput of one worker process: swaps/s through `book_trades`, as ratios asserting nothing.

Run it on bench/api's (or bench/pnl's) kept database, after a run with --keep:

    .venv/bin/python -m aura.embedded run -- .venv/bin/python bench/booking.py [--deliveries 400]

Each delivery is one new swap of a trading wallet (USDC-quoted, so valued at once), stored by
`ingest(book=False)` as the webhook stores it (untimed), then booked by `whales.books.booking.book_trades`
as the worker's task does (timed): the position's FIFO book, the wallet's four windows of figures,
the pushes. The swaps are round trips in a token new to the wallet, one second apart after
everything in the database, so each books incrementally (no replay). Two ways deliveries come:
one at a time (each stored and booked before the next: the latency of one booking), and a backlog
(all stored before the first task runs, as when deliveries come faster than one worker books them
one by one: a task books every live trade waiting, the later tasks find theirs done). Each with no
page listening (the pushes render nothing), then with every wallet's page and every leaderboard
listening (the wallet's stats and positions fragments and its four leaderboard rows rendered and
sent; the listener notes, which expire within a minute without a socket's heartbeat, written again
right before each of those passes and renewed during it, untimed, as a heartbeat would). Printed:
swaps/s, ms per delivery, the share of `add_booked` (the windows' figures) and of
`whales.live.push_wallet_figures`, and how many pages had a listener note at the start and at the end
of the pass. Everything it adds is deleted at the end and the wallets' figures refreshed, so the
database is left as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from django.db.models import Count  # noqa: E402
from django.test import override_settings  # noqa: E402

from aura import listeners, realtime  # noqa: E402
from bench import pnl  # noqa: E402  (on import: Django set up on the bench database)
from tests.builders import address, usdc_swap  # noqa: E402
from whales.books import booking  # noqa: E402
from whales.books.stats import refresh_stats  # noqa: E402
from whales.ingestion.ingest import ingest  # noqa: E402
from whales.models import ArrivedVia, Position, RawTransaction, Swap, Token, TrackedWallet, Window  # noqa: E402


class Timer:
    """Wall time spent inside a function, summed (the function replaced by a timing wrapper)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name, self.seconds = owner, name, 0.0
        self.original: Callable = getattr(owner, name)

    def __enter__(self) -> Timer:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        setattr(self.owner, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.owner, self.name, self.original)


def trading_wallets(count: int) -> list[TrackedWallet]:
    """The `count` wallets with the most swaps, spread: every n-th of those that trade."""
    ids = list(
        Swap.objects.values("wallet_id").annotate(n=Count("id")).order_by("-n").values_list("wallet_id", flat=True)
    )
    step = max(1, len(ids) // count)
    return list(TrackedWallet.objects.filter(id__in=ids[::step][:count]))


def deliveries(wallets: list[TrackedWallet], count: int, start: int, tag: str) -> list[dict]:
    """`count` one-swap transactions: per wallet a buy then sells of a token new to it, a second apart."""
    txs = []
    for n in range(count):
        wallet = wallets[n % len(wallets)]
        round_ = n // len(wallets)
        mint = address(f"bench booking {tag} {wallet.address}")
        side = "buy" if round_ % 4 == 0 else "sell"
        txs.append(usdc_swap(wallet.address, mint, side, "100" if side == "buy" else "25", "10", start + n))
    return txs


# Listener notes are renewed this often during a pass (untimed), as a real socket's heartbeat does.
RENEW_NOTES_EVERY = 10.0


def run_pass(txs: list[dict], backlog: bool, keep_listening: Callable[[], None] | None = None) -> dict[str, float]:
    """Book the deliveries as the worker's tasks do, in order, timing only the booking. With `backlog`
    every delivery is stored before the first task runs (deliveries came faster than they were booked:
    a task books every live trade waiting); without, each is stored and booked before the next arrives.
    `keep_listening`, when given, renews the pages' listener notes before the pass and between deliveries."""
    stored = [ingest([tx], ArrivedVia.WEBHOOK, book=False) for tx in txs] if backlog else []
    wall = cpu = 0.0
    renewed = float("-inf")
    with Timer(booking, "add_booked") as stats, Timer(booking, "push_wallet_figures") as pushes:
        for n, tx in enumerate(txs):
            if keep_listening and time.monotonic() - renewed > RENEW_NOTES_EVERY:
                keep_listening()
                renewed = time.monotonic()
            result = stored[n] if backlog else ingest([tx], ArrivedVia.WEBHOOK, book=False)
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            result.book()
            wall, cpu = wall + time.perf_counter() - wall_start, cpu + time.process_time() - cpu_start
        booked = Swap.objects.filter(signature__in=[tx["signature"] for tx in txs], in_books=True).count()
    return {
        "swaps": booked,
        "seconds": wall,
        "cpu": cpu,
        "swaps_per_s": booked / wall,
        "ms_each": 1000 * wall / booked,
        "stats_share": stats.seconds / wall,
        "push_share": pushes.seconds / wall,
    }


def page_groups(wallets: list[TrackedWallet]) -> list[str]:
    """Every wallet's page and every leaderboard."""
    return [realtime.wallet_group(w.address) for w in wallets] + [
        realtime.leaderboard_group(window) for window in Window.values
    ]


def listen_everywhere(wallets: list[TrackedWallet]) -> None:
    """Note every page as listening. A note lives `listeners.note_lifetime()` (under a minute) without
    the heartbeat of a real socket: written again right before each pass that needs it."""
    asyncio.run(listeners.listen("bench-booking-page", page_groups(wallets)))


def listening(wallets: list[TrackedWallet]) -> str:
    """How many of the pages have a live listener note now, of how many."""
    groups = page_groups(wallets)
    return f"{len(listeners.listened(groups))}/{len(groups)}"


def clean_up(tag_mints: list[str], wallets: list[TrackedWallet]) -> None:
    tokens = Token.objects.filter(mint__in=tag_mints)
    swaps = Swap.objects.filter(token__in=tokens)
    signatures = list(swaps.values_list("signature", flat=True))
    swaps.delete()
    Position.objects.filter(token__in=tokens).delete()
    RawTransaction.objects.filter(signature__in=signatures).delete()
    tokens.delete()
    refresh_stats([w.id for w in wallets])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=400, help="one-swap deliveries per pass")
    parser.add_argument("--wallets", type=int, default=50, help="trading wallets the deliveries spread over")
    args = parser.parse_args(argv)
    if not Swap.objects.exists():
        print("no swaps: run bench/api.py --keep (or bench/pnl.py --keep) first")
        return 1
    wallets = trading_wallets(args.wallets)
    latest = int(Swap.objects.latest("block_time").block_time.timestamp())
    swaps_in_db = Swap.objects.count()
    print(
        f"database  {pnl.BENCH_DATABASE}, {swaps_in_db:,} swaps; deliveries over {len(wallets)} trading wallets;"
        f" load {os.getloadavg()}"
    )
    mints = [
        address(f"bench booking {tag} {mode} {w.address}")
        for tag in ("quiet", "watched")
        for mode in ("a backlog", "one at a time")
        for w in wallets
    ]
    results = {}
    start = latest + 10
    try:
        with override_settings(DEBUG=False):
            for backlog in (False, True):
                mode = "a backlog" if backlog else "one at a time"
                results[f"{mode}, no page listening"] = run_pass(
                    deliveries(wallets, args.deliveries, start, f"quiet {mode}"), backlog
                )
                start += 2 * args.deliveries
            for backlog in (False, True):
                mode = "a backlog" if backlog else "one at a time"
                listen_everywhere(wallets)
                before = listening(wallets)
                results[f"{mode}, every page listening"] = run_pass(
                    deliveries(wallets, args.deliveries, start, f"watched {mode}"),
                    backlog,
                    keep_listening=lambda: listen_everywhere(wallets),
                )
                results[f"{mode}, every page listening"]["listening"] = f"{before} → {listening(wallets)}"
                start += 2 * args.deliveries
    finally:
        clean_up(mints, wallets)
        asyncio.run(listeners.stop_listening("bench-booking-page", page_groups(wallets)))
    print(
        "\n| pass | swaps | swaps/s | ms per delivery | CPU s | add_booked (figures) | push_wallet_figures"
        " | pages listening (start → end) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['swaps']} | {r['swaps_per_s']:.0f} | {r['ms_each']:.1f} | {r['cpu']:.1f} |"
            f" {100 * r['stats_share']:.0f} % | {100 * r['push_share']:.0f} % | {r.get('listening', '0')} |"
        )
    print(f"\ntarget ≥ 1,000 swaps/s per worker process; load after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
