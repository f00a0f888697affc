"""What the simulator stages for token signals, without HTTP: new listings, token security, DexScreener
profiles and boosts in the recorded payloads' shapes, and whale episodes that fire every swap kind of
signal within the demo's first five minutes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from signals import scoring
from simulator.market import Market
from simulator.market.episodes import DISTRIBUTION, PUMP, RUG, Episodes
from simulator.payloads import MarketData, listings

NOW = 1_760_000_000
FIXTURES = Path(__file__).parent / "fixtures"


def recorded(provider: str, name: str):
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=11, wallet_count=120, token_count=40, history_days=6, history_txs=8000, now=NOW)


@pytest.fixture(scope="module")
def data(market: Market) -> MarketData:
    return MarketData(market, NOW)


def test_new_listings_have_the_recorded_keys_newest_first(data: MarketData):
    items = listings.birdeye_new_listing(data, 10)["items"]

    expected = list(recorded("birdeye", "birdeye_defi_v2_tokens_new_listing")["data"]["items"][0])
    assert len(items) == 10 and all(list(item) == expected for item in items)
    times = [item["liquidityAddedAt"] for item in items]
    assert times == sorted(times, reverse=True)


def test_token_security_has_the_recorded_keys_in_order(data: MarketData, market: Market):
    report = listings.birdeye_token_security(data, market.tokens[10].mint)

    assert list(report) == list(recorded("birdeye", "birdeye_defi_token_security")["data"])
    assert listings.birdeye_token_security(data, "Unknown1111111111111111111111111111111111") is None


def engine_security(report: dict, liquidity: float) -> scoring.TokenSecurity:
    return scoring.TokenSecurity(
        mint_authority=scoring.Observed(report["ownerAddress"], 0),
        freeze_authority=scoring.Observed(report["freezeAuthority"], 0),
        top10_holder_share=scoring.Observed(Decimal(str(report["top10HolderPercent"])), 0),
        liquidity_usd=scoring.Observed(Decimal(str(liquidity)), 0),
    )


def test_tokens_that_will_be_rugged_fail_the_safety_checks_and_most_others_pass(data: MarketData, market: Market):
    verdicts = {}
    for token in market.tokens:
        if data.asset(token.mint) is None:
            continue
        report = listings.birdeye_token_security(data, token.mint)
        passed, _ = scoring.check_safety(engine_security(report, 1e6))
        verdicts[token.mint] = (token.rug_minute is not None, passed)

    assert all(not passed for rugged, passed in verdicts.values() if rugged)
    others = [passed for rugged, passed in verdicts.values() if not rugged]
    assert sum(others) >= 0.6 * len(others)


def test_profiles_and_boosts_have_the_recorded_keys_and_the_app_keeps_solanas(data: MarketData):
    from providers.dexscreener import _solana_items

    profiles = listings.dexscreener_token_profiles(data)
    boosts = listings.dexscreener_token_boosts(data)

    profile_keys = set(recorded("dexscreener", "dexscreener_token_profiles_latest_v1_element"))
    boost_keys = set(recorded("dexscreener", "dexscreener_token_boosts_latest_v1_element"))
    assert all(set(item) <= profile_keys | {"header", "openGraph"} for item in profiles)
    assert all(set(item) == boost_keys for item in boosts) and len(boosts) == listings.BOOSTED_PER_HOUR
    assert len(_solana_items(profiles, "/token-profiles/latest/v1")) == len(profiles) - 1  # one is on bsc
    assert all(item["amount"] <= item["totalAmount"] for item in boosts)


def test_the_first_five_minutes_of_episodes_fire_accumulation_big_trade_and_distribution(market: Market):
    episodes = Episodes(market, NOW)
    trades = [trade for second in range(0, 301, 5) for trade in episodes.due(NOW + second)]

    kinds = {kind for _, kind, _ in episodes.staged}
    assert {PUMP, DISTRIBUTION} <= kinds
    detector = scoring.Detector()
    events = []
    for number, trade in enumerate(trades):
        if trade.side == "buy":
            usd = Decimal(str(trade.usd))
        else:  # what the whole bag fetches now
            token = market.tokens_by_mint[trade.mint]
            raw = market.holdings[trade.wallet][trade.mint]
            usd = Decimal(str(round(raw / 10**token.decimals * market.usd_price(trade.mint, trade.at), 2)))
        events += detector.process_swap(scoring.Swap(number, trade.at, trade.wallet, trade.mint, trade.side, usd))
    fired = {event.signal.kind for event in events if event.action == "fired"}
    assert {scoring.WHALE_ACCUMULATION, scoring.BIG_TRADE, scoring.WHALE_DISTRIBUTION} <= fired
    assert all(trade.at <= NOW + 300 for trade in trades)


def test_a_pump_episode_buys_what_is_about_to_rise_and_a_rug_episode_what_is_about_to_fall(market: Market):
    episodes = Episodes(market, NOW)
    for second in range(0, 1200, 10):
        episodes.due(NOW + second)

    for when, kind, mint in episodes.staged:
        path, minute = market.paths[mint], market.minute_of(when)
        ahead = [path.at(minute + step) / path.at(minute) for step in range(5, 61, 5)]
        if kind == PUMP:
            assert max(ahead) > 1.0
        elif kind == RUG:
            token = market.tokens_by_mint[mint]
            assert token.rug_minute is not None or min(ahead) < 1.0


# --- over HTTP, read by the app's clients and the market poll ------------------------------------------


@pytest.fixture(scope="module")
def simulator():
    from simulator.server import MarketSimulator, SimulatorConfig

    config = SimulatorConfig(port=0, seed=11, wallets=40, tokens=20, history_days=3, history_txs=3000,
                             swaps_per_minute=0, warm_cache=False, now=NOW, episodes=True,
                             episodes_first_after_seconds=0.5)
    with MarketSimulator(config) as running:
        yield running


def test_the_apps_clients_read_the_simulators_listings_security_profiles_and_boosts(simulator):
    from providers.birdeye import BirdeyeClient
    from providers.dexscreener import DexScreenerClient

    with BirdeyeClient(simulator.url, "sim-key", rate_per_second=0) as birdeye:
        fresh = birdeye.new_listings(limit=5)
        report = birdeye.token_security(fresh[0].address)
    with DexScreenerClient(simulator.url, rate_per_second=0) as dexscreener:
        profiles = dexscreener.latest_token_profiles()
        boosts = dexscreener.latest_token_boosts()

    assert len(fresh) == 5 and all(listing.listed_at is not None for listing in fresh)
    assert report is not None and report.top10_holder_share is not None
    with simulator.lock:
        expected = listings.security_of(simulator.market.tokens_by_mint[fresh[0].address])
    assert (report.mint_authority, report.freeze_authority) == expected[:2]
    assert profiles and all(profile.token_address in simulator.market.tokens_by_mint for profile in profiles)
    assert len(boosts) == listings.BOOSTED_PER_HOUR and all(boost.amount > 0 for boost in boosts)


def test_staged_episodes_are_played_as_live_swaps(simulator):
    import time as clock

    deadline = clock.monotonic() + 60
    while clock.monotonic() < deadline and simulator.stats["episode_transactions"] < 1:
        clock.sleep(0.2)

    with simulator.lock:
        played = [tx for tx in simulator.market.transactions[simulator.market.history_count :] if tx.kind == "swap"]
        staged = list(simulator.episodes.staged)
    assert simulator.stats["episode_transactions"] >= 1  # no live trading here: these are the episode's
    assert staged[0][1] == PUMP
    assert played and all(tx.live and tx.token_mint == staged[0][2] and tx.side == "buy" for tx in played)


@pytest.mark.django_db
def test_a_market_poll_against_the_simulator_stores_its_safe_new_listings_and_momentum(simulator, redis_client):
    from datetime import UTC, datetime

    from django.test import override_settings

    from signals import market as market_poll
    from signals.models import MarketSnapshot, Signal, TokenSafety

    for key in redis_client.scan_iter("aura:cache:birdeye:*"):
        redis_client.delete(key)
    with override_settings(
        BIRDEYE_API_KEY="sim-key",
        BIRDEYE_BASE_URL=simulator.url,
        BIRDEYE_RATE_PER_SECOND=1000,
        DEXSCREENER_BASE_URL=simulator.url,
    ):
        market_poll.poll_market(now=datetime.fromtimestamp(simulator.now(), UTC))

    assert MarketSnapshot.objects.count() >= 10
    safety = dict(TokenSafety.objects.values_list("token__mint", "passed"))
    with simulator.lock:
        rugs = {t.mint for t in simulator.market.tokens if t.rug_minute is not None}
    assert safety and not any(passed for mint, passed in safety.items() if mint in rugs)
    listed = set(Signal.objects.filter(kind=scoring.NEW_LISTING).values_list("token__mint", flat=True))
    assert listed and listed == {mint for mint, passed in safety.items() if passed}
    scores = list(Signal.objects.filter(kind=scoring.MOMENTUM).values_list("score", flat=True))
    assert scores and all(score >= 25 for score in scores)
