"""Live pages in a real Chromium through a Redis outage: swaps keep being stored while Redis is down,
the open page learns its pushes are not getting through (the heartbeat comes through Redis), and once
Redis is back it shows every one of them, once, without a reload. Also: a price tick refreshes an
open wallet page's figures.

The Redis here is the test's own (stopped and started at will), with a Daphne and a Celery worker
of its own pointed at it: the rest of the suite is not disturbed."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.builders import address, usdc_swap
from tests.conftest import REPO_DIR, LiveServer, live_server_env, log_in, off_the_browser_thread, worker_command
from tests.support.redis import layer_at
from whales.books.booking import book_stragglers
from whales.ingestion.ingest import ingest
from whales.live import push_unpushed_swaps
from whales.market.prices import refresh_prices
from whales.models import Swap, Token, TrackedWallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def stack_on_our_own_redis(redis_of_our_own, django_db_blocker):
    """Daphne and a Celery worker using `redis_of_our_own` for the channel layer, cache and broker."""
    run = uuid.uuid4().hex[:10]
    env = {
        **live_server_env(django_db_blocker, queue=f"outage-{run}"),
        "REDIS_URL": redis_of_our_own.url,
        "CHANNELS_PREFIX": f"aura-outage-{run}",
    }
    worker = subprocess.Popen(worker_command(env["CELERY_QUEUE"]), cwd=REPO_DIR, env=env)
    server = LiveServer(env).start()
    server.channels_prefix = env["CHANNELS_PREFIX"]
    yield server
    server.stop()
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_swaps_stored_while_redis_is_down_reach_the_open_page_once_it_is_back(
    stack_on_our_own_redis, redis_of_our_own, new_page, alice
):
    server = stack_on_our_own_redis
    whale = TrackedWallet.objects.create(address=address("outage whale"), label="Outage whale")
    token = address("outage token")
    now = int(time.time())

    def swap(n: int) -> dict:
        return usdc_swap(whale.address, token, "buy", str(n), str(n), now - 60 + n, seed=f"outage {n}")

    page = new_page()
    log_in(page, server, "alice", PASSWORD)
    expect(page.locator("#connection")).to_have_text("live")
    page.evaluate("window.__sameDocument = true")
    assert server.post_webhook([swap(1)]).status_code == 200
    expect(page.locator("#swap-feed .feed-row")).to_have_count(1)

    redis_of_our_own.stop()
    for n in (2, 3, 4):  # stored while no push can get through
        response = server.post_webhook([swap(n)])
        assert response.status_code == 200 and response.json()["new_swaps"] == 1
    # The socket to Daphne is still open, but the heartbeat stopped coming through Redis.
    expect(page.locator("#connection")).to_have_text("reconnecting…", timeout=15_000)
    assert Swap.objects.filter(pushed_at=None).count() == 3

    redis_of_our_own.start()

    expect(page.locator("#connection")).to_have_text("live", timeout=60_000)
    expect(page.locator("#swap-feed .feed-row")).to_have_count(4, timeout=15_000)
    # The sweep beat runs pushes what was stored while Redis was down; the page keeps each row once.
    with override_settings(CHANNEL_LAYERS={"default": layer_at(redis_of_our_own.url, server.channels_prefix)}):
        swept = off_the_browser_thread(push_unpushed_swaps, now=timezone.now() + timedelta(seconds=10))
    assert swept == 3
    assert not Swap.objects.filter(pushed_at=None).exists()
    assert server.post_webhook([swap(5)]).status_code == 200  # and pushes flow again
    expect(page.locator("#swap-feed .feed-row")).to_have_count(5)
    ids = page.locator("#swap-feed .feed-row").evaluate_all("rows => rows.map(r => r.id)")
    assert ids == [f"swap-{pk}" for pk in Swap.objects.order_by("-block_time").values_list("id", flat=True)]
    assert page.evaluate("window.__sameDocument") is True  # no reload
    # Their bookings could not be queued while Redis was down: the straggler sweep books them.
    off_the_browser_thread(book_stragglers, older_than=timedelta(0))
    assert not Swap.objects.filter(in_books=False).exists()


def test_a_price_tick_refreshes_the_figures_of_an_open_wallet_page(daphne_server, new_page, alice, server):
    from tests.support.http import Reply

    whale = TrackedWallet.objects.create(address=address("ticked whale"), label="Ticked whale")
    mint = address("ticked token")
    off_the_browser_thread(
        ingest, [usdc_swap(whale.address, mint, "buy", "100", "100", int(time.time()) - 60)], "webhook"
    )
    page = new_page()
    log_in(page, daphne_server, "alice", PASSWORD)
    page.goto(f"{daphne_server.url}/wallets/{whale.address}/")
    expect(page.locator("#connection")).to_have_text("live")
    page.evaluate("window.__sameDocument = true")

    server.responder = lambda request: Reply(
        200, {"success": True, "data": {mint: {"value": 3, "updateUnixTime": int(time.time())}}}
    )
    from providers.birdeye import BirdeyeClient
    from whales.market.prices import PriceSources

    sources = PriceSources(birdeye=BirdeyeClient(server.url, "key", rate_per_second=0, max_attempts=1))
    assert off_the_browser_thread(refresh_prices, sources) >= 1
    assert Token.objects.get(mint=mint).price_usd == Decimal(3)

    # 100 held at a cost of $1 each, now $3: $200 unrealized.
    expect(page.locator("#positions [data-col^=unrealized]")).to_contain_text("200")
    assert page.evaluate("window.__sameDocument") is True
