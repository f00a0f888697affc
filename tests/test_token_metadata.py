"""Token metadata from Birdeye's token overview: looked up after a token's first trade, and again by
beat's sweep (`name_unnamed_tokens`) when that lookup failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone

from providers.birdeye import BirdeyeClient
from tests.support.http import Reply, ScriptedServer, Sleeps
from whales.market.metadata import name_unnamed_tokens, refresh_token_metadata
from whales.models import Token

pytestmark = pytest.mark.django_db

OVERVIEW = (Path(__file__).parent / "fixtures" / "birdeye" / "birdeye_defi_token_overview.json").read_bytes()
RECORDED = json.loads(OVERVIEW)["data"]
NEVER_FOUND = {"success": True, "data": None}


def birdeye(server: ScriptedServer) -> BirdeyeClient:
    """One attempt per call, no waiting, no shared rate limit or cache."""
    return BirdeyeClient(server.url, "birdeye-test-key", rate_per_second=0, sleep=Sleeps(), max_attempts=1)


def test_a_lookup_that_failed_is_made_again_by_the_sweep(server: ScriptedServer):
    unnamed = Token.objects.create(mint="Unnamed1111111111111111111111111111111111111")
    server.script(Reply(503, {"message": "upstream down"}))

    assert refresh_token_metadata([unnamed.mint], birdeye(server)) == 0
    unnamed.refresh_from_db()
    assert (unnamed.symbol, unnamed.metadata_updated_at) == ("", None)  # not marked as looked up

    server.script(Reply(200, OVERVIEW))
    assert name_unnamed_tokens(birdeye(server)) == 1

    unnamed.refresh_from_db()
    assert (unnamed.symbol, unnamed.name, unnamed.decimals) == (RECORDED["symbol"], RECORDED["name"], 9)
    assert unnamed.metadata_updated_at is not None


def test_the_sweep_asks_only_for_unnamed_tokens_never_looked_up_and_at_most_its_limit(server: ScriptedServer):
    Token.objects.create(mint="LookedUp111111111111111111111111111111111111", metadata_updated_at=timezone.now())
    assert Token.objects.filter(symbol="SOL").exists()  # named by a migration, never looked up
    mints = [f"Unnamed{n}{'1' * 36}" for n in range(3)]
    for mint in mints:
        Token.objects.create(mint=mint)
    server.responder = lambda request: Reply(200, NEVER_FOUND)  # a mint Birdeye does not know

    assert name_unnamed_tokens(birdeye(server), limit=2) == 0
    asked = [request.param("address") for request in server.requests]
    assert len(asked) == 2 and set(asked) < set(mints)

    # Unknown to Birdeye is an answer: those two are not asked again, the third is.
    name_unnamed_tokens(birdeye(server), limit=2)
    assert [request.param("address") for request in server.requests[2:]] == sorted(set(mints) - set(asked))
    assert name_unnamed_tokens(birdeye(server)) == 0
    assert len(server.requests) == 3


def test_without_a_birdeye_key_nothing_is_asked_and_the_tokens_wait_for_one(server: ScriptedServer, settings):
    settings.BIRDEYE_BASE_URL = server.url
    unnamed = Token.objects.create(mint="Unnamed1111111111111111111111111111111111111")
    server.script(Reply(200, OVERVIEW))

    settings.BIRDEYE_API_KEY = ""
    assert name_unnamed_tokens() == 0
    assert server.requests == []

    settings.BIRDEYE_API_KEY = "birdeye-test-key"
    assert name_unnamed_tokens() == 1
    unnamed.refresh_from_db()
    assert unnamed.symbol == RECORDED["symbol"]


def test_rows_shown_before_a_token_had_a_name_take_its_symbol_when_it_is_found(
    server: ScriptedServer, django_capture_on_commit_callbacks
):
    import asyncio

    from asgiref.sync import async_to_sync, sync_to_async
    from channels.layers import get_channel_layer

    from aura import realtime
    from tests.builders import address
    from whales.models import Position, TrackedWallet

    token = Token.objects.create(mint=address("named late"))
    whale = TrackedWallet.objects.create(address=address("early trader"))
    Position.objects.create(wallet=whale, token=token, book={})
    server.script(Reply(200, {"success": True, "data": {**RECORDED, "symbol": "<b>LATE</b>"}}))
    groups = [realtime.FEED_TRADES, realtime.token_group(token.mint), realtime.wallet_group(whale.address)]

    def look_up() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return refresh_token_metadata([token.mint], birdeye(server))

    async def pushes_heard_while_looking_up() -> dict[str, str]:
        layer = get_channel_layer()
        channels = {group: await layer.new_channel() for group in groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)
        assert await sync_to_async(look_up)() == 1
        heard = {}
        for group, channel in channels.items():
            heard[group] = (await asyncio.wait_for(layer.receive(channel), 5))["html"]
        for group, channel in channels.items():
            await layer.group_discard(group, channel)
        return heard

    heard = async_to_sync(pushes_heard_while_looking_up)()

    expected = f'<span hx-swap-oob="innerHTML:.symbol-of-{token.mint}">&lt;b&gt;LATE&lt;/b&gt;</span>'
    assert all(expected in html for html in heard.values()), heard
