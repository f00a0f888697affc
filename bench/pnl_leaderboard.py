"""bench/pnl's leaderboard measurement (2): WalletStats rows for every window COPYed in, then the
dashboard's queries, page and fragment timed.

Imported by bench/pnl.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.pnl_build import CopyTable, create_wallets
from bench.pnl_market import Config
from bench.pnl_measuring import Timings
from whales.books import pnl
from whales.models import TrackedWallet, WalletStats, Window
from whales.selectors import LEADERBOARD_PAGE_SIZE, LeaderboardQuery, RowsByIdPaginator

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
