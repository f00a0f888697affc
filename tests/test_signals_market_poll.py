"""The market side of signals against a real local HTTP server serving the recorded Birdeye and
DexScreener payloads: the client calls the poll needs, and one whole poll into stored rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from providers.birdeye import NewListing, TokenSecurityReport
from providers.dexscreener import DexScreenerError, TokenBoost, TokenProfile
from signals import market, scoring
from signals.models import MarketSnapshot, Signal, TokenSafety
from tests.support.http import Recorded, Reply, ScriptedServer
from tests.test_birdeye_client import make_birdeye
from tests.test_dexscreener_client import make_dexscreener
from whales.models import Token

FIXTURES = Path(__file__).parent / "fixtures"
TOPCAT = "6Zk9e3nfXdYLXHYu5NvDiPHGMcjujVBv6gWRr7ckSdhP"
ONIGIRI = "DsWUsiseYxAHZXEvq5cVcymYaohk8Gpe8E4otsjFpump"
SOL = "So11111111111111111111111111111111111111112"


def recorded(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def on_solana(element: dict, mint: str) -> dict:
    """A recorded profile/boost element (recorded on another chain) as the same element on Solana."""
    return {**element, "chainId": "solana", "tokenAddress": mint}


def test_new_listings_read_the_recorded_payload_with_times_in_utc(server: ScriptedServer):
    server.script(Reply(200, recorded("birdeye", "birdeye_defi_v2_tokens_new_listing")))
    birdeye, _ = make_birdeye(server)

    listings = birdeye.new_listings(limit=2)

    assert listings[0] == NewListing(
        address=TOPCAT,
        symbol="TOPCAT",
        name="TOPCAT",
        decimals=9,
        source="raydium",
        listed_at=int(datetime(2024, 9, 18, 17, 59, 23, tzinfo=UTC).timestamp()),
        liquidity=Decimal("15507.41635596545"),
    )
    assert [listing.address for listing in listings] == [TOPCAT, ONIGIRI]
    assert server.requests[0].path == "/defi/v2/tokens/new_listing"
    assert server.requests[0].param("limit") == "2"


def test_token_security_reads_the_recorded_payload(server: ScriptedServer):
    server.script(Reply(200, recorded("birdeye", "birdeye_defi_token_security")))
    birdeye, _ = make_birdeye(server)

    report = birdeye.token_security(TOPCAT)

    assert report == TokenSecurityReport(
        address=TOPCAT, mint_authority=None, freeze_authority=None, top10_holder_share=Decimal("0.3041667404641445")
    )
    assert server.requests[0].param("address") == TOPCAT


def test_token_profiles_and_boosts_keep_solanas_and_read_the_amounts(server: ScriptedServer):
    profile = recorded("dexscreener", "dexscreener_token_profiles_latest_v1_element")
    boost = recorded("dexscreener", "dexscreener_token_boosts_latest_v1_element")
    server.script(
        Reply(200, [profile, on_solana(profile, TOPCAT)]),
        Reply(200, [boost, on_solana(boost, ONIGIRI)]),
    )
    dexscreener, _ = make_dexscreener(server)

    assert dexscreener.latest_token_profiles() == [TokenProfile(TOPCAT, profile["url"], profile["description"])]
    assert dexscreener.latest_token_boosts() == [TokenBoost(ONIGIRI, Decimal(100), Decimal(100))]
    assert [request.path for request in server.requests] == ["/token-profiles/latest/v1", "/token-boosts/latest/v1"]


def test_a_boost_without_its_amount_is_refused(server: ScriptedServer):
    boost = on_solana(recorded("dexscreener", "dexscreener_token_boosts_latest_v1_element"), ONIGIRI)
    del boost["amount"]
    server.script(Reply(200, [boost]))
    dexscreener, _ = make_dexscreener(server)

    with pytest.raises(DexScreenerError, match="no amount"):
        dexscreener.latest_token_boosts()


@pytest.fixture
def market_server(server: ScriptedServer, redis_client):
    """Birdeye and DexScreener on one scripted server, answering from the recorded payloads."""
    for key in redis_client.scan_iter("aura:cache:birdeye:*"):
        redis_client.delete(key)  # an answer cached by an earlier run would hide this server's
    trending = recorded("birdeye", "birdeye_defi_token_trending")
    overview = recorded("birdeye", "birdeye_defi_token_overview")
    security = recorded("birdeye", "birdeye_defi_token_security")
    safe = {**security, "data": {**security["data"], "top10HolderPercent": 0.15}}
    profile = recorded("dexscreener", "dexscreener_token_profiles_latest_v1_element")
    boost = recorded("dexscreener", "dexscreener_token_boosts_latest_v1_element")

    def answer(request: Recorded) -> Reply:
        if request.path == "/defi/token_trending":
            return Reply(200, trending)
        if request.path == "/defi/token_overview":
            mint = request.param("address")
            return Reply(200, {**overview, "data": {**overview["data"], "address": mint}})
        if request.path == "/defi/v2/tokens/new_listing":
            return Reply(200, recorded("birdeye", "birdeye_defi_v2_tokens_new_listing"))
        if request.path == "/defi/token_security":
            return Reply(200, safe if request.param("address") == ONIGIRI else security)
        if request.path == "/token-profiles/latest/v1":
            return Reply(200, [profile])
        if request.path == "/token-boosts/latest/v1":
            return Reply(200, [on_solana(boost, ONIGIRI)])
        return Reply(404, {"error": request.path})

    server.responder = answer
    with override_settings(
        BIRDEYE_API_KEY="test",
        BIRDEYE_BASE_URL=server.url,
        BIRDEYE_RATE_PER_SECOND=1000,
        DEXSCREENER_BASE_URL=server.url,
    ):
        yield server


@pytest.mark.django_db
def test_one_market_poll_stores_snapshots_safety_checks_and_only_the_safe_listing(market_server):
    now = datetime(2024, 9, 18, 18, 30, tzinfo=UTC)

    market.poll_market(now=now)

    trending = {token["address"] for token in recorded("birdeye", "birdeye_defi_token_trending")["data"]["tokens"]}
    assert set(MarketSnapshot.objects.values_list("token__mint", flat=True)) == trending
    snapshot = MarketSnapshot.objects.first()
    assert (snapshot.source, snapshot.price_change_1h_percent) == ("birdeye", Decimal("0.544295841520"))
    assert TokenSafety.objects.get(token__mint=TOPCAT).passed is False  # top-10 holders own 30.4 %
    listing = Signal.objects.get(kind=scoring.NEW_LISTING)
    assert listing.token.mint == ONIGIRI and listing.token.symbol == "Onigiri"
    assert listing.promotion()["amount"] == "100"  # boosted: shown, worth nothing
    assert [reason["source"] for reason in listing.reasons if reason["reason"] == "listing"] == ["birdeye_new_listing"]
    assert Token.objects.filter(mint=TOPCAT).exists()


@pytest.mark.django_db
def test_a_second_poll_within_the_hour_checks_no_listing_again(market_server):
    now = datetime(2024, 9, 18, 18, 30, tzinfo=UTC)
    market.poll_market(now=now)
    asked = len([r for r in market_server.requests if r.path == "/defi/token_security"])

    market.poll_market(now=now.replace(minute=40))

    assert len([r for r in market_server.requests if r.path == "/defi/token_security"]) == asked
    assert Signal.objects.filter(kind=scoring.NEW_LISTING).count() == 1


@pytest.mark.django_db
def test_without_birdeye_momentum_reads_dexscreener_pairs_of_the_tokens_tracked_wallets_traded(server):
    from tests.builders import address, usdc_swap
    from whales.ingestion.ingest import ingest
    from whales.models import ArrivedVia, TrackedWallet

    pair = recorded("dexscreener", "dexscreener_pair_object_solana_raydium_clmm")
    mint = pair["baseToken"]["address"]
    whale = TrackedWallet.objects.create(address=address("fallback whale"))
    now = datetime.now(UTC)
    ingest([usdc_swap(whale.address, mint, "buy", "10", "2500", int(now.timestamp()) - 60)], ArrivedVia.POLL)

    def answer(request: Recorded) -> Reply:
        if request.path.startswith("/tokens/v1/solana/"):
            return Reply(200, [pair])
        return Reply(200, [])  # no profiles, no boosts

    server.responder = answer
    with override_settings(BIRDEYE_API_KEY="", DEXSCREENER_BASE_URL=server.url):
        market.poll_market(now=now)

    snapshot = MarketSnapshot.objects.get(token__mint=mint)
    assert (snapshot.source, snapshot.price_change_1h_percent, snapshot.volume_1h_usd) == (
        "dexscreener",
        Decimal("-31.35"),
        Decimal("28.62"),
    )
    assert not Signal.objects.filter(kind=scoring.MOMENTUM).exists()  # falling, thin: nothing to publish
    assert any(request.path == f"/tokens/v1/solana/{mint}" for request in server.requests)
