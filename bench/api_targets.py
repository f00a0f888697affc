"""bench/api's targets: the URLs it loads, what each must answer before it counts, and their goals.

Imported by bench/api.py after bench/pnl.py has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from django.db.models import Count
from django.test import RequestFactory
from django.urls import NoReverseMatch, get_resolver, reverse

from whales import selectors
from whales.models import Swap, Token, TrackedWallet, WalletStats
from whales.selectors import LEADERBOARD_PAGE_SIZE, LeaderboardQuery

DEEP_PAGE = 100


# Targets, as ratios to /healthz in the same round: (least throughput ratio, largest p95 ratio).
API_TARGET = (0.5, 2.0)
PAGE_TARGET = (0.25, 4.0)


@dataclass
class Target:
    """One URL to load. `auth` is how the client proves who it is: "" (none), "session" or "token"."""

    key: str
    label: str
    path: str
    auth: str
    kind: str  # "baseline", "api", "page" or "chart": which target applies
    check: Callable[[httpx.Response], str | None]  # None when the answer carries what it should, else why not
    size: int = 0  # bytes of the answer's body, from the content check

    @property
    def goal(self) -> tuple[float, float] | None:
        return {"api": API_TARGET, "page": PAGE_TARGET}.get(self.kind)


def json_check(condition: Callable[[Any], str | None]) -> Callable[[httpx.Response], str | None]:
    def check(response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return f"not JSON: {response.text[:80]!r}"
        return condition(body)

    return check


def html_check(*needles: str) -> Callable[[httpx.Response], str | None]:
    def check(response: httpx.Response) -> str | None:
        if "text/html" not in response.headers.get("content-type", ""):
            return f"not HTML ({response.headers.get('content-type')})"
        missing = [needle for needle in needles if needle not in response.text]
        return f"the page lacks {', '.join(missing)}" if missing else None

    return check


def healthz_ok(body: Any) -> str | None:
    return None if body == {"database": "ok", "redis": "ok"} else f"answered {body}"


def leaderboard_rows(first_address: str | None = None, fewer_than: int | None = None) -> Callable[[Any], str | None]:
    def condition(body: Any) -> str | None:
        rows = body.get("results") if isinstance(body, dict) else None
        if not rows:
            return f"no rows: {str(body)[:120]}"
        if first_address and rows[0]["wallet"]["address"] != first_address:
            return f"first row is {rows[0]['wallet']['address']}, the leaderboard's first is {first_address}"
        if fewer_than is not None and body["count"] >= fewer_than:
            return f"{body['count']} rows: the filter did not filter"
        return None

    return condition


def swaps_rows(newest_id: int) -> Callable[[Any], str | None]:
    def condition(body: Any) -> str | None:
        rows = body.get("results") if isinstance(body, dict) else None
        if not rows:
            return f"no rows: {str(body)[:120]}"
        return None if rows[0]["id"] == newest_id else f"first swap {rows[0]['id']}, the newest is {newest_id}"

    return condition


def chart_rows(body: Any) -> str | None:
    return None if body else "an empty series"


@dataclass
class Subjects:
    """The wallets and token whose pages are measured, and what their pages must show."""

    median_wallet: TrackedWallet
    median_swaps: int
    heaviest_wallet: TrackedWallet
    heaviest_swaps: int
    token: Token
    token_swaps: int
    active_wallets: int

    @classmethod
    def find(cls) -> Subjects:
        counts = list(
            Swap.objects.values("wallet_id")
            .annotate(n=Count("id"))
            .order_by("n", "wallet_id")
            .values_list("wallet_id", "n")
        )
        median_id, median_swaps = counts[len(counts) // 2]
        heaviest_id, heaviest_swaps = counts[-1]
        token_id, token_swaps = (
            Swap.objects.values("token_id")
            .annotate(n=Count("id"))
            .order_by("-n", "token_id")
            .values_list("token_id", "n")
        )[0]
        default_window = LeaderboardQuery.from_request(RequestFactory().get("/")).window
        return cls(
            median_wallet=TrackedWallet.objects.get(id=median_id),
            median_swaps=median_swaps,
            heaviest_wallet=TrackedWallet.objects.get(id=heaviest_id),
            heaviest_swaps=heaviest_swaps,
            token=Token.objects.get(id=token_id),
            token_swaps=token_swaps,
            active_wallets=WalletStats.objects.filter(window=default_window, wallet_active=True).count(),
        )


def newest_swap_id(**filters: Any) -> int:
    return selectors.swap_feed(**filters).values_list("id", flat=True)[0]


def leaderboard_first_address(params: dict[str, str]) -> str:
    return LeaderboardQuery.from_request(RequestFactory().get("/", params)).stats()[0].wallet.address


def chart_data_path(address: str) -> tuple[str, str] | None:
    """(URL name, path) of the wallet chart's data endpoint, when the app has one: a URL name with
    "chart" in it that takes the wallet's address."""
    names = sorted(name for name in get_resolver().reverse_dict if isinstance(name, str) and "chart" in name)
    for name in names:
        try:
            return name, reverse(name, kwargs={"address": address})
        except NoReverseMatch:
            continue
    return None


def targets_for(subjects: Subjects) -> tuple[list[Target], list[str]]:
    """Every URL measured, /healthz first; and notes on what could not be measured."""
    median, heaviest, token = subjects.median_wallet, subjects.heaviest_wallet, subjects.token
    pages = max(1, math.ceil(subjects.active_wallets / LEADERBOARD_PAGE_SIZE))
    deep = min(DEEP_PAGE, pages)
    api = "/api/v1/"
    search = "whale"
    every_row = subjects.active_wallets
    targets = [
        Target("healthz", "/healthz", "/healthz", "", "baseline", json_check(healthz_ok)),
        Target(
            "api-leaderboard",
            "API leaderboard (7d, total P&L)",
            f"{api}leaderboard/",
            "token",
            "api",
            json_check(leaderboard_rows(leaderboard_first_address({}))),
        ),
        Target(
            "api-leaderboard-winrate-30d",
            "API leaderboard (30d, win rate)",
            f"{api}leaderboard/?window=30d&sort=win_rate",
            "token",
            "api",
            json_check(leaderboard_rows(leaderboard_first_address({"window": "30d", "sort": "win_rate"}))),
        ),
        Target(
            "api-leaderboard-volume-24h",
            "API leaderboard (24h, volume)",
            f"{api}leaderboard/?window=24h&sort=volume",
            "token",
            "api",
            json_check(leaderboard_rows(leaderboard_first_address({"window": "24h", "sort": "volume"}))),
        ),
        Target(
            "api-leaderboard-search",
            f"API leaderboard (search '{search}')",
            f"{api}leaderboard/?q={search}",
            "token",
            "api",
            json_check(leaderboard_rows(fewer_than=every_row)),
        ),
        Target(
            "api-leaderboard-deep-page",
            f"API leaderboard (page {deep} of {pages})",
            f"{api}leaderboard/?page={deep}",
            "token",
            "api",
            json_check(leaderboard_rows()),
        ),
        Target("api-swaps", "API swaps", f"{api}swaps/", "token", "api", json_check(swaps_rows(newest_swap_id()))),
        Target(
            "dashboard",
            "dashboard /",
            reverse("dashboard"),
            "session",
            "page",
            html_check(
                f'href="{reverse("wallet", args=[leaderboard_first_address({})])}"',
                f'data-swap-id="{newest_swap_id()}"',
            ),
        ),
        Target(
            "wallet-median",
            f"wallet page, median wallet ({subjects.median_swaps:,} swaps)",
            reverse("wallet", args=[median.address]),
            "session",
            "page",
            html_check(median.address, f'data-swap-id="{newest_swap_id(wallet=median)}"'),
        ),
        Target(
            "wallet-heaviest",
            f"wallet page, heaviest wallet ({subjects.heaviest_swaps:,} swaps)",
            reverse("wallet", args=[heaviest.address]),
            "session",
            "page",
            html_check(heaviest.address, f'data-swap-id="{newest_swap_id(wallet=heaviest)}"'),
        ),
        Target(
            "token",
            f"token page, most traded ({subjects.token_swaps:,} swaps)",
            reverse("token", args=[token.mint]),
            "session",
            "page",
            html_check(token.mint, f'data-swap-id="{newest_swap_id(token=token)}"'),
        ),
    ]
    notes = []
    chart = chart_data_path(heaviest.address)
    if chart is None:
        notes.append(
            "wallet chart data: not measured, the app has no such endpoint (the series is inlined in the page)"
        )
    else:
        name, path = chart
        targets.append(
            Target(
                "wallet-chart-heaviest",
                f"wallet chart data, heaviest wallet ({name})",
                path,
                "session",
                "chart",
                json_check(chart_rows),
            )
        )
    return targets, notes
