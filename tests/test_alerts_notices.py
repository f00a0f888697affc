"""A channel that starts failing is told to the user's open pages at once (their own WebSocket group),
as the same notices fragment every page renders."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from alerts import actions
from aura.consumers import LiveConsumer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_failing_channel_is_pushed_to_the_users_open_pages(django_user_model):
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/?groups=feed.trades")
    communicator.scope["user"] = alice
    connected, _ = await communicator.connect()
    assert connected

    def fail() -> None:
        channel, _ = actions.add_channel(alice, "discord", "<b>Team</b>", "https://discord.com/api/webhooks/1/tok")
        actions.channel_failing(channel, "404 Unknown Webhook")

    await database_sync_to_async(fail)()

    html = await communicator.receive_from(timeout=5)
    assert html.startswith('<div id="alert-notices" hx-swap-oob="true">')
    assert "Your alert channel “&lt;b&gt;Team&lt;/b&gt;” is failing: 404 Unknown Webhook" in html
    await communicator.disconnect()
