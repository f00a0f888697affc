"""A channel that starts failing tells its user at once: the notice banner every page renders is pushed,
after commit, to that user's open pages (a real WebSocket over real Redis) and to nobody else's."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from alerts import actions
from aura.consumers import LiveConsumer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class RolledBack(Exception):
    pass


async def open_page(user, groups: str = "feed.trades") -> WebsocketCommunicator:
    page = WebsocketCommunicator(LiveConsumer.as_asgi(), f"/ws/live/?groups={groups}")
    page.scope["user"] = user
    assert (await page.connect())[0]
    return page


def discord_channel(user, label: str):
    return actions.add_channel(user, "discord", label, "https://discord.com/api/webhooks/1/tok")[0]


def fail_and_roll_back(channel) -> None:
    with pytest.raises(RolledBack), transaction.atomic():
        actions.channel_failing(channel, "404 Unknown Webhook")
        raise RolledBack


async def test_a_failing_channels_notice_reaches_the_users_open_pages_after_commit_and_only_theirs(
    django_user_model,
):
    alice = await database_sync_to_async(django_user_model.objects.create_user)("alice")
    bob = await database_sync_to_async(django_user_model.objects.create_user)("bob")
    channel = await database_sync_to_async(discord_channel)(alice, "<b>Team</b>")
    alices_feed, alices_following_page = await open_page(alice), await open_page(alice, "follows")
    bobs_page = await open_page(bob)

    await database_sync_to_async(fail_and_roll_back)(channel)
    assert await alices_feed.receive_nothing(timeout=0.3)  # rolled back: nothing to tell

    await database_sync_to_async(actions.channel_failing)(channel, "404 Unknown Webhook")

    for page in (alices_feed, alices_following_page):
        pushed = await page.receive_from(timeout=5)
        assert pushed.startswith('<div id="alert-notices" hx-swap-oob="true">')
        assert "Your alert channel “&lt;b&gt;Team&lt;/b&gt;” is failing: 404 Unknown Webhook" in pushed
        assert 'hx-post="/alerts/notices/dismiss/"' in pushed and 'href="/alerts/channels/"' in pushed
    assert await bobs_page.receive_nothing(timeout=0.3)
    for page in (alices_feed, alices_following_page, bobs_page):
        await page.disconnect()
