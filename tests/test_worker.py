"""The Celery tasks in a real worker process, against the market simulator, the test database and Redis:
backfill to the end, the webhook registered, prices and metadata fetched, a new trade polled in."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.db import connections

from simulator.server import MarketSimulator, SimulatorConfig
from tests.conftest import REPO_DIR, live_server_env, worker_command
from whales import tasks
from whales.ingestion.sources import start_backfill
from whales.models import BackfillState, Position, Swap, Token, TrackedWallet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simulator() -> Iterator[MarketSimulator]:
    config = SimulatorConfig(
        port=0, wallets=4, tokens=6, history_days=1, history_txs=240, swaps_per_minute=0, warm_cache=False
    )
    with MarketSimulator(config).start() as running:
        yield running


@pytest.fixture
def worker(simulator, django_db_blocker) -> Iterator[str]:
    """A Celery worker process on a queue of this test's own; yields the queue name."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **live_server_env(django_db_blocker),
        "CELERY_QUEUE": queue,
        "HELIUS_API_KEY": "sim",
        "HELIUS_BASE_URL": simulator.url,
        "HELIUS_RATE_PER_SECOND": "50",
        "HELIUS_WEBHOOK_URL": "https://aura.example.com/hooks/helius/",
        "BIRDEYE_API_KEY": "sim",
        "BIRDEYE_BASE_URL": simulator.url,
        "BIRDEYE_RATE_PER_SECOND": "50",
        "DEXSCREENER_BASE_URL": simulator.url,
        "JUPITER_BASE_URL": simulator.url,
    }
    process = subprocess.Popen(worker_command(queue), cwd=REPO_DIR, env=env)
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    with django_db_blocker.unblock():
        connections.close_all()


def wait_until(condition: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s: {condition.__doc__ or condition}")
        time.sleep(0.25)


def intended_swaps(simulator: MarketSimulator, address: str) -> set[tuple[str, str, str]]:
    with simulator.lock:
        return {
            (tx.signature, tx.side, tx.token_mint)
            for tx in simulator.market.transactions
            if tx.kind == "swap" and tx.wallet == address
        }


def test_the_worker_backfills_registers_the_webhook_prices_and_polls_in_new_trades(simulator, worker):
    whales = [
        TrackedWallet.objects.create(address=w.address, label=w.label, tags=list(w.tags))
        for w in simulator.market.wallets[:2]
    ]
    for wallet in whales:
        start_backfill(wallet, days=2)
        tasks.backfill_wallet.apply_async((wallet.id,), queue=worker)
    tasks.sync_helius_webhook.apply_async(queue=worker)

    def backfills_are_done() -> bool:
        """every backfill finished"""
        return not TrackedWallet.objects.exclude(backfill_state=BackfillState.DONE).exists()

    wait_until(backfills_are_done)
    for wallet in whales:
        stored = set(Swap.objects.filter(wallet=wallet).values_list("signature", "side", "token__mint"))
        assert stored == intended_swaps(simulator, wallet.address)
        assert stored  # the simulator's whales trade
    assert Swap.objects.filter(usd_value=None).count() == 0  # SOL/USD history fetched around every swap
    def webhook_is_registered() -> bool:
        """the webhook sync ran"""
        with simulator.lock:
            return bool(simulator._webhooks)

    wait_until(webhook_is_registered)
    with simulator.lock:
        [webhook] = [entry["webhook"] for entry in simulator._webhooks.values()]
    assert sorted(webhook["accountAddresses"]) == sorted(w.address for w in whales)
    assert webhook["webhookURL"] == "https://aura.example.com/hooks/helius/"

    # No price tick asked for: a token gets its first price as its first trades are booked.
    def held_tokens_are_priced() -> bool:
        """every held token has a Birdeye price"""
        held = Token.objects.filter(positions__holdings__gt=0).distinct()
        return held.exists() and not held.exclude(price_source="birdeye").exists()

    wait_until(held_tokens_are_priced)
    assert Position.objects.filter(holdings__gt=0, unrealized_pnl=None).count() == 0
    assert Token.objects.exclude(metadata_updated_at=None).exclude(symbol="").exists()  # metadata looked up

    with simulator.lock:
        trade = simulator.market.force_trade(simulator.now(), wallet=whales[0].address, shape="jupiter", side="buy")
    tasks.poll_wallet.apply_async((whales[0].id,), queue=worker)
    wait_until(lambda: Swap.objects.filter(signature=trade.signature).exists())
    assert Swap.objects.get(signature=trade.signature).arrived_via == "poll"


def test_backfills_have_a_queue_of_their_own_so_live_work_never_waits_behind_them():
    from django.conf import settings

    from aura.celery import app

    def queue_of(task) -> str:
        return app.amqp.router.route({}, task.name)["queue"].name

    assert queue_of(tasks.backfill_wallet) == settings.CELERY_HISTORY_QUEUE
    assert settings.CELERY_HISTORY_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    for live_work in (tasks.sync_helius_webhook, tasks.book_trades, tasks.refresh_token_metadata, tasks.refresh_prices):
        assert queue_of(live_work) == settings.CELERY_TASK_DEFAULT_QUEUE
