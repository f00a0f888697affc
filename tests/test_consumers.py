"""The browser WebSocket: anonymous refused, groups joined, pushed HTML forwarded — over real Redis."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from aura.consumers import CLOSE_UNAUTHENTICATED, LiveConsumer
from aura.realtime import user_group

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


async def test_it_joins_the_users_own_group_but_ignores_made_up_groups(django_user_model):
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    bob = await database_sync_to_async(django_user_model.objects.create_user)("bob")
    communicator = communicator_for(alice, f"groups=user.{bob.id},feed.everything")
    connected, _ = await communicator.connect()
    assert connected
    layer = get_channel_layer()
    await layer.group_send(user_group(bob.id), {"type": "html.push", "html": "<p>for bob</p>"})
    await layer.group_send("feed.everything", {"type": "html.push", "html": "<p>nobody</p>"})
    await layer.group_send(user_group(alice.id), {"type": "html.push", "html": "<p>for alice</p>"})
    assert await communicator.receive_from(timeout=5) == "<p>for alice</p>"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()
