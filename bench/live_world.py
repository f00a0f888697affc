"""bench/live's world: a logged-in user, fresh whales and tokens with history, and the valid USDC
swaps the runs post.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.builders import address, usdc_swap
from whales.ingestion import ingest
from whales.models import ArrivedVia, Token, TrackedWallet

WARMUP_PUSHES = 5
FIRST_SWAP_ID = 900_000_000
USERNAME = "bench-alice"
PASSWORD = "bench live correct horse battery staple"
HISTORY_DAYS = 30
DAY = 86_400


class SwapMaker:
    """Fresh, valid USDC swaps: per (wallet, token) two buys then a sell, so positions grow, sells
    realize P&L, and no cycle closes by accident."""

    def __init__(self, run_id: str, mints: Sequence[str]) -> None:
        self.run_id = run_id
        self.mints = list(mints)
        self.made = 0
        self.per_pair: Counter[tuple[str, str]] = Counter()

    def swap(self, wallet: str, timestamp: int) -> dict[str, Any]:
        number = self.made
        self.made += 1
        mint = self.mints[number % len(self.mints)]
        nth = self.per_pair[(wallet, mint)]
        self.per_pair[(wallet, mint)] += 1
        if nth % 3 == 2:
            side, token_amount, usdc_amount = "sell", "700", f"{80 + number % 29}.25"
        else:
            side, token_amount, usdc_amount = "buy", f"{1000 + number % 97}", f"{100 + number % 13}.5"
        return usdc_swap(
            wallet, mint, side, token_amount, usdc_amount, timestamp, seed=f"bench-live {self.run_id} {number}"
        )


@dataclass
class BenchWorld:
    run_id: str
    user: Any
    dashboard_wallets: list[TrackedWallet]  # the whales whose swaps the browser watches arrive
    fanout_wallet: TrackedWallet  # its group is private to this run: the fan-out clients join it
    maker: SwapMaker
    history_s: float

    @property
    def dashboard_addresses(self) -> list[str]:
        return [wallet.address for wallet in self.dashboard_wallets]


def seed_world(history: int) -> BenchWorld:
    """A user with a known password, three whales for the dashboard and one for the fan-out, three
    named and priced tokens (so no metadata task is queued per swap), and `history` backfilled swaps
    per whale over the last 30 days (as a whale's page would hold)."""
    run_id = uuid.uuid4().hex[:10]
    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    now = timezone.now()
    mints = [address(f"bench-live {run_id} token {n}") for n in range(3)]
    Token.objects.bulk_create(
        Token(
            mint=mint,
            symbol=f"BNCH{n}",
            name=f"Bench token {n}",
            decimals=6,
            metadata_updated_at=now,
            price_usd=Decimal("0.12"),
            price_source="bench",
            price_updated_at=now,
        )
        for n, mint in enumerate(mints)
    )
    wallets = [
        TrackedWallet.objects.create(address=address(f"bench-live {run_id} whale {n}"), label=f"Bench whale {n}")
        for n in range(3)
    ]
    fanout_wallet = TrackedWallet.objects.create(address=address(f"bench-live {run_id} fan-out"), label="Fan-out whale")
    maker = SwapMaker(run_id, mints)
    started = time.perf_counter()
    end = int(time.time()) - 3600
    for wallet in [*wallets, fanout_wallet]:
        step = HISTORY_DAYS * DAY / max(history, 1)
        past = [maker.swap(wallet.address, int(end - (history - k) * step)) for k in range(history)]
        for batch in range(0, len(past), 100):
            ingest.ingest(past[batch : batch + 100], ArrivedVia.BACKFILL)
    return BenchWorld(run_id, user, wallets, fanout_wallet, maker, time.perf_counter() - started)


def session_cookie_for(user: Any) -> str:
    """A session of `user` stored in the bench database, as a browser that logged in would hold."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
