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
   a. Pure engine (`whales.pnl`, no database): seeded, realistic swaps are generated (several tokens
      per wallet, buys, partial and full sells, some oversells, a few token transfers in and out,
      prices as random walks, amounts and prices rounded exactly as `whales.actions` stores them,
      times over 30 days) and turned into `pnl.Trade`s by `book_trades.swap_trade` and
      `book_trades.transfer_trade`, as the app makes them; generation is timed on its own. Then each
      wallet's trades are sorted with `book_trades.replay_order` and replayed with `pnl.replay`. Figures:
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
import gc
import heapq
import math
import multiprocessing
import os
import platform
import random
import resource
import sys
import time
import tracemalloc
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import psycopg

REPO_DIR = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "aura_bench"


# Django is set up on import, pointed at the benchmark database, so that the stages run in fresh
# processes (multiprocessing "spawn" re-imports this file) see the same settings.
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
from bench import database  # noqa: E402

SOURCE_DATABASE_URL = database.use_bench_database(BENCH_DATABASE)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections, models, transaction  # noqa: E402
from django.db.models import Count, Q, Sum  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from whales.books import ledger, pnl, recompute  # noqa: E402
from whales.books import trades as book_trades  # noqa: E402
from whales.models import (  # noqa: E402
    AMOUNT,
    PRICE,
    USD,
    Position,
    PositionCycle,
    Realization,
    Swap,
    Token,
    TokenTransfer,
    TrackedWallet,
    WalletStats,
    Window,
)
from whales.selectors import LEADERBOARD_PAGE_SIZE, LeaderboardQuery, RowsByIdPaginator  # noqa: E402
from whales.solana import USDC_MINT, USDT_MINT, WSOL_MINT  # noqa: E402

RECOMPUTE_TARGET_S = 20.0
LEADERBOARD_TARGET_MS = 50.0
DAYS = 30
HOUR = 3600
MB = 1024 * 1024
EXACT = Context(prec=1000)  # sums of exact figures stay exact
ZERO = Decimal(0)
ONE = Decimal(1)


# --- measuring ------------------------------------------------------------------------------------


def max_rss_mb() -> float:
    """The process's largest resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


class GcClock:
    """Wall time spent in the cyclic garbage collector while running (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _callback(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)


@dataclass
class Timings:
    """Repeated measurements of one thing, in milliseconds."""

    samples: list[float] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]

    @property
    def p50(self) -> float:
        return self.percentile(0.5)

    @property
    def p95(self) -> float:
        return self.percentile(0.95)

    @property
    def max(self) -> float:
        return max(self.samples)

    def line(self) -> str:
        return f"p50 {self.p50:7.2f} ms   p95 {self.p95:7.2f} ms   max {self.max:7.2f} ms   (n={len(self.samples)})"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "-"


# --- a synthetic market and the swaps of whales trading in it -------------------------------------

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BYTE_TO_BASE58 = bytes.maketrans(bytes(range(256)), bytes(BASE58.encode()[i % 58] for i in range(256)))
AMOUNT_PLACES = AMOUNT["decimal_places"]
PRICE_STEP = ONE.scaleb(-PRICE["decimal_places"])
USD_STEP = ONE.scaleb(-USD["decimal_places"])
PRICE_QUOTIENT = Context(prec=28)  # whales.parsing divides quote by token amount at this precision
WIDE = Context(prec=80)
SLOT_AT_START = 300_000_000
SOURCES = ["JUPITER", "RAYDIUM", "PUMP_FUN", "METEORA", "ORCA", "PHOENIX"]
TAGS = ["smart-money", "kol", "sniper", "insider", "fund", "bot", "degen", "whale", "early", "copytrade"]
TAG_WEIGHTS = [12, 8, 8, 4, 3, 6, 10, 6, 5, 4]
LABEL_ADJECTIVES = ["Quiet", "Early", "Fast", "Lucky", "Patient", "Big", "Old", "Night", "Solar", "Iron"]
LABEL_NOUNS = ["Whale", "Shark", "Fox", "Owl", "Bull", "Bear", "Hawk", "Wolf", "Crab", "Orca"]
SAME_TRANSACTION = 0.03  # a swap shares its transaction (and second) with the wallet's previous one
SELL_FROM_NOTHING = 0.01  # a sell of tokens we never saw bought (older history, or a transfer in)
TRANSFER_IN_FIRST = 0.5  # of those, the share where the tokens did come in by a TokenTransfer first
UNPRICED_TRANSFER = 0.05  # an incoming transfer still waiting for its market price (pending)
TRANSFER_OUT = 0.01  # after a buy, part of the bag moves to another wallet
OVERSELL = 0.02  # a sell larger than the holdings we know of
SELL_ALL = 0.38


def stored_amount(units: int, decimals: int) -> Decimal:
    """`units` of a mint with `decimals`, as an amount column holds it (AMOUNT_PLACES decimal places)."""
    return Decimal(units * 10 ** (AMOUNT_PLACES - decimals)).scaleb(-AMOUNT_PLACES)


def base58_address(rng: random.Random) -> str:
    """Base58 of 32 random bytes, as a Solana address is."""
    number = int.from_bytes(rng.randbytes(32), "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58[digit])
    return "".join(reversed(digits)).rjust(32, "1")


def random_signature(rng: random.Random) -> str:
    """88 base58 characters, the length of a transaction signature."""
    return rng.randbytes(88).translate(_BYTE_TO_BASE58).decode()


@dataclass(frozen=True)
class Market:
    """Tokens with an hourly USD price path each, and SOL/USD, over the DAYS days ending at `end`."""

    start: int
    end: int
    mints: list[str]
    symbols: list[str]
    decimals: list[int]
    log_prices: list[array]
    log_sol_usd: array
    popularity: list[float]  # cumulative weights, for rng.choices
    scales: list[int]  # 10 ** decimals
    sol_by_minute: dict[int, Decimal] = field(default_factory=dict)  # filled as asked for

    @classmethod
    def build(cls, seed: int, tokens: int, end: int) -> Market:
        rng = random.Random(f"{seed}:market")
        hours = DAYS * 24
        floor, ceiling = math.log(1e-9), math.log(1e3)
        log_prices = []
        for _ in range(tokens):
            level = rng.uniform(math.log(1e-7), math.log(2.0))
            volatility, drift = rng.uniform(0.01, 0.08), rng.gauss(-0.0005, 0.002)
            path = array("d", [level])
            for _ in range(hours):
                level = min(ceiling, max(floor, level + drift + rng.gauss(0, volatility)))
                path.append(level)
            log_prices.append(path)
        sol, log_sol = math.log(150.0), array("d")
        for _ in range(hours + 1):
            log_sol.append(sol)
            sol += rng.gauss(0, 0.008)
        popularity, total = [], 0.0
        for rank in range(tokens):
            total += 1 / (rank + 1) ** 0.8
            popularity.append(total)
        mints = [base58_address(rng) for _ in range(tokens)]
        symbols = ["".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=rng.randint(3, 6))) for _ in range(tokens)]
        decimals = [rng.choice((6, 6, 9, 9, 9, 8)) for _ in range(tokens)]
        return cls(
            start=end - DAYS * 86_400,
            end=end,
            mints=mints,
            symbols=symbols,
            decimals=decimals,
            log_prices=log_prices,
            log_sol_usd=log_sol,
            popularity=popularity,
            scales=[10**places for places in decimals],
        )

    def _at(self, path: array, moment: int) -> float:
        offset = (moment - self.start) / HOUR
        hour = min(int(offset), len(path) - 2)
        return math.exp(path[hour] + (path[hour + 1] - path[hour]) * (offset - hour))

    def price_usd(self, token: int, moment: int) -> float:
        return self._at(self.log_prices[token], moment)

    def sol_usd(self, moment: int) -> Decimal:
        """SOL/USD as the price history holds it: one point a minute, six decimals."""
        minute = moment // 60
        price = self.sol_by_minute.get(minute)
        if price is None:
            price = self.sol_by_minute[minute] = Decimal(f"{self._at(self.log_sol_usd, minute * 60):.6f}")
        return price

    def price_at(self, price: float) -> Decimal:
        """A USD price as the price history stores it."""
        return Decimal(f"{price:.12g}").quantize(PRICE_STEP, context=WIDE)

    def transfer(
        self,
        rng: random.Random,
        wallet: int,
        token: int,
        direction: str,
        units: int,
        usd_price: Decimal | None,
        at: int,
    ) -> TransferRow:
        """A token transfer of `units` (the token's smallest units) in its own transaction."""
        return TransferRow(
            wallet,
            token,
            random_signature(rng),
            direction,
            stored_amount(units, self.decimals[token]),
            usd_price,
            datetime.fromtimestamp(at, UTC),
            SLOT_AT_START + (at - self.start) * 5 // 2,
            "SYSTEM_PROGRAM",
            "webhook",
            datetime.fromtimestamp(at + 2, UTC),
        )

    def latest_price(self, token: int) -> Decimal:
        return self.price_at(math.exp(self.log_prices[token][-1]))


class SwapRow(NamedTuple):
    """One generated swap with every `whales_swap` column; wallet and token are indexes, not ids yet."""

    wallet: int
    token: int
    signature: str
    side: str
    token_amount: Decimal
    quote_mint: str
    quote_amount: Decimal
    price_in_quote: Decimal
    usd_price: Decimal
    usd_value: Decimal
    block_time: datetime
    slot: int
    source: str
    position: int
    arrived_via: str
    ingested_at: datetime


class TransferRow(NamedTuple):
    """One generated `whales_tokentransfer` row; wallet and token are indexes, not ids yet."""

    wallet: int
    token: int
    signature: str
    direction: str
    amount: Decimal
    usd_price: Decimal | None
    block_time: datetime
    slot: int
    source: str
    arrived_via: str
    ingested_at: datetime


def swaps_per_wallet(seed: int, wallets: int, swaps: int) -> list[int]:
    """How many swaps each wallet made: log-normal activity (a few bots, many occasional traders)."""
    rng = random.Random(f"{seed}:activity")
    weights = [rng.lognormvariate(0, 1.0) for _ in range(wallets)]
    total = sum(weights)
    counts = [int(weight / total * swaps) for weight in weights]
    for index in range(swaps - sum(counts)):
        counts[index % wallets] += 1
    return counts


def wallet_profile(seed: int, index: int) -> tuple[str, str, list[str]]:
    """Address, label (half of the wallets) and tags (a third) of the run's wallet number `index`."""
    rng = random.Random(f"{seed}:profile:{index}")
    address = base58_address(rng)
    label = f"{rng.choice(LABEL_ADJECTIVES)} {rng.choice(LABEL_NOUNS)} {index}" if rng.random() < 0.5 else ""
    tags = sorted(set(rng.choices(TAGS, weights=TAG_WEIGHTS, k=rng.randint(1, 3)))) if rng.random() < 0.35 else []
    return address, label, tags


def wallet_trades(market: Market, seed: int, wallet: int, count: int) -> Iterator[SwapRow | TransferRow]:
    """The wallet's `count` swaps, and a few token transfers, in block-time order, rounded as
    `whales.actions` stores them.

    Each wallet trades a handful of tokens (a few heavily), alternating entries, adds, partial and
    full exits; now and then it sells more than we saw it buy, receives tokens by transfer before
    selling them, or moves part of a bag out. Deterministic per (seed, wallet).
    """
    rng = random.Random(f"{seed}:wallet:{wallet}")
    draw = rng.random
    tokens_traded = min(40, len(market.mints), 2 + int(rng.lognormvariate(1.6, 0.7)))
    held: list[int] = []
    while len(held) < tokens_traded:
        token = rng.choices(range(len(market.mints)), cum_weights=market.popularity)[0]
        if token not in held:
            held.append(token)
    weights = [1 / (rank + 1) for rank in range(len(held))]
    trade_usd = rng.lognormvariate(math.log(1_500), 1.0)
    sol_share = rng.uniform(0.6, 1.0)
    usual_source = rng.choice(SOURCES)
    holdings = dict.fromkeys(held, 0)  # in the token's smallest units
    span = market.end - market.start
    times = sorted(market.start + int(draw() * span) for _ in range(count))
    chosen = rng.choices(held, weights=weights, k=count)
    signature, position, moment, in_transaction = "", 0, market.start, set()
    for index in range(count):
        token = chosen[index]
        if index and token not in in_transaction and draw() < SAME_TRANSACTION:
            position += 1  # another leg of the previous transaction: same signature, same second
        else:
            signature, position, moment, in_transaction = random_signature(rng), 0, times[index], set()
        in_transaction.add(token)
        scale = market.scales[token]
        price = market.price_usd(token, moment) * (0.995 + 0.01 * draw())
        held_units = holdings[token]
        buy = draw() >= SELL_FROM_NOTHING if held_units == 0 else draw() < 0.4
        if not buy and held_units == 0 and draw() < TRANSFER_IN_FIRST:
            held_units = max(1, int(trade_usd * rng.lognormvariate(0, 0.8) / price * scale))
            usd_price = None if draw() < UNPRICED_TRANSFER else market.price_at(price)
            yield market.transfer(rng, wallet, token, "in", held_units, usd_price, moment)
        if buy or held_units == 0:
            units = max(1, int(trade_usd * rng.lognormvariate(0, 0.8) / price * scale))
        else:
            chance = draw()
            if chance < OVERSELL:
                units = int(held_units * (1.05 + 0.55 * draw())) + 1
            elif chance < OVERSELL + SELL_ALL:
                units = held_units
            else:
                units = max(1, int(held_units * (0.1 + 0.6 * draw())))
        holdings[token] = held_units + units if buy else max(0, held_units - units)
        usd = units / scale * price
        if draw() < sol_share:
            quote_mint, usd_rate = WSOL_MINT, market.sol_usd(moment)
            quote_units, quote_scale = max(1, round(usd / float(usd_rate) * 1e9)), 9
        else:
            quote_mint = USDC_MINT if draw() < 0.85 else USDT_MINT
            quote_units, quote_scale, usd_rate = max(1, round(usd * 1e6)), 6, ONE
        token_amount = stored_amount(units, market.decimals[token])
        quote_amount = stored_amount(quote_units, quote_scale)
        price_in_quote = PRICE_QUOTIENT.divide(quote_amount, token_amount)
        chance = draw()
        if chance < 0.75:
            via, delay = "webhook", 1 + int(5 * draw())
        elif chance < 0.88:
            via, delay = "poll", 10 + int(230 * draw())
        else:
            via, delay = "backfill", 3_600 + int(3 * 86_400 * draw())
        yield SwapRow(
            wallet,
            token,
            signature,
            "buy" if buy else "sell",
            token_amount,
            quote_mint,
            quote_amount,
            price_in_quote.quantize(PRICE_STEP, context=WIDE),
            PRICE_QUOTIENT.multiply(price_in_quote, usd_rate).quantize(PRICE_STEP, context=WIDE),
            PRICE_QUOTIENT.multiply(quote_amount, usd_rate).quantize(USD_STEP, context=WIDE),
            datetime.fromtimestamp(moment, UTC),
            SLOT_AT_START + (moment - market.start) * 5 // 2,
            usual_source if draw() < 0.8 else rng.choice(SOURCES),
            position,
            via,
            datetime.fromtimestamp(moment + delay, UTC),
        )
        if buy and draw() < TRANSFER_OUT:
            moved = max(1, int(holdings[token] * (0.2 + 0.6 * draw())))
            holdings[token] -= moved
            yield market.transfer(rng, wallet, token, "out", moved, None, moment)


@dataclass
class LedgerTotals:
    """What the replays produced, summed over wallets: the pure and database runs must agree."""

    positions: int = 0
    sells: int = 0
    oversells: int = 0
    closed_cycles: int = 0
    open_cycles: int = 0
    realized_pnl: Decimal = ZERO

    @classmethod
    def stored(cls) -> LedgerTotals:
        """The same totals from the rows in the database."""
        sells = Realization.objects.aggregate(
            n=Count("id"), oversold=Count("id", filter=Q(missing_amount__gt=0)), realized=Sum("realized_pnl")
        )
        cycles = PositionCycle.objects.aggregate(
            closed=Count("id", filter=Q(closed_at__isnull=False)), open=Count("id", filter=Q(closed_at=None))
        )
        return cls(
            positions=Position.objects.count(),
            sells=sells["n"],
            oversells=sells["oversold"],
            closed_cycles=cycles["closed"],
            open_cycles=cycles["open"],
            realized_pnl=sells["realized"] or ZERO,
        )

    def agrees_with(self, other: LedgerTotals) -> bool:
        """Same counts, and realized P&L equal to within the rounding of each stored sell (18 places)."""
        counts = attrgetter("positions", "sells", "oversells", "closed_cycles", "open_cycles")
        tolerance = Decimal(max(self.sells, other.sells)) * Decimal("5E-19")
        return counts(self) == counts(other) and abs(self.realized_pnl - other.realized_pnl) <= tolerance

    def add(self, replayed: pnl.Ledger) -> None:
        self.positions += len(replayed.books)
        self.open_cycles += sum(1 for book in replayed.books.values() if book.cycle is not None)
        self.realized_pnl = EXACT.add(self.realized_pnl, replayed.realized_pnl)
        for event in replayed.events:
            kind = type(event)
            if kind is pnl.SellRealized:
                self.sells += 1
                self.oversells += event.missing_amount > 0
            elif kind is pnl.CycleClosed:
                self.closed_cycles += 1

    def line(self) -> str:
        return (
            f"{self.positions:,} positions, {self.sells:,} sells ({self.oversells:,} oversold), "
            f"{self.closed_cycles:,} closed and {self.open_cycles:,} open cycles, "
            f"realized P&L ${self.realized_pnl:,.2f}"
        )


@dataclass(frozen=True)
class Config:
    swaps: int
    wallets: int
    leaderboard_wallets: int
    seed: int
    end: int  # unix seconds: the generated history is the DAYS days before this
    repeat: int

    @property
    def tokens(self) -> int:
        return max(20, self.wallets // 2)

    def market(self) -> Market:
        return Market.build(self.seed, self.tokens, self.end)


_Result = TypeVar("_Result")
_Row = TypeVar("_Row")


def as_served(function: Callable[[Config], _Result], config: Config) -> _Result:
    """`function(config)` with DEBUG off, as production serves: no query log, no template debug."""
    with override_settings(DEBUG=False):
        return function(config)


def in_fresh_process(function: Callable[[Config], _Result], config: Config) -> _Result:
    """`as_served(function, config)` in a new interpreter, so that its max RSS is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(as_served, function, config).result()


# --- 1a. the pure engine --------------------------------------------------------------------------


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


# --- the benchmark database -----------------------------------------------------------------------


class CopyTable:
    """COPY into a model's table: the given fields per row, every other column its model default.

    Defaults are evaluated once (one `created_at` for all rows). A NOT NULL column without a
    default must be given; a column with a database default is left to the database.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        opts = model._meta
        given = [opts.get_field(name) for name in fields]
        defaults = []
        for item in opts.concrete_fields:
            if item.primary_key or item.name in fields or item.has_db_default():
                continue
            value = item.get_default()
            if value is None and not item.null:
                raise ValueError(f"{model.__name__}.{item.name} is NOT NULL without a default: give it")
            defaults.append((item, value))
        quote = connection.ops.quote_name
        columns = ", ".join(quote(item.column) for item in [*given, *(item for item, _ in defaults)])
        self.statement = f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN"
        self.constants = tuple(value for _, value in defaults)

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Write `rows` in one COPY on Django's connection; returns how many."""
        count, constants = 0, self.constants
        with connection.cursor() as cursor, cursor.copy(self.statement) as copy:
            for row in rows:
                copy.write_row((*row, *constants) if constants else row)
                count += 1
        return count


def create_wallets(config: Config, indexes: range) -> dict[int, int]:
    """TrackedWallets for the run's wallet numbers `indexes`; returns number → id."""
    profiles = {index: wallet_profile(config.seed, index) for index in indexes}
    now = datetime.fromtimestamp(config.end, UTC)
    table = CopyTable(TrackedWallet, ["address", "label", "tags", "is_active", "backfill_state", "created_at"])
    table.write(
        (address, label, tags, index % 50 != 7, "done", now) for index, (address, label, tags) in profiles.items()
    )
    ids = dict(TrackedWallet.objects.filter(address__in=[p[0] for p in profiles.values()]).values_list("address", "id"))
    return {index: ids[address] for index, (address, _, _) in profiles.items()}


def create_tokens(market: Market) -> dict[int, int]:
    """Token rows for the market's mints, with their latest price; returns token index → id."""
    now = datetime.fromtimestamp(market.end, UTC)
    table = CopyTable(Token, ["mint", "symbol", "name", "decimals", "price_usd", "price_source", "price_updated_at"])
    table.write(
        (
            mint,
            market.symbols[i],
            f"{market.symbols[i]} token",
            market.decimals[i],
            market.latest_price(i),
            "birdeye",
            now,
        )
        for i, mint in enumerate(market.mints)
    )
    ids = dict(Token.objects.filter(mint__in=market.mints).values_list("mint", "id"))
    return {i: ids[mint] for i, mint in enumerate(market.mints)}


# --- 1b. from the database ------------------------------------------------------------------------

# The generated columns, then `in_books`: trades are stored as ingestion leaves them, booked when valued.
SWAP_FIELDS = (
    "wallet token signature side token_amount quote_mint quote_amount price_in_quote usd_price usd_value "
    "block_time slot source position arrived_via ingested_at in_books"
).split()
TRANSFER_FIELDS = (
    "wallet token signature direction amount usd_price block_time slot source arrived_via ingested_at in_books".split()
)


@dataclass
class LoadResult:
    swaps: int
    transfers: int
    seconds: float
    analyze_s: float
    table_mb: float
    indexes_mb: float


def with_progress(rows: Iterable[_Row], total: int, started: float) -> Iterator[_Row]:
    """`rows`, printing how far along they are every tenth of `total`."""
    step = max(1, total // 10)
    for count, row in enumerate(rows, 1):
        yield row
        if count % step == 0:
            print(f"    loading: {count:,} of {total:,} swaps, {time.perf_counter() - started:.0f} s", flush=True)


def load_swaps(config: Config) -> LoadResult:
    """Wallets, tokens and every swap as rows, written in block-time order as ingestion would."""
    market = config.market()
    counts = swaps_per_wallet(config.seed, config.wallets, config.swaps)
    started = time.perf_counter()
    with transaction.atomic():
        wallet_ids = create_wallets(config, range(config.wallets))
        token_ids = create_tokens(market)
        every_trade = heapq.merge(
            *(wallet_trades(market, config.seed, wallet, count) for wallet, count in enumerate(counts)),
            key=attrgetter("block_time"),
        )
        transfers: list[TransferRow] = []  # a few thousand: written after the swaps, in the same order

        def swap_rows() -> Iterator[tuple]:
            for row in every_trade:
                if type(row) is SwapRow:
                    yield (wallet_ids[row.wallet], token_ids[row.token], *row[2:], row.usd_price is not None)
                else:
                    transfers.append(row)

        swaps = CopyTable(Swap, SWAP_FIELDS).write(with_progress(swap_rows(), config.swaps, started))
        CopyTable(TokenTransfer, TRANSFER_FIELDS).write(
            (
                wallet_ids[row.wallet],
                token_ids[row.token],
                *row[2:],
                row.direction == "out" or row.usd_price is not None,
            )
            for row in transfers
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TrackedWallet._meta.db_table} AS w SET last_swap_at = s.last"
                f" FROM (SELECT wallet_id, max(block_time) AS last FROM {Swap._meta.db_table} GROUP BY wallet_id) AS s"
                " WHERE s.wallet_id = w.id"
            )
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Swap._meta.db_table}")
        cursor.execute(f"ANALYZE {TrackedWallet._meta.db_table}")
        cursor.execute(f"ANALYZE {Token._meta.db_table}")
        cursor.execute(
            "SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)",
            [Swap._meta.db_table, Swap._meta.db_table],
        )
        table_bytes, index_bytes = cursor.fetchone()
    return LoadResult(swaps, len(transfers), seconds, time.perf_counter() - started, table_bytes / MB, index_bytes / MB)


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


# --- 2. the leaderboard ---------------------------------------------------------------------------

WINDOW_SHARE = {Window.DAY: 0.04, Window.WEEK: 0.25, Window.MONTH: 1.0, Window.ALL: 1.3}
STATS_FIELDS = (
    "wallet window realized_pnl unrealized_pnl total_pnl roi capital volume_usd swap_count cycles "
    "cycle_wins win_rate win_rate_low win_rate_high sells sell_wins sell_win_rate sell_win_rate_low "
    "sell_win_rate_high dead_bags adjusted_win_rate adjusted_win_rate_low adjusted_win_rate_high rankable "
    "wallet_active open_positions incomplete pending_trades last_active updated_at"
).split()


def _usd(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def wallet_stats_rows(seed: int, wallet_id: int, active: bool, end: datetime) -> Iterator[tuple]:
    """Four WalletStats rows (one per window) with a believable spread: most wallets modest, a few
    huge; win rates around a per-wallet skill; no win rate where nothing closed in the window.
    `wallet_active` copies the wallet's flag, as `stats.refresh_stats` writes it (the leaderboard's
    partial indexes hold only active wallets' rows)."""
    rng = random.Random(f"{seed}:stats:{wallet_id}")
    activity = rng.lognormvariate(math.log(120), 1.2)  # swaps in 30 days
    skill = rng.betavariate(2.2, 2.0)
    size = rng.lognormvariate(math.log(2_000), 1.1)  # USD per trade
    edge = rng.gauss(0.02, 0.25)  # P&L per USD traded
    open_positions = rng.randint(0, 12)
    incomplete = rng.random() < 0.08
    for window, share in WINDOW_SHARE.items():
        swaps = int(activity * share * rng.uniform(0.5, 1.5)) if rng.random() > 0.15 * (1 - share) else 0
        volume = swaps * size * rng.uniform(0.6, 1.4)
        realized = volume * edge * rng.uniform(0.3, 1.7) / 2
        unrealized = size * open_positions * rng.gauss(0, 0.4)
        capital = volume / 2 + size * open_positions
        cycles = swaps // 5
        cycle_wins = _binomial(rng, cycles, skill)
        sells = swaps // 2
        sell_wins = _binomial(rng, sells, min(1.0, skill + 0.1))
        dead_bags = _binomial(rng, open_positions, 0.15)
        by_cycle, by_sell = pnl.WinRate.of(cycle_wins, cycles), pnl.WinRate.of(sell_wins, sells)
        adjusted = pnl.WinRate.of(cycle_wins, cycles + dead_bags)
        total = realized + unrealized
        yield (
            wallet_id,
            window,
            _usd(realized),
            _usd(unrealized),
            _usd(total),
            Decimal(f"{total / capital:.6f}") if capital > 0 else None,
            _usd(capital),
            _usd(volume),
            swaps,
            by_cycle.n,
            by_cycle.wins,
            by_cycle.rate,
            by_cycle.low,
            by_cycle.high,
            by_sell.n,
            by_sell.wins,
            by_sell.rate,
            by_sell.low,
            by_sell.high,
            dead_bags,
            adjusted.rate,
            adjusted.low,
            adjusted.high,
            pnl.is_rankable(by_cycle),
            active,
            open_positions,
            incomplete,
            0,
            datetime.fromtimestamp(end.timestamp() - rng.uniform(0, 86_400 * 30 * share), UTC) if swaps else None,
            end,
        )


@dataclass
class LeaderboardResult:
    wallets: int
    setup_s: float
    scenarios: dict[str, tuple[int, Timings, Timings, Timings]]  # name → (matching, count, page, both)
    page: PageTiming
    fragment: PageTiming
    explain: list[str]


LEADERBOARD_SCENARIOS: dict[str, dict[str, str]] = {
    "default (total P&L desc)": {},
    "win rate desc": {"sort": "win_rate"},
    "tag smart-money": {"tag": "smart-money"},
    "search 'whale'": {"q": "whale"},
    "page 100": {"page": "100"},
}


def prepare_leaderboard(config: Config) -> float:
    """Top the wallets up to --leaderboard-wallets and give every one synthetic stats for all windows."""
    started = time.perf_counter()
    end = datetime.fromtimestamp(config.end, UTC)
    with transaction.atomic():
        existing = TrackedWallet.objects.count()
        if existing < config.leaderboard_wallets:
            create_wallets(config, range(existing, config.leaderboard_wallets))
        WalletStats.objects.all().delete()
        wallets = list(TrackedWallet.objects.order_by("id").values_list("id", "is_active"))
        CopyTable(WalletStats, STATS_FIELDS).write(
            row for wallet_id, active in wallets for row in wallet_stats_rows(config.seed, wallet_id, active, end)
        )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {WalletStats._meta.db_table}")
        cursor.execute(f"ANALYZE {TrackedWallet._meta.db_table}")
    return time.perf_counter() - started


def leaderboard_page(params: dict[str, str]) -> tuple[RowsByIdPaginator, list[WalletStats], float, float]:
    """What the dashboard does for the leaderboard: (paginator, rows, count ms, rows ms)."""
    request = RequestFactory().get("/", params)
    started = time.perf_counter()
    query = LeaderboardQuery.from_request(request)
    paginator = RowsByIdPaginator(query.stats(), LEADERBOARD_PAGE_SIZE)
    paginator.count  # noqa: B018  (the COUNT query, cached on the paginator as the view's get_page does)
    counted = time.perf_counter()
    rows = list(paginator.get_page(request.GET.get("page")).object_list)
    return paginator, rows, (counted - started) * 1000, (time.perf_counter() - counted) * 1000


def explain_default_leaderboard() -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the queries the default leaderboard runs."""
    with CaptureQueriesContext(connection) as captured:
        leaderboard_page({})
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plans.append(query["sql"] + "\n" + "\n".join(line for (line,) in cursor.fetchall()))
    return plans


@dataclass
class PageTiming:
    """A page timed through Django's test Client; `error` says why it could not be."""

    timings: Timings = field(default_factory=Timings)
    queries: int = 0
    error: str = ""

    def line(self) -> str:
        return f"{self.timings.line()}  {self.queries} queries" if not self.error else f"not measured: {self.error}"


def time_client_get(client: Client, url_name: str, headers: dict[str, str], repeat: int) -> PageTiming:
    """Milliseconds per GET through the whole Django stack, and the queries one GET makes."""
    page = PageTiming()
    try:
        path = reverse(url_name)
        for _ in range(3):
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                return PageTiming(error=f"GET {path} answered {response.status_code}")
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            client.get(path, headers=headers)
        page.queries = queries.count
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path, headers=headers)
            page.timings.samples.append((time.perf_counter() - started) * 1000)
    except Exception as error:  # other work in progress can break the page; the other figures still count
        return PageTiming(error=f"{type(error).__name__}: {error}")
    return page


class QueryCounter:
    """A `connection.execute_wrapper` that counts queries (a request resets the DEBUG query log)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def measure_leaderboard(config: Config) -> LeaderboardResult:
    setup_s = prepare_leaderboard(config)
    scenarios = {}
    for name, params in LEADERBOARD_SCENARIOS.items():
        for _ in range(5):  # warm the plan and buffer caches
            leaderboard_page(params)
        counts, pages, both = Timings(), Timings(), Timings()
        for _ in range(config.repeat):
            paginator, _rows, count_ms, rows_ms = leaderboard_page(params)
            counts.samples.append(count_ms)
            pages.samples.append(rows_ms)
            both.samples.append(count_ms + rows_ms)
        scenarios[name] = (paginator.count, counts, pages, both)
    user = get_user_model().objects.create_user("bench-alice", password=None)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    page_repeat = max(10, config.repeat // 4)
    page = time_client_get(client, "dashboard", {}, page_repeat)
    fragment = time_client_get(client, "dashboard", {"HX-Request": "true", "HX-Target": "leaderboard"}, page_repeat)
    return LeaderboardResult(
        wallets=TrackedWallet.objects.count(),
        setup_s=setup_s,
        scenarios=scenarios,
        page=page,
        fragment=fragment,
        explain=explain_default_leaderboard(),
    )


# --- report ---------------------------------------------------------------------------------------


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
    print("1a. Pure engine (whales.pnl, no database)")
    print(
        f"    generate {result.swaps:,} swaps + {result.transfers:,} transfers → {result.trades:,} Trades"
        f" {result.generate_s:.2f} s   (setup, not part of the recompute)"
    )
    print(f"    sort (book_trades.replay_order)       {result.sort_s:7.2f} s")
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


# --- main -----------------------------------------------------------------------------------------


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
