"""Token metadata from Birdeye's token overview: looked up after a token's first trade, and again by
beat's sweep (`actions.name_unnamed_tokens`) when that lookup failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone

from tests.test_http_client import Reply, ScriptedServer, Sleeps
from whales import actions
from whales.birdeye import BirdeyeClient
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

    assert actions.refresh_token_metadata([unnamed.mint], birdeye(server)) == 0
    unnamed.refresh_from_db()
    assert (unnamed.symbol, unnamed.metadata_updated_at) == ("", None)  # not marked as looked up

    server.script(Reply(200, OVERVIEW))
    assert actions.name_unnamed_tokens(birdeye(server)) == 1

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

    assert actions.name_unnamed_tokens(birdeye(server), limit=2) == 0
    asked = [request.param("address") for request in server.requests]
    assert len(asked) == 2 and set(asked) < set(mints)

    # Unknown to Birdeye is an answer: those two are not asked again, the third is.
    actions.name_unnamed_tokens(birdeye(server), limit=2)
    assert [request.param("address") for request in server.requests[2:]] == sorted(set(mints) - set(asked))
    assert actions.name_unnamed_tokens(birdeye(server)) == 0
    assert len(server.requests) == 3


def test_without_a_birdeye_key_nothing_is_asked_and_the_tokens_wait_for_one(server: ScriptedServer, settings):
    settings.BIRDEYE_BASE_URL = server.url
    unnamed = Token.objects.create(mint="Unnamed1111111111111111111111111111111111111")
    server.script(Reply(200, OVERVIEW))

    settings.BIRDEYE_API_KEY = ""
    assert actions.name_unnamed_tokens() == 0
    assert server.requests == []

    settings.BIRDEYE_API_KEY = "birdeye-test-key"
    assert actions.name_unnamed_tokens() == 1
    unnamed.refresh_from_db()
    assert unnamed.symbol == RECORDED["symbol"]
