"""Token signals in the app, on real PostgreSQL and Redis: booked swaps become stored signals (one
active per token and kind), outcomes and the per-kind scoreboard come from stored prices, and every
page, push and API response shows them with hostile token names escaped."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from aura import realtime
from signals import detection, market, outcomes, scoring
from signals.models import KindScore, Signal, SignalOutcome, TokenSafety
from tests.builders import address, usdc_swap
from whales.ingestion.ingest import ingest
from whales.market.valuation import value_unvalued_swaps
from whales.models import ArrivedVia, Swap, Token, TokenPrice, TrackedWallet, WalletStats

pytestmark = pytest.mark.django_db

HOSTILE_SYMBOL = "<script>alert(1)</script>"
HOSTILE_NAME = '"><img src=x onerror=alert(2)>'
T0 = 1_760_000_000
PEPE = address("signal token")


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def whale(name: str) -> TrackedWallet:
    return TrackedWallet.objects.get_or_create(address=address(name), defaults={"label": name})[0]


def trade(name: str, side: str, usd: str, t: int, mint: str = PEPE) -> list[int]:
    """`name` (a tracked wallet) buys or sells `usd` dollars of `mint` at `t`; the new swaps' ids."""
    wallet = whale(name)
    payload = usdc_swap(wallet.address, mint, side, usd, usd, t, seed=f"{name} {side} {usd} {t} {mint}")
    result = ingest([payload], ArrivedVia.WEBHOOK)
    return [swap.id for swap in result.new_swaps]


def buys(*entries: tuple[str, str, int], mint: str = PEPE) -> list[int]:
    ids = []
    for name, usd, t in entries:
        ids += trade(name, "buy", usd, t, mint)
    return ids


# --- swaps become signals -----------------------------------------------------------------------------


def test_three_tracked_wallets_net_buying_within_thirty_minutes_store_one_accumulation_signal():
    ids = buys(("alice whale", "100", T0), ("bob whale", "100", T0 + 60), ("carol whale", "100", T0 + 120))

    changed = detection.detect_swap_signals(ids)

    signal = Signal.objects.get(kind=scoring.WHALE_ACCUMULATION)
    assert changed == [signal.id]
    assert (signal.token.mint, signal.side, signal.fired_at, signal.score) == (PEPE, "buy", at(T0 + 120), 30)
    assert signal.wallet_count == 3
    assert sorted(item["wallet"] for item in signal.wallets) == sorted(
        address(name) for name in ("alice whale", "bob whale", "carol whale")
    )
    assert signal.active_until == at(T0 + 120 + 6 * 3600)
    assert signal.reasons[0] == {
        "reason": "cluster",
        "side": "buy",
        "wallets": 3,
        "min_wallets": 3,
        "window_seconds": 1800,
        "cooldown_seconds": 21600,
        "net_usd": "300",
    }
    assert signal.version == "v1"


def test_two_wallets_store_nothing():
    ids = buys(("alice whale", "100", T0), ("bob whale", "100", T0 + 60))

    assert detection.detect_swap_signals(ids) == []
    assert not Signal.objects.exists()


def test_a_later_wallet_joins_the_active_signal_in_a_later_batch_instead_of_repeating_it():
    detection.detect_swap_signals(buys(("a", "100", T0), ("b", "100", T0 + 60), ("c", "100", T0 + 120)))

    changed = detection.detect_swap_signals(buys(("d", "2000", T0 + 300)))

    [signal] = Signal.objects.filter(kind=scoring.WHALE_ACCUMULATION)
    assert changed == [signal.id]
    assert (signal.fired_at, signal.updated_at, signal.wallet_count, signal.score) == (
        at(T0 + 120),
        at(T0 + 300),
        4,
        45,
    )


def test_each_swap_of_a_cluster_in_its_own_batch_fires_it_once_and_a_rerun_changes_nothing():
    first = buys(("a", "100", T0))
    second = buys(("b", "100", T0 + 60))
    third = buys(("c", "100", T0 + 120))
    for batch in (first, second, third):
        detection.detect_swap_signals(batch)

    assert detection.detect_swap_signals(third) == []
    assert detection.detect_swap_signals([*first, *second, *third]) == []
    assert Signal.objects.filter(kind=scoring.WHALE_ACCUMULATION).count() == 1


def test_a_big_trade_keeps_its_wallet_and_side_and_grows_with_the_same_wallets_next_big_trade():
    first = trade("big whale", "buy", "12000", T0)
    detection.detect_swap_signals(first)
    detection.detect_swap_signals(trade("big whale", "buy", "15000", T0 + 900))

    [signal] = Signal.objects.filter(kind=scoring.BIG_TRADE)
    assert (signal.wallet, signal.side, signal.score, len(signal.swap_ids)) == (address("big whale"), "buy", 50, 2)
    assert signal.reasons[0]["usd"] == "27000"


def test_each_wallet_carries_its_stored_win_rate_and_cycles_at_the_moment_it_joined():
    ids = buys(("a", "100", T0), ("b", "100", T0 + 60), ("c", "100", T0 + 120))
    for name, rate, cycles in (("a", "0.8", 20), ("b", "0.6", 5)):  # as booking their history would have left them
        WalletStats.objects.filter(wallet=whale(name), window="30d").update(win_rate=Decimal(rate), cycles=cycles)

    detection.detect_swap_signals(ids)

    signal = Signal.objects.get(kind=scoring.WHALE_ACCUMULATION)
    records = {item["wallet"]: (item["win_rate"], item["cycles"]) for item in signal.wallets}
    assert records == {address("a"): ("0.8", 20), address("b"): ("0.6", 5), address("c"): (None, 0)}
    assert signal.score == 30 + 14  # 30 × (0.8 + 0.6 + 0) ÷ 3 = 14


def test_unvalued_swaps_wait_for_a_usd_value():
    ids = buys(("a", "100", T0), ("b", "100", T0 + 60), ("c", "100", T0 + 120))
    Swap.objects.filter(id=ids[-1]).update(usd_value=None)

    assert detection.detect_swap_signals(ids) == []


def test_booking_a_batch_queues_signal_detection_by_name(monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("whales.queue.current_app.send_task", lambda name, args: queued.append((name, args)))

    with django_capture_on_commit_callbacks(execute=True):
        ids = trade("a", "buy", "100", T0)

    assert ("signals.tasks.detect_swap_signals", [ids]) in queued


def test_a_stored_signal_is_pushed_to_the_signal_feed_and_its_tokens_page_escaped(
    django_capture_on_commit_callbacks,
):
    ids = buys(("a", "100", T0), ("b", "100", T0 + 60), ("c", "100", T0 + 120))
    Token.objects.filter(mint=PEPE).update(symbol=HOSTILE_SYMBOL, name=HOSTILE_NAME)
    groups = [realtime.FEED_SIGNALS, realtime.token_group(PEPE)]

    def detect() -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return detection.detect_swap_signals(ids)

    async def heard_while_detecting() -> dict[str, str]:
        layer = get_channel_layer()
        channels = {group: await layer.new_channel() for group in groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)
        await sync_to_async(detect)()
        heard = {
            group: (await asyncio.wait_for(layer.receive(channel), 5))["html"] for group, channel in channels.items()
        }
        for group, channel in channels.items():
            await layer.group_discard(group, channel)
        return heard

    heard = async_to_sync(heard_while_detecting)()

    signal = Signal.objects.get()
    for html in heard.values():
        assert f'id="signal-{signal.id}" hx-swap-oob="true"' in html
        assert '<div id="signal-feed" hx-swap-oob="afterbegin">' in html
        assert "Why</summary>" in html and address("a") in html
        assert HOSTILE_SYMBOL not in html and HOSTILE_NAME not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- outcomes and the scoreboard ----------------------------------------------------------------------


def stored_signal(kind: str, fired: int, price: str | None, side: str = "", mint: str = PEPE) -> Signal:
    token = Token.objects.get_or_create(mint=mint)[0]
    return Signal.objects.create(
        kind=kind,
        token=token,
        side=side,
        fired_at=at(fired),
        updated_at=at(fired),
        active_until=at(fired + 21600),
        score=50,
        price_at_firing=None if price is None else Decimal(price),
    )


def prices(mint: str, points: list[tuple[int, str]]) -> None:
    token = Token.objects.get_or_create(mint=mint)[0]
    TokenPrice.objects.bulk_create(
        TokenPrice(token=token, at=at(t), price_usd=Decimal(price), source="birdeye") for t, price in points
    )


def test_an_outcome_reads_the_stored_prices_at_one_and_twenty_four_hours_and_the_worst_fall():
    signal = stored_signal(scoring.WHALE_ACCUMULATION, T0, "1.00", side="buy")
    prices(
        PEPE,
        [
            (T0 + 600, "1.10"),
            (T0 + 1800, "1.20"),
            (T0 + 3500, "1.08"),
            (T0 + 7200, "0.90"),
            (T0 + 43200, "0.60"),
            (T0 + 86000, "0.80"),
        ],
    )

    assert outcomes.record_outcomes(now=at(T0 + 90000)) == 1

    outcome = SignalOutcome.objects.get(signal=signal)
    assert (outcome.price_1h, outcome.price_24h) == (Decimal("1.08"), Decimal("0.80"))
    assert (outcome.return_1h, outcome.return_24h, outcome.max_drawdown) == (
        Decimal("0.08"),
        Decimal("-0.2"),
        Decimal("0.5"),
    )
    assert (outcome.hit_1h, outcome.hit_24h, outcome.complete) == (True, False, True)


def test_an_outcome_before_twenty_four_hours_is_incomplete_and_measured_again_later():
    signal = stored_signal(scoring.WHALE_DISTRIBUTION, T0, "1.00", side="sell")
    prices(PEPE, [(T0 + 3600, "0.90")])

    outcomes.record_outcomes(now=at(T0 + 4000))
    first = SignalOutcome.objects.get(signal=signal)
    prices(PEPE, [(T0 + 86400, "1.30")])
    outcomes.record_outcomes(now=at(T0 + 90000))
    later = SignalOutcome.objects.get(signal=signal)

    assert (first.hit_1h, first.hit_24h, first.complete) == (True, None, False)
    assert (later.hit_1h, later.hit_24h, later.complete) == (True, False, True)


def test_a_signal_without_a_price_at_firing_takes_the_nearest_stored_one():
    signal = stored_signal(scoring.MOMENTUM, T0, None)
    prices(PEPE, [(T0 - 300, "2.00"), (T0 + 3600, "2.20")])

    outcomes.record_outcomes(now=at(T0 + 4000))

    signal.refresh_from_db()
    assert signal.price_at_firing == Decimal("2.00")
    assert SignalOutcome.objects.get(signal=signal).hit_1h is True


def test_the_scoreboard_gives_each_kind_its_hit_rate_with_n_and_a_wilson_interval_per_period():
    now = T0 + 40 * 86400
    for n in range(10):  # accumulation: 8 of 10 up 10 % at +1 h, fired 20 days ago
        mint = address(f"board {n}")
        stored_signal(scoring.WHALE_ACCUMULATION, now - 20 * 86400 + n, "1", side="buy", mint=mint)
        prices(mint, [(now - 20 * 86400 + n + 3600, "1.1" if n < 8 else "1.0")])
    old = address("board old")
    stored_signal(scoring.WHALE_ACCUMULATION, now - 35 * 86400, "1", side="buy", mint=old)  # only in "all"
    prices(old, [(now - 35 * 86400 + 3600, "0.5")])

    outcomes.record_outcomes(now=at(now))
    outcomes.refresh_scoreboard(now=at(now))

    month = KindScore.objects.get(kind=scoring.WHALE_ACCUMULATION, period="30d")
    assert (month.hits_1h, month.n_1h, month.rate_1h) == (8, 10, Decimal("0.8"))
    assert (round(month.low_1h, 4), round(month.high_1h, 4)) == (Decimal("0.4902"), Decimal("0.9433"))
    assert month.median_return_1h == Decimal("0.1")
    everything = KindScore.objects.get(kind=scoring.WHALE_ACCUMULATION, period="all")
    assert (everything.hits_1h, everything.n_1h) == (8, 11)
    week = KindScore.objects.get(kind=scoring.WHALE_ACCUMULATION, period="7d")
    assert (week.n_1h, week.rate_1h) == (0, None)
    assert KindScore.objects.get(kind=scoring.MOMENTUM, period="30d").n_1h == 0


# --- the market poll ------------------------------------------------------------------------------------


def figures(**values) -> market.MarketFigures:
    return market.MarketFigures(source="birdeye", age_seconds=30, **values)


def test_momentum_of_a_trending_token_is_stored_once_and_updated_while_active():
    now = at(T0)
    strong = figures(
        price_change_1h_percent=Decimal(10),
        price_change_24h_percent=Decimal(25),
        volume_1h_usd=Decimal(30000),
        volume_24h_usd=Decimal(240000),
        liquidity_usd=Decimal(80000),
    )

    market.judge_momentum(PEPE, "PEPE", "Pepe", strong, None, now)
    market.judge_momentum(PEPE, "PEPE", "Pepe", strong, None, now + timedelta(minutes=1))
    stronger = replace(strong, liquidity_usd=Decimal(300000))
    market.judge_momentum(PEPE, "PEPE", "Pepe", stronger, None, now + timedelta(minutes=2))

    [signal] = Signal.objects.filter(kind=scoring.MOMENTUM)
    assert signal.score == 46  # SIGNALS.md example 5 without holders and net flow (41), liquidity then 15 (+5)
    assert signal.fired_at == now and signal.updated_at == now + timedelta(minutes=2)
    components = {part["component"]: part for part in signal.score_reasons()}
    assert components["price_change_1h"]["age_seconds"] == 30
    assert components["tracked_net_flow"]["value"] == "0"
    assert Token.objects.get(mint=PEPE).symbol == "PEPE"


def test_a_weak_token_publishes_no_momentum_but_keeps_its_snapshot():
    market.judge_momentum(PEPE, None, None, figures(price_change_1h_percent=Decimal(1)), None, at(T0))

    assert not Signal.objects.exists()
    assert Token.objects.get(mint=PEPE).market_snapshots.count() == 1


def safe(share: str = "0.15", liquidity: str = "60000", mint_authority: str | None = None) -> scoring.TokenSecurity:
    return scoring.TokenSecurity(
        mint_authority=scoring.Observed(mint_authority, 0),
        freeze_authority=scoring.Observed(None, 0),
        top10_holder_share=scoring.Observed(Decimal(share), 0),
        liquidity_usd=scoring.Observed(Decimal(liquidity), 0),
    )


def test_a_new_listing_that_passes_every_safety_check_is_a_signal_and_its_boost_is_paid_promotion():
    boost = scoring.Promotion(Decimal(100), Decimal(500), 0)

    market.judge_new_listing(PEPE, "NEW", "New", T0 - 600, "birdeye_new_listing", safe(), boost, at(T0))

    signal = Signal.objects.get(kind=scoring.NEW_LISTING)
    assert signal.score == 75
    assert signal.promotion() == {
        "reason": "paid_promotion",
        "source": "dexscreener_boost",
        "amount": "100",
        "total_amount": "500",
        "age_seconds": 0,
        "points": 0,
    }
    assert TokenSafety.objects.get(token=signal.token).passed is True


def test_a_new_listing_with_a_mint_authority_is_no_signal_but_its_failed_checks_are_kept():
    market.judge_new_listing(
        PEPE, "RUG", "Rug", T0, "dexscreener_profile", safe(mint_authority=address("minter")), None, at(T0)
    )

    assert not Signal.objects.exists()
    safety = TokenSafety.objects.get(token__mint=PEPE)
    assert safety.passed is False and safety.mint_authority == address("minter")
    assert [check["check"] for check in safety.checks if not check["passed"]] == ["mint_authority"]


# --- pages and API ------------------------------------------------------------------------------------


@pytest.fixture
def hostile_signal() -> Signal:
    detection.detect_swap_signals(buys(("a", "100", T0), ("b", "100", T0 + 60), ("c", "100", T0 + 120)))
    Token.objects.filter(mint=PEPE).update(symbol=HOSTILE_SYMBOL, name=HOSTILE_NAME)
    return Signal.objects.get()


def test_the_signals_page_shows_each_signal_with_its_reasons_and_escapes_token_names(client, alice, hostile_signal):
    client.force_login(alice)

    html = client.get("/signals/").content.decode()

    assert f'id="signal-{hostile_signal.id}"' in html
    assert "3 tracked wallets net-buying within 30 min" in html
    assert f'href="/wallets/{address("a")}/"' in html and f'href="/tokens/{PEPE}/"' in html
    assert "no outcome of this kind in 30 d yet" in html
    assert HOSTILE_SYMBOL not in html and HOSTILE_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_signals_page_filters_by_kind_score_and_token(client, alice, hostile_signal):
    client.force_login(alice)

    def shown(query: str) -> bool:
        return f'id="signal-{hostile_signal.id}"' in client.get(f"/signals/?{query}").content.decode()

    assert shown("kind=whale_accumulation") and not shown("kind=big_trade")
    assert shown("min_score=30") and not shown("min_score=31")
    assert shown(f"token={PEPE}") and not shown(f"token={address('other')}")
    assert shown("min_score=abc&kind=nonsense")  # nonsense filters are ignored


def test_the_track_record_of_a_kind_shows_beside_its_signals(client, alice, hostile_signal):
    KindScore.objects.create(
        kind=scoring.WHALE_ACCUMULATION, period="30d", signals=212, hits_24h=87, n_24h=212, rate_24h=Decimal("0.41")
    )
    client.force_login(alice)

    html = client.get("/signals/").content.decode()

    assert "this kind was right 41 % of 212 times in 30 d (at +24 h)" in html


def test_the_dashboard_and_the_token_page_show_signals_and_safety_checks_escaped(client, alice, hostile_signal):
    TokenSafety.objects.create(
        token=hostile_signal.token,
        passed=False,
        checks=[
            {
                "reason": "safety",
                "check": "mint_authority",
                "passed": False,
                "value": HOSTILE_NAME,
                "rule": "absent",
                "threshold": None,
                "age_seconds": 0,
                "status": "ok",
            }
        ],
    )
    client.force_login(alice)

    dashboard = client.get("/").content.decode()
    token_page = client.get(f"/tokens/{PEPE}/").content.decode()

    for html in (dashboard, token_page):
        assert f'id="signal-{hostile_signal.id}"' in html
        assert HOSTILE_SYMBOL not in html and HOSTILE_NAME not in html
    assert "feed.signals" in dashboard
    assert "Safety checks: not all passed" in token_page and "✗ mint_authority" in token_page


def test_the_api_lists_filters_and_details_signals_with_reasons_and_outcome(client, alice, hostile_signal):
    SignalOutcome.objects.create(
        signal=hostile_signal,
        kind=hostile_signal.kind,
        fired_at=hostile_signal.fired_at,
        price_1h=Decimal("1.1"),
        return_1h=Decimal("0.1"),
        hit_1h=True,
    )
    client.force_login(alice)

    listed = client.get("/api/v1/signals/?kind=whale_accumulation&min_score=30").json()
    none = client.get("/api/v1/signals/?kind=momentum").json()
    detail = client.get(f"/api/v1/signals/{hostile_signal.id}/").json()

    assert [item["id"] for item in listed["results"]] == [hostile_signal.id] and none["results"] == []
    assert listed["results"][0]["token"] == {"mint": PEPE, "symbol": HOSTILE_SYMBOL, "name": HOSTILE_NAME}
    assert listed["results"][0]["wallet_count"] == 3 and "reasons" not in listed["results"][0]
    assert detail["reasons"][0]["reason"] == "cluster"
    assert detail["outcome"]["hit_1h"] is True and detail["outcome"]["return_1h"] == "0.100000000000"


def test_the_api_scoreboard_lists_each_kind_per_period(client, alice):
    outcomes.refresh_scoreboard(now=at(T0))
    client.force_login(alice)

    board = client.get("/api/v1/signals/scoreboard/?period=30d").json()

    assert [row["kind"] for row in board] == sorted(scoring.KINDS)
    assert all(row["n_1h"] == 0 and row["rate_1h"] is None for row in board)


def test_the_api_refuses_anonymous_readers(client):
    assert client.get("/api/v1/signals/").status_code == 401


def test_swaps_valued_after_they_arrived_are_queued_for_signals_then(monkeypatch, django_capture_on_commit_callbacks):
    ids = buys(("a", "100", T0))
    Swap.objects.filter(id__in=ids).update(usd_value=None, usd_price=None)
    queued = []
    monkeypatch.setattr("whales.queue.current_app.send_task", lambda name, args: queued.append((name, args)))

    with django_capture_on_commit_callbacks(execute=True):
        assert value_unvalued_swaps() == 1

    assert ("signals.tasks.detect_swap_signals", [ids]) in queued
