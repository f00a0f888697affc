"""bench/pnl's recompute measurements: the pure engine (1a), `recompute.recompute_all` over the
database (1b) and the per-pair path ingest uses (1c).

Imported by bench/pnl.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import gc
import os
import random
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, models, transaction
from django.db.models import Q

from bench.pnl_market import MB, Config, SwapRow, swaps_per_wallet, wallet_trades
from bench.pnl_measuring import GcClock, LedgerTotals, current_rss_mb, max_rss_mb
from whales.books import ledger, pnl, recompute
from whales.books import trades as book_trades
from whales.models import Position, PositionCycle, Realization, Swap


@dataclass
class PureEngineResult:
    swaps: int
    trades: int  # swaps and priced transfers
    transfers: int
    generate_s: float
    sort_s: float
    replay_s: float
    gc_s: float
    cpu_s: float  # CPU time of the sort and replay: below the wall time when other work shares the machine
    load_average: float  # 1-minute load average when the sort and replay began
    rss_before_mb: float
    rss_after_generate_mb: float
    max_rss_mb: float
    tracemalloc_peak_mb: float
    totals: LedgerTotals

    @property
    def sort_and_replay_s(self) -> float:
        return self.sort_s + self.replay_s


def generate_trades(config: Config) -> tuple[list[list[pnl.Trade]], int]:
    """Every wallet's trades, keyed as the app keys them (swap id, "t" + transfer id, both increasing
    in arrival order within a wallet), and the number of transfers among them. Incoming transfers
    without a price are left out, as the app leaves them out until priced."""
    market = config.market()
    trades_by_wallet, swap_key, transfer_key = [], 0, 0
    for wallet, count in enumerate(swaps_per_wallet(config.seed, config.wallets, config.swaps)):
        trades = []
        for row in wallet_trades(market, config.seed, wallet, count):
            mint, unix = market.mints[row.token], int(row.block_time.timestamp())
            if type(row) is SwapRow:
                swap_key += 1
                trades.append(
                    book_trades.swap_trade(
                        swap_key, unix, row.side, mint, row.token_amount, row.usd_price, row.position
                    )
                )
            else:
                transfer_key += 1
                if row.direction == "out" or row.usd_price is not None:
                    trades.append(
                        book_trades.transfer_trade(transfer_key, unix, row.direction, mint, row.amount, row.usd_price)
                    )
        trades_by_wallet.append(trades)
    return trades_by_wallet, transfer_key


def replay_wallets(trades_by_wallet: list[list[pnl.Trade]]) -> tuple[float, float, LedgerTotals]:
    """Sort each wallet's trades in the app's order and replay them: (sort s, replay s, totals)."""
    sort_s = replay_s = 0.0
    totals = LedgerTotals()
    for trades in trades_by_wallet:
        started = time.perf_counter()
        ordered = sorted(trades, key=book_trades.replay_order)
        sorted_at = time.perf_counter()
        replayed = pnl.replay(ordered)
        sort_s += sorted_at - started
        replay_s += time.perf_counter() - sorted_at
        totals.add(replayed)
    return sort_s, replay_s, totals


def measure_pure_engine(config: Config) -> PureEngineResult:
    """Stage 1a, in its own process: generate, then sort and replay; then replay again traced."""
    rss_before = current_rss_mb()
    started = time.perf_counter()
    gc.disable()  # setup, not measured: spare it the full collections a growing heap of Trades causes
    trades_by_wallet, transfers = generate_trades(config)
    gc.enable()
    gc.collect()  # the Trades now sit in the oldest generation, as data loaded by a running app would
    generate_s = time.perf_counter() - started
    rss_after_generate = current_rss_mb()
    load_average = os.getloadavg()[0]
    cpu_started = time.process_time()
    with GcClock() as gc_clock:
        sort_s, replay_s, totals = replay_wallets(trades_by_wallet)
    cpu_s = time.process_time() - cpu_started
    peak_rss = max_rss_mb()
    # tracemalloc slows allocation several times over, so the timed run above is untraced and
    # this second run only measures what the replay allocates on top of the trades it is given.
    tracemalloc.start()
    replay_wallets(trades_by_wallet)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return PureEngineResult(
        swaps=config.swaps,
        trades=sum(len(trades) for trades in trades_by_wallet),
        transfers=transfers,
        generate_s=generate_s,
        sort_s=sort_s,
        replay_s=replay_s,
        gc_s=gc_clock.seconds,
        cpu_s=cpu_s,
        load_average=load_average,
        rss_before_mb=rss_before,
        rss_after_generate_mb=rss_after_generate,
        max_rss_mb=peak_rss,
        tracemalloc_peak_mb=peak / MB,
        totals=totals,
    )


@dataclass
class DatabaseRecomputeResult:
    summary: recompute.RecomputeSummary
    gc_s: float
    client_cpu_s: float  # this process
    server_cpu_s: float | None  # the PostgreSQL backend serving it, when it runs on this machine
    load_average: float
    max_rss_mb: float
    datetime_decode_us: float
    totals: LedgerTotals

    @property
    def swaps(self) -> int:
        return self.summary.swaps

    @property
    def recompute_s(self) -> float:
        """The rebuild without `refresh_stats`: what the 20 s target (and the pure engine) compare with."""
        return self.summary.seconds - self.summary.stats_seconds


def backend_cpu_seconds() -> float | None:
    """CPU seconds the server process of Django's connection has used, when the server runs here."""
    host = connection.settings_dict["HOST"]
    if not (host.startswith("/") or host in ("", "localhost", "127.0.0.1", "::1")):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def measure_recompute_all(config: Config) -> DatabaseRecomputeResult:
    """Stage 1b, in its own process: `recompute.recompute_all()` of every wallet, as `manage.py recompute_pnl`
    runs it (outside any transaction: each batch commits)."""
    load_average = os.getloadavg()[0]
    server_cpu_started, client_cpu_started = backend_cpu_seconds(), time.process_time()
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"    recompute_all: {done:,} of {total:,} wallets, {time.perf_counter() - started:.0f} s", flush=True)

    with GcClock() as gc_clock:
        summary = recompute.recompute_all(progress=progress)
    client_cpu_s = time.process_time() - client_cpu_started
    server_cpu = backend_cpu_seconds()
    return DatabaseRecomputeResult(
        summary=summary,
        gc_s=gc_clock.seconds,
        client_cpu_s=client_cpu_s,
        server_cpu_s=None if server_cpu is None or server_cpu_started is None else server_cpu - server_cpu_started,
        load_average=load_average,
        max_rss_mb=max_rss_mb(),
        datetime_decode_us=measure_block_time_decoding(),
        totals=LedgerTotals.stored(),
    )


def measure_block_time_decoding(sample: int = 100_000) -> float:
    """µs a row that reading block_time as a datetime costs over reading it as unix seconds (book_trades.UNIX_TIME)."""
    first = Swap.objects.order_by("id").values_list("id", flat=True).first() or 0
    swaps = Swap.objects.filter(id__lt=first + sample)
    seconds = {}
    with transaction.atomic():
        for name, rows in {
            "datetime": swaps.values_list("block_time"),
            "unix": swaps.annotate(unix=book_trades.UNIX_TIME).values_list("unix"),
        }.items():
            started = time.perf_counter()
            count = sum(1 for _ in rows.iterator(chunk_size=recompute.READ_CHUNK))
            seconds[name] = time.perf_counter() - started
    return (seconds["datetime"] - seconds["unix"]) / max(1, count) * 1e6


@dataclass
class AppPathResult:
    pairs: int
    swaps: int
    seconds: float
    identical: int  # pairs whose rows recompute_position left exactly as recompute_all wrote them
    differences: list[str]

    def extrapolated_s(self, swaps: int) -> float:
        return self.seconds / self.swaps * swaps if self.swaps else 0.0


def stored_columns(model: type[models.Model]) -> list[str]:
    """Every column but the id and the time of writing: what must be equal however the row was written."""
    return [item.attname for item in model._meta.concrete_fields if item.name not in ("id", "updated_at")]


def pair_rows(wallet_id: int, token_id: int) -> list[list[tuple]]:
    """A (wallet, token)'s position, cycles and realizations as plain values (`stored_columns`), sorted."""
    pair = Q(wallet_id=wallet_id, token_id=token_id)
    return [
        sorted(model.objects.filter(pair).values_list(*stored_columns(model)))
        for model in (Position, PositionCycle, Realization)
    ]


def measure_app_path(config: Config, pairs: int = 20) -> AppPathResult:
    """`ledger.recompute_position` (the per-pair path ingest uses, ORM objects) on a sample of pairs,
    and whether it leaves those pairs' rows as `recompute.recompute_all` wrote them."""
    rng = random.Random(f"{config.seed}:sample")
    everything = list(Position.objects.order_by("wallet_id", "token_id").values_list("wallet_id", "token_id"))
    sample = rng.sample(everything, min(pairs, len(everything)))
    before = {pair: pair_rows(*pair) for pair in sample}
    swaps = sum(Swap.objects.filter(wallet_id=w, token_id=t).count() for w, t in sample)
    started = time.perf_counter()
    for wallet_id, token_id in sample:
        with transaction.atomic():
            ledger.recompute_position(wallet_id, token_id)
    seconds = time.perf_counter() - started
    differences = []
    for pair, rows in before.items():
        after = pair_rows(*pair)
        for what, old, new in zip(("position", "cycles", "realizations"), rows, after, strict=True):
            if old != new:
                differences.append(f"wallet {pair[0]} token {pair[1]}: {what} differ")
    identical = len(sample) - len({d.split(":")[0] for d in differences})
    return AppPathResult(len(sample), swaps, seconds, identical, differences)
