"""Pushes are never silently lost: the heartbeat takes the road pushes take (Redis), so a page hears
when they cannot get through; what was stored while they could not is pushed by a sweep; and what
arrives as history (a wallet's first poll) never goes on top of the live feeds."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from django.utils import timezone

from aura.consumers import HEARTBEAT, LiveConsumer
from tests.builders import address, usdc_swap
from tests.conftest import free_port
from tests.support.helius import helius_for, paged
from tests.support.redis import layer_at
from whales.ingestion.ingest import ingest
from whales.ingestion.sources import poll_wallet, sync_webhook
from whales.live import push_unpushed_swaps
from whales.models import ArrivedVia, Swap, TrackedWallet
from whales.wallets import import_wallets

pytestmark = pytest.mark.django_db(transaction=True)
WALLET = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"


class OwnLayerConsumer(LiveConsumer):
    """The live consumer on the channel layer "own" (a Redis of the test's own)."""

    channel_layer_alias = "own"


def page(user, alias: str = "default", groups: str = "feed.trades") -> WebsocketCommunicator:
    consumer = OwnLayerConsumer if alias == "own" else LiveConsumer
    communicator = WebsocketCommunicator(consumer.as_asgi(), f"/ws/live/?groups={groups}")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.asyncio
async def test_the_heartbeat_comes_through_redis_and_stops_while_redis_is_down(
    django_user_model, redis_of_our_own, settings
):
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS, "own": layer_at(redis_of_our_own.url)}
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    socket = page(alice, alias="own")
    assert (await socket.connect())[0]
    assert await socket.receive_from(timeout=3) == HEARTBEAT

    redis_of_our_own.stop()
    await socket.receive_nothing(timeout=0.5)  # what was already on its way
    # The socket is open, but nothing can be pushed to it: the page must hear silence.
    assert await socket.receive_nothing(timeout=1.5)

    redis_of_our_own.start()
    assert await socket.receive_from(timeout=10) == HEARTBEAT
    await socket.disconnect()


@pytest.mark.asyncio
async def test_a_swap_stored_while_redis_was_unreachable_is_pushed_once_by_the_sweep(django_user_model, settings):
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    await database_sync_to_async(TrackedWallet.objects.create)(address=WALLET, label="Whale")
    feed = page(alice)
    assert (await feed.connect())[0]
    tx = usdc_swap(WALLET, address("sweep token"), "buy", "3", "6", int(time.time()) - 5)

    with override_settings(CHANNEL_LAYERS={"default": layer_at(f"redis://127.0.0.1:{free_port()}/0")}):
        await database_sync_to_async(ingest)([tx], ArrivedVia.WEBHOOK)  # stored; its push fails
    swap = await database_sync_to_async(Swap.objects.get)()
    assert swap.live and swap.pushed_at is None
    assert await feed.receive_nothing(timeout=0.5)

    later = timezone.now() + timedelta(seconds=10)
    assert await database_sync_to_async(push_unpushed_swaps)(now=later) == 1

    pushed = await feed.receive_from(timeout=5)
    assert f'id="swap-{swap.id}"' in pushed
    assert (await database_sync_to_async(Swap.objects.get)()).pushed_at is not None
    assert await database_sync_to_async(push_unpushed_swaps)(now=later) == 0  # once
    assert await feed.receive_nothing(timeout=0.5)
    await feed.disconnect()


def test_a_wallets_first_poll_is_its_past_and_is_not_pushed_live(server):
    whale = TrackedWallet.objects.create(address=WALLET, label="New whale")
    now = int(time.time())
    recent_past = [usdc_swap(WALLET, address("first poll"), "buy", str(n), "1", now - 60 * n) for n in (1, 2, 3)]
    server.responder = paged(recent_past)

    poll_wallet(whale, helius_for(server))

    assert Swap.objects.count() == 3
    assert not Swap.objects.filter(live=True).exists()
    assert not Swap.objects.exclude(pushed_at=None).exists()  # nothing went on top of the feeds
    # The next poll finds news.
    whale.refresh_from_db()
    news = usdc_swap(WALLET, address("first poll"), "sell", "1", "2", now)
    server.responder = paged([news, *recent_past])
    poll_wallet(whale, helius_for(server))
    assert Swap.objects.get(signature=news["signature"]).live


def test_new_wallets_get_the_webhook_before_their_backfills(settings):
    from celery.signals import before_task_publish

    published: list[str] = []

    def note(sender=None, **kwargs):
        published.append(sender)

    before_task_publish.connect(note, weak=False)
    try:
        import_wallets([(n, {"address": address(f"new whale {n}")}) for n in range(3)])
    finally:
        before_task_publish.disconnect(note)

    assert published[0] == "whales.tasks.sync_helius_webhook"
    assert published[1:] == ["whales.tasks.backfill_wallet"] * 3


def test_two_webhook_syncs_at_once_make_one_webhook_not_two(server, settings):
    """At start a worker's own sync and the new wallets' sync run side by side: both finding no webhook,
    both created one, and Helius then delivered every transaction twice."""
    import threading

    from django.db import connections

    from providers.helius import HeliusClient
    from tests.support.http import Reply

    settings.HELIUS_WEBHOOK_URL = "https://aura.example.com/hooks/helius/"
    settings.HELIUS_WEBHOOK_SECRET = "sync-secret"
    TrackedWallet.objects.create(address=WALLET)
    webhooks: list[dict] = []

    def helius(request):
        if request.method == "GET":
            time.sleep(0.5)  # a slow listing: the window in which the other sync looks too
            return Reply(200, list(webhooks))
        if request.method == "POST":
            created = {**request.body, "webhookID": f"wh-{len(webhooks) + 1}"}
            webhooks.append(created)
            return Reply(200, created)
        return Reply(200, webhooks[0])

    server.responder = helius

    def sync() -> None:
        try:
            sync_webhook(HeliusClient(server.url, "key", rate_per_second=0, max_attempts=1))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(webhooks) == 1
