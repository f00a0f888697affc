"""The browser WebSocket: anonymous refused, groups joined, pushed HTML forwarded — over real Redis."""

import time
from unittest.mock import patch

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from aura.consumers import CLOSE_UNAUTHENTICATED, LiveConsumer
from aura.realtime import follows_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
WALLET = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"


def communicator_for(user, query: str = "") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), f"/ws/live/?{query}")
    communicator.scope["user"] = user
    return communicator


async def test_it_refuses_an_anonymous_socket():
    communicator = communicator_for(AnonymousUser())
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_it_forwards_html_pushed_to_a_group_the_page_joined(django_user_model):
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    communicator = communicator_for(alice, f"groups=feed.trades,wallet.{WALLET}")
    connected, _ = await communicator.connect()
    assert connected
    html = '<div id="swap-feed" hx-swap-oob="afterbegin"><p>BONK bought</p></div>'
    await get_channel_layer().group_send(f"wallet.{WALLET}", {"type": "html.push", "html": html})
    assert await communicator.receive_from(timeout=5) == html
    await communicator.disconnect()


async def test_it_joins_only_the_users_own_follows_and_ignores_other_users_and_made_up_groups(django_user_model):
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    bob = await database_sync_to_async(django_user_model.objects.create_user)("bob")
    communicator = communicator_for(alice, f"groups=follows.{bob.id},user.{bob.id},feed.everything,follows")
    connected, _ = await communicator.connect()
    assert connected
    layer = get_channel_layer()
    await layer.group_send(follows_group(bob.id), {"type": "html.push", "html": "<p>for bob</p>"})
    await layer.group_send(f"user.{bob.id}", {"type": "html.push", "html": "<p>for bob too</p>"})
    await layer.group_send("feed.everything", {"type": "html.push", "html": "<p>nobody</p>"})
    await layer.group_send(follows_group(alice.id), {"type": "html.push", "html": "<p>for alice</p>"})
    assert await communicator.receive_from(timeout=5) == "<p>for alice</p>"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_an_ingested_swap_is_pushed_to_the_feed_its_wallet_and_the_leaderboard(django_user_model):
    from tests.builders import address, usdc_swap
    from whales.ingestion.ingest import ingest
    from whales.models import ArrivedVia, Swap, TrackedWallet

    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    whale = await database_sync_to_async(TrackedWallet.objects.create)(address=WALLET, label="Whale <One>")
    feed = communicator_for(alice, "groups=feed.trades")
    wallet_page = communicator_for(alice, f"groups=wallet.{WALLET}")
    leaderboard = communicator_for(alice, "groups=leaderboard.all")
    for communicator in (feed, wallet_page, leaderboard):
        assert (await communicator.connect())[0]

    tx = usdc_swap(WALLET, address("pushed token"), "buy", "500", "250", 1_760_000_000)
    await database_sync_to_async(ingest)([tx], ArrivedVia.WEBHOOK)
    swap = await database_sync_to_async(Swap.objects.get)()

    pushed = await feed.receive_from(timeout=5)
    assert pushed.startswith('<div id="swap-feed" hx-swap-oob="afterbegin">')
    assert f'id="swap-{swap.id}"' in pushed and "Whale &lt;One&gt;" in pushed and "$250.00" in pushed
    assert f'id="swap-{swap.id}"' in await wallet_page.receive_from(timeout=5)
    figures = await wallet_page.receive_from(timeout=5)
    assert '<div id="wallet-stats" class="stats-grid" hx-swap-oob="true">' in figures
    assert '<div id="positions" hx-swap-oob="true">' in figures
    row = await leaderboard.receive_from(timeout=5)
    assert f'<tr id="wallet-row-{whale.id}" class="lb-row" hx-swap-oob="true">' in row
    assert '<td class="num p3" data-col="swaps">1</td>' in row
    for communicator in (feed, wallet_page, leaderboard):
        await communicator.disconnect()


async def test_a_swap_a_poll_finds_long_after_it_happened_is_history_not_pushed(django_user_model):
    import time

    from tests.builders import address, usdc_swap
    from whales.ingestion.ingest import ingest
    from whales.live import POLLED_LIVE_FOR
    from whales.models import ArrivedVia, Swap, TrackedWallet

    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    await database_sync_to_async(TrackedWallet.objects.create)(address=WALLET, label="Whale")
    feed = communicator_for(alice, "groups=feed.trades")
    assert (await feed.connect())[0]
    token, now = address("polled token"), int(time.time())

    late = usdc_swap(WALLET, token, "buy", "1", "1", now - int(POLLED_LIVE_FOR.total_seconds()) - 60)
    await database_sync_to_async(ingest)([late], ArrivedVia.POLL)  # a minute past the live window
    assert await feed.receive_nothing(timeout=0.5)
    await database_sync_to_async(ingest)([usdc_swap(WALLET, token, "buy", "2", "2", now - 30)], ArrivedVia.POLL)
    recent = await database_sync_to_async(Swap.objects.get)(token_amount=2)

    assert f'id="swap-{recent.id}"' in await feed.receive_from(timeout=5)
    stored = await database_sync_to_async(lambda: dict(Swap.objects.values_list("token_amount", "pushed_at")))()
    assert stored[1] is None and stored[2] is not None
    await feed.disconnect()


async def test_the_follows_group_carries_only_the_swaps_of_wallets_the_user_follows(django_user_model):
    from portfolios.models import Follow
    from tests.builders import address, usdc_swap
    from whales.ingestion.ingest import ingest
    from whales.models import ArrivedVia, TrackedWallet

    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    bob = await database_sync_to_async(django_user_model.objects.create_user)("bob")
    followed = await database_sync_to_async(TrackedWallet.objects.create)(address=WALLET, label="Followed")
    other = await database_sync_to_async(TrackedWallet.objects.create)(address=address("other"), label="Other")
    await database_sync_to_async(Follow.objects.create)(user=alice, wallet=followed)
    alices_page, bobs_page = communicator_for(alice, "groups=follows"), communicator_for(bob, "groups=follows")
    for communicator in (alices_page, bobs_page):
        assert (await communicator.connect())[0]

    token = address("followed token")
    await database_sync_to_async(ingest)(
        [usdc_swap(other.address, token, "buy", "1", "1", 1_760_000_000)], ArrivedVia.WEBHOOK
    )
    await database_sync_to_async(ingest)([usdc_swap(WALLET, token, "buy", "2", "2", 1_760_000_001)], ArrivedVia.WEBHOOK)

    pushed = await alices_page.receive_from(timeout=5)
    assert "Followed" in pushed and "Other" not in pushed
    assert await alices_page.receive_nothing(timeout=0.3)
    assert await bobs_page.receive_nothing(timeout=0.3)  # "follows" is always the asking user's own
    for communicator in (alices_page, bobs_page):
        await communicator.disconnect()


async def test_an_idle_socket_gets_heartbeats_so_a_page_can_tell_a_dead_one(django_user_model, settings):
    from aura.consumers import HEARTBEAT

    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    communicator = communicator_for(alice, "groups=feed.trades")
    assert (await communicator.connect())[0]

    assert await communicator.receive_from(timeout=2) == HEARTBEAT
    assert await communicator.receive_from(timeout=2) == HEARTBEAT
    await communicator.disconnect()


async def test_a_socket_notes_its_groups_while_open_and_the_note_expires_without_heartbeats(
    django_user_model, settings
):
    from aura import listeners

    settings.LIVE_HEARTBEAT_SECONDS = 0.2  # a note lives 3 heartbeats + 5 s
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    wanted = {f"wallet.{WALLET}", "leaderboard.7d"}
    page = communicator_for(alice, f"groups=wallet.{WALLET}")
    assert (await page.connect())[0]

    heard = await database_sync_to_async(listeners.listened)(wanted)
    assert heard == {f"wallet.{WALLET}"}
    await page.disconnect()
    assert await database_sync_to_async(listeners.listened)(wanted) == set()

    await listeners.listen("a-socket-that-died", ["leaderboard.7d"])  # never says goodbye
    assert await database_sync_to_async(listeners.listened)(wanted) == {"leaderboard.7d"}
    later = time.time() + listeners.note_lifetime() + 1
    with patch.object(listeners.time, "time", return_value=later):
        assert await database_sync_to_async(listeners.listened)(wanted) == set()


async def test_a_booking_renders_and_pushes_figures_only_where_a_page_listens(django_user_model):
    from tests.builders import address, usdc_swap
    from whales import fragments
    from whales.ingestion.ingest import ingest
    from whales.models import ArrivedVia, TrackedWallet

    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    watched = await database_sync_to_async(TrackedWallet.objects.create)(address=WALLET, label="Watched")
    unwatched = await database_sync_to_async(TrackedWallet.objects.create)(address=address("nobody"), label="Alone")
    wallet_page = communicator_for(alice, f"groups=wallet.{WALLET}")
    assert (await wallet_page.connect())[0]
    txs = [
        usdc_swap(WALLET, address("watched token"), "buy", "5", "2", 1_760_000_000),
        usdc_swap(unwatched.address, address("alone token"), "buy", "5", "2", 1_760_000_000),
    ]

    with patch.object(fragments, "wallet_pages", wraps=fragments.wallet_pages) as pages_rendered:
        await database_sync_to_async(ingest)(txs, ArrivedVia.WEBHOOK)

    assert [[wallet.id for wallet in call.args[0]] for call in pages_rendered.call_args_list] == [[watched.id]]
    messages = [await wallet_page.receive_from(timeout=5), await wallet_page.receive_from(timeout=5)]
    assert any('<div id="wallet-stats" class="stats-grid" hx-swap-oob="true">' in html for html in messages)
    await wallet_page.disconnect()
