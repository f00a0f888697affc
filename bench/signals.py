"""Signal detector speed benchmark: prints figures; asserts nothing, passes or fails nothing.

It measures the pure detector (`signals.scoring.Detector`), in-process, with no database, no
Django and no network (target: ≥ 5,000 swaps/s). The second target, webhook → DOM p95 with signals
on (< 50 ms), is bench/signals_live.py: bench/live's browser measurement while the swaps make
signals (`make bench-signals` runs both).

    .venv/bin/python bench/signals.py                       # the default sizes below
    .venv/bin/python bench/signals.py --swaps 200000        # quicker

Flags: --swaps 1000000 --wallets 10000 --tokens 2000 --days 10 --seed 1 --batch 50
--rebuild-swaps 200000.

The stream (seeded): token popularity is Zipf-like (the busiest token 17 %, the top 20 54 %), wallet
activity log-normal; 30 % of the swaps come in coordinated episodes (3–6 wallets buying, or selling,
one token within a few minutes, 70 % of them buying), the rest are independent buys and sells (55 %
buys); USD amounts are log-normal (median ≈ $600, ≈ 5 % at $10,000 or more), in cents; times
spread over --days (1M swaps over 10 days ≈ 1.2 swaps/s, hot tokens see hundreds of swaps in 30
minutes). Generation is timed apart.

Stages (each on the whole stream unless said):

1. One long-lived detector fed swap by swap (`process_swap`): wall and CPU time, swaps/s, events
   per kind and action, the largest state it held (swaps in windows, active signals; sampled every
   10,000 swaps) and at the end, max RSS.
2. The same fed in batches of --batch (`process`).
3. The app's way, on the first --rebuild-swaps swaps: per batch, a new detector built from the
   context the database would return (`context_bounds`: the batch's tokens' swaps of the last 30
   minutes and their active signals) and judging the batch. Only the detector's construction and
   `process` are timed (the queries are the app's); the figure is swaps/s of the batch swaps, and
   the mean context size per batch. Its events are checked against those of one long-lived detector
   fed the same swaps.

Other work on the machine skews every figure: the load average and CPU times are printed beside the
wall times.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import random
import resource
import sys
import time
from collections import Counter, defaultdict, deque
from decimal import Decimal
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from signals.scoring import (  # noqa: E402
    BIG_TRADE,
    DEFAULT_PARAMETERS,
    Detector,
    Signal,
    SignalEvent,
    Swap,
    WalletStats,
    context_bounds,
)

TARGET_SWAPS_PER_SECOND = 5000
CENT = Decimal("0.01")


def generate(swaps: int, wallets: int, tokens: int, days: float, seed: int) -> list[Swap]:
    rng = random.Random(seed)
    token_names = [f"TOKEN{n:05d}" for n in range(tokens)]
    token_weights = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(tokens)))
    wallet_names = [f"WALLET{n:06d}" for n in range(wallets)]
    wallet_weights = list(itertools.accumulate(rng.lognormvariate(0, 1.2) for _ in range(wallets)))
    span = int(days * 86400)
    start = 1_760_000_000
    rows: list[tuple[int, str, str, str, Decimal]] = []
    while len(rows) < swaps:
        t = start + rng.randrange(span)
        if rng.random() < 0.3 / 4.5:  # an episode averages ~4.5 swaps: 30 % of all swaps
            token = rng.choices(token_names, cum_weights=token_weights)[0]
            side = "buy" if rng.random() < 0.7 else "sell"
            for wallet in rng.choices(wallet_names, cum_weights=wallet_weights, k=rng.randint(3, 6)):
                t += rng.randint(5, 240)
                rows.append((t, wallet, token, side, _usd(rng)))
        else:
            token = rng.choices(token_names, cum_weights=token_weights)[0]
            wallet = rng.choices(wallet_names, cum_weights=wallet_weights)[0]
            rows.append((t, wallet, token, "buy" if rng.random() < 0.55 else "sell", _usd(rng)))
    rows.sort(key=lambda row: row[0])
    return [Swap(index, *row) for index, row in enumerate(rows[:swaps])]


def _usd(rng: random.Random) -> Decimal:
    return Decimal(str(round(rng.lognormvariate(math.log(600), 1.7), 2))).quantize(CENT)


def wallet_stats(wallets: int, seed: int) -> dict[str, WalletStats]:
    rng = random.Random(seed + 1)
    stats = {}
    for n in range(wallets):
        cycles = int(rng.expovariate(1 / 12))
        stats[f"WALLET{n:06d}"] = WalletStats(None if cycles == 0 else Decimal(rng.randint(0, cycles)) / cycles, cycles)
    return stats


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_swap_by_swap(swaps: list[Swap], stats: dict[str, WalletStats]) -> dict:
    detector = Detector()
    counts: Counter[tuple[str, str]] = Counter()
    peak_swaps = peak_signals = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for index, swap in enumerate(swaps):
        for event in detector.process_swap(swap, stats):
            counts[(event.signal.kind, event.action)] += 1
        if index % 10_000 == 0:
            peak_swaps = max(peak_swaps, detector.held_swap_count())
            peak_signals = max(peak_signals, len(detector._clusters) + len(detector._big_trades))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall": wall,
        "cpu": cpu,
        "rate": len(swaps) / wall,
        "counts": counts,
        "peak_swaps": peak_swaps,
        "peak_signals": peak_signals,
        "end_swaps": detector.held_swap_count(),
        "end_signals": len(detector._clusters) + len(detector._big_trades),
        "end_tokens": len(detector._windows),
    }


def stage_batches(swaps: list[Swap], stats: dict[str, WalletStats], size: int) -> dict:
    detector = Detector()
    events = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(swaps), size):
        events += len(detector.process(swaps[start : start + size], stats))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "rate": len(swaps) / wall, "events": events}


def digest(event: SignalEvent) -> tuple:
    """Enough of an event to tell two runs apart without keeping every snapshot alive."""
    signal = event.signal
    return (event.action, signal.key, signal.updated_at, signal.score, tuple(signal.wallets), tuple(signal.swap_ids))


def stage_rebuilt(swaps: list[Swap], stats: dict[str, WalletStats], size: int) -> dict:
    """Per batch, what the worker does: rebuild from rows, judge the batch."""
    params = DEFAULT_PARAMETERS
    recent: dict[str, deque[Swap]] = defaultdict(deque)  # stands for the swaps table, per token
    stored: dict[tuple, Signal] = {}  # stands for the signals table
    active_by_token: dict[str, dict[tuple, Signal]] = defaultdict(dict)
    events = []
    timed = 0.0
    context_swaps = context_signals = batches = 0
    for start in range(0, len(swaps), size):
        batch = swaps[start : start + size]
        bounds = context_bounds(batch, params)
        tokens = {swap.token for swap in batch}
        context: list[Swap] = []
        active: list[Signal] = []
        for token in tokens:
            rows = recent[token]
            while rows and rows[0].t < bounds.swaps_since:
                rows.popleft()
            context.extend(rows)
            for key, signal in list(active_by_token[token].items()):
                since = bounds.big_trades_fired_since if signal.kind == BIG_TRADE else bounds.clusters_fired_since
                if signal.fired_at >= since:
                    active.append(signal)
                elif signal.fired_at < bounds.clusters_fired_since:
                    del active_by_token[token][key]
        context_swaps += len(context)
        context_signals += len(active)
        batches += 1
        began = time.perf_counter()
        detector = Detector(params, active=active, recent_swaps=context)
        batch_events = detector.process(batch, stats)
        timed += time.perf_counter() - began
        for event in batch_events:
            stored[event.signal.key] = event.signal
            active_by_token[event.signal.token][event.signal.key] = event.signal
        events += [digest(event) for event in batch_events]
        for swap in batch:
            recent[swap.token].append(swap)
    return {
        "timed": timed,
        "rate": len(swaps) / timed,
        "per_batch_ms": timed / batches * 1000,
        "context_swaps": context_swaps / batches,
        "context_signals": context_signals / batches,
        "events": events,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--swaps", type=int, default=1_000_000)
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--tokens", type=int, default=2_000)
    parser.add_argument("--days", type=float, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rebuild-swaps", type=int, default=200_000)
    args = parser.parse_args(argv)

    print(f"machine   {platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs, 1-minute load {os.getloadavg()[0]:.2f}")  # fmt: skip
    began = time.perf_counter()
    swaps = generate(args.swaps, args.wallets, args.tokens, args.days, args.seed)
    stats = wallet_stats(args.wallets, args.seed)
    print(f"generate  {len(swaps):,} swaps, {args.wallets:,} wallets, {args.tokens:,} tokens, {args.days:g} days "
          f"in {time.perf_counter() - began:.1f} s")  # fmt: skip

    one = stage_swap_by_swap(swaps, stats)
    print(f"1. swap by swap   {one['wall']:.2f} s wall, {one['cpu']:.2f} s CPU: {one['rate']:,.0f} swaps/s")
    for (kind, action), count in sorted(one["counts"].items()):
        print(f"   {kind:<20} {action:<8} {count:>9,}")
    print(f"   state: at most {one['peak_swaps']:,} swaps in windows and {one['peak_signals']:,} active signals "
          f"(sampled); at the end {one['end_swaps']:,} swaps over {one['end_tokens']:,} tokens, "
          f"{one['end_signals']:,} signals; max RSS {max_rss_mb():.0f} MB")  # fmt: skip

    two = stage_batches(swaps, stats, args.batch)
    print(f"2. batches of {args.batch:<3} {two['wall']:.2f} s wall, {two['cpu']:.2f} s CPU: {two['rate']:,.0f} swaps/s")

    head = swaps[: args.rebuild_swaps]
    three = stage_rebuilt(head, stats, args.batch)
    # the rebuilt detectors against one long-lived detector over the same swaps
    same = three["events"] == [digest(event) for event in Detector().process(head, stats)]
    print(f"3. rebuilt per batch ({len(head):,} swaps) {three['timed']:.2f} s in the detector: "
          f"{three['rate']:,.0f} swaps/s, {three['per_batch_ms']:.2f} ms a batch, context "
          f"{three['context_swaps']:.0f} swaps + {three['context_signals']:.1f} signals a batch; "
          f"events equal to one long-lived detector's: {'yes' if same else 'NO'}")  # fmt: skip

    print()
    print(f"{'figure':<44}{'value':>14}{'target':>14}")
    print(f"{'detector, swap by swap (swaps/s)':<44}{one['rate']:>14,.0f}{TARGET_SWAPS_PER_SECOND:>14,}")
    print(f"{'detector, batches of ' + str(args.batch) + ' (swaps/s)':<44}{two['rate']:>14,.0f}"
          f"{TARGET_SWAPS_PER_SECOND:>14,}")  # fmt: skip
    print(f"{'detector rebuilt per batch (swaps/s)':<44}{three['rate']:>14,.0f}{TARGET_SWAPS_PER_SECOND:>14,}")
    print(f"{'webhook → DOM p95 with signals on':<44}{'see below':>14}{'< 50 ms':>14}  (bench/signals_live.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
