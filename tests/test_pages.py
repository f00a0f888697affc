"""The dashboard pages: leaderboard sorting/filters/pagination, wallet and token pages, the feed,
escaping of chain-supplied names, and query counts pinned (no N+1)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.builders import address, usdc_swap
from whales import fragments, views
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, Swap, Token, TokenPrice, TrackedWallet, WalletStats
from whales.selectors import FEED_PAGE_SIZE
from whales.views import latency_last_hour
from whales.wallets import set_active

pytestmark = pytest.mark.django_db

NOW = int(timezone.now().timestamp())
HOSTILE_SYMBOL = "<script>alert(1)</script>"
HOSTILE_NAME = '"><img src=x onerror=alert(2)>'
# Queries a page takes, whatever the number of wallets, swaps and positions behind it (the user
# included — its session is read from Redis — and the two of every signed-in page's alert settings
# and notices). The leaderboard's
# count includes the tag list read once into its cache, and its signals panel's two.
LEADERBOARD_QUERIES = 10
WALLET_PAGE_QUERIES = 12
TOKEN_PAGE_QUERIES = 11
FEED_PAGE_QUERIES = 5
# A search reads the tokens it may name (their symbol exactly, then its start) and counts the wallets
# it finds in the query that reads the page's ids, not in a count of its own.
LEADERBOARD_SEARCH_QUERIES = 11


def trade_round_trips(label: str, wins: int, losses: int, tags: list[str] | None = None) -> TrackedWallet:
    wallet = TrackedWallet.objects.create(address=address(label), label=label, tags=tags or [])
    mint = address(f"{label} token")
    txs = []
    for n in range(wins + losses):
        start = NOW - 20 * 3600 + n * 1200
        exit_usdc = "12" if n < wins else "8"
        txs += [
            usdc_swap(wallet.address, mint, "buy", "100", "10", start),
            usdc_swap(wallet.address, mint, "sell", "100", exit_usdc, start + 600),
        ]
    ingest(txs, ArrivedVia.WEBHOOK)
    return wallet


def leaderboard_labels(response) -> list[str]:
    return [stats.wallet.label for stats in response.context["page"]]


def test_the_leaderboard_sorts_by_total_pnl_by_default(admin_client):
    trade_round_trips("small winner", 1, 0)
    trade_round_trips("big winner", 6, 0)
    trade_round_trips("loser", 0, 3)

    response = admin_client.get("/")

    assert leaderboard_labels(response) == ["big winner", "small winner", "loser"]
    assert response.context["query"].window == "7d"


def test_sorting_by_win_rate_ranks_wallets_with_enough_cycles_first(admin_client):
    trade_round_trips("lucky one-for-one", 1, 0)
    trade_round_trips("steady five of six", 5, 1)
    trade_round_trips("coin flipper", 3, 3)

    ranked = admin_client.get("/", {"sort": "win_rate"})
    ascending = admin_client.get("/", {"sort": "win_rate", "dir": "asc"})

    assert leaderboard_labels(ranked) == ["steady five of six", "coin flipper", "lucky one-for-one"]
    assert leaderboard_labels(ascending)[:2] == ["coin flipper", "steady five of six"]


def test_the_leaderboard_filters_by_tag_minimum_cycles_and_search(admin_client):
    trade_round_trips("Sniper Sam", 2, 0, tags=["sniper"])
    trade_round_trips("Fund Fiona", 4, 2, tags=["fund"])

    assert leaderboard_labels(admin_client.get("/", {"tag": "fund"})) == ["Fund Fiona"]
    assert leaderboard_labels(admin_client.get("/", {"min_cycles": "5"})) == ["Fund Fiona"]
    assert leaderboard_labels(admin_client.get("/", {"q": "sam"})) == ["Sniper Sam"]
    empty = admin_client.get("/", {"q": "nobody"})
    assert "No wallet matches these filters" in empty.content.decode()


def test_the_leaderboard_paginates_and_its_query_count_does_not_grow_with_wallets(admin_client):
    for n in range(3):
        trade_round_trips(f"wallet {n}", 1, 0)
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/")
    for n in range(3, 60):
        trade_round_trips(f"wallet {n}", 1, 0)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get("/")

    assert len(many) == len(few)
    assert len(response.context["page"]) == 50
    assert response.context["page"].paginator.num_pages == 2
    second = admin_client.get("/", {"page": "2"})
    assert len(second.context["page"]) == 10


def test_an_htmx_request_for_the_leaderboard_gets_just_the_table(admin_client):
    trade_round_trips("only one", 1, 0)

    response = admin_client.get("/", {"sort": "cycles"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="leaderboard")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="leaderboard"')
    assert "<html" not in html


def test_the_empty_leaderboard_says_how_to_add_wallets(admin_client):
    html = admin_client.get("/").content.decode()
    assert "No wallets tracked yet" in html
    assert "/admin/whales/trackedwallet/" in html


def test_the_wallet_page_query_count_does_not_grow_with_its_history(admin_client):
    wallet = trade_round_trips("busy", 2, 1)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(f"/wallets/{wallet.address}/")
    more = [usdc_swap(wallet.address, address(f"t{n}"), "buy", "5", "1", NOW - n * 60) for n in range(30)]
    ingest(more, ArrivedVia.WEBHOOK)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(f"/wallets/{wallet.address}/")

    assert len(many) == len(few)
    assert len(response.context["positions"]) == 30
    html = response.content.decode()
    assert 'id="wallet-stats"' in html and 'id="positions"' in html and 'id="swap-feed"' in html
    assert f'data-chart="/wallets/{wallet.address}/chart/"' in html


def test_the_wallet_chart_is_the_cumulative_realized_pnl_one_point_per_sell(admin_client):
    wallet = trade_round_trips("charted", 2, 1)  # sells of +2, +2, -2 USDC, 20 minutes apart

    series = admin_client.get(f"/wallets/{wallet.address}/chart/").json()

    first_sell = NOW - 20 * 3600 + 600
    assert series == {"t": [first_sell, first_sell + 1200, first_sell + 2400], "v": [2.0, 4.0, 2.0]}


def test_a_long_history_charts_in_bounded_buckets_and_the_page_does_not_grow(admin_client):
    wallet = trade_round_trips("chartist", 1, 0)
    mint = address("chartist token")

    def trade(minutes: range) -> None:
        txs = []
        for n in minutes:  # two sells a round trip, a win of 0.5 USDC each
            at = NOW - 10 * 3600 + n * 120
            txs += [
                usdc_swap(wallet.address, mint, "buy", "10", "1", at),
                usdc_swap(wallet.address, mint, "sell", "5", "1", at + 30),
                usdc_swap(wallet.address, mint, "sell", "5", "1", at + 60),
            ]
        ingest(txs, ArrivedVia.WEBHOOK)

    trade(range(0, 60))  # enough to fill the first page of swaps and of cycles
    before = len(admin_client.get(f"/wallets/{wallet.address}/").content)
    trade(range(60, 300))  # 600 sells in all: more than the chart's points
    series = admin_client.get(f"/wallets/{wallet.address}/chart/").json()
    after = len(admin_client.get(f"/wallets/{wallet.address}/").content)

    assert 0 < len(series["t"]) <= views.CHART_POINTS
    assert series["t"] == sorted(series["t"]) and series["t"][-1] == NOW - 10 * 3600 + 299 * 120 + 60
    assert series["v"][-1] == 2.0 + 600 * 0.5  # the last point is the whole realized P&L
    assert abs(after - before) < 1000  # same rows shown, other figures; 600 points inlined would be ~15 KB


def test_the_token_chart_samples_seven_days_of_prices_into_bounded_buckets(admin_client):
    token = Token.objects.create(mint=address("minute token"), symbol="MIN")
    now = timezone.now()
    TokenPrice.objects.bulk_create(
        TokenPrice(token=token, at=now - timedelta(minutes=minute), price_usd=Decimal(minute))
        for minute in range(1, 8 * 24 * 60, 5)  # a point every 5 minutes over 8 days
    )

    series = admin_client.get(f"/tokens/{token.mint}/chart/").json()
    html = admin_client.get(f"/tokens/{token.mint}/").content.decode()

    assert 400 < len(series["t"]) <= views.CHART_POINTS
    assert min(series["t"]) >= (now - timedelta(days=7)).timestamp() - 1
    assert series["v"][-1] == 1.0  # the newest price, a minute ago
    assert f'data-chart="/tokens/{token.mint}/chart/"' in html and "last 7 days" in html


def test_chain_supplied_names_are_escaped_everywhere(admin_client):
    wallet = trade_round_trips("victim", 1, 0)
    mint = address("victim token")
    Token.objects.filter(mint=mint).update(symbol=HOSTILE_SYMBOL, name=HOSTILE_NAME)
    ingest([usdc_swap(wallet.address, mint, "buy", "1", "1", NOW - 30)], ArrivedVia.WEBHOOK)
    swap = Swap.objects.select_related("wallet", "token").latest("id")

    pages = [
        admin_client.get("/").content.decode(),
        admin_client.get(f"/wallets/{wallet.address}/").content.decode(),
        admin_client.get(f"/tokens/{mint}/").content.decode(),
        fragments.swap_push(list(fragments.swap_rows([swap]).values())),
        fragments.wallet_positions(wallet, oob=True),
    ]
    for html in pages:
        assert HOSTILE_SYMBOL not in html
        assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2]


def test_feed_catch_up_returns_only_live_swaps_after_the_newest_the_page_holds(admin_client):
    now = int(timezone.now().timestamp())  # not the module's NOW: a poll is news for 10 minutes of the clock
    wallet = TrackedWallet.objects.create(address=address("feeder"), label="feeder")
    mint = address("feed token")
    ingest([usdc_swap(wallet.address, mint, "buy", "1", "1", now - 300)], ArrivedVia.WEBHOOK)
    held = Swap.objects.get().id
    ingest([usdc_swap(wallet.address, mint, "buy", "2", "2", now - 200)], ArrivedVia.POLL)
    ingest([usdc_swap(wallet.address, mint, "buy", "3", "3", now - 9000)], ArrivedVia.BACKFILL)
    ingest([usdc_swap(wallet.address, mint, "buy", "4", "4", now - 3600)], ArrivedVia.POLL)  # found late

    html = admin_client.get("/feed/", {"after": held}).content.decode()

    live_after = Swap.objects.get(arrived_via=ArrivedVia.POLL, token_amount=2).id
    assert html.count('class="feed-row') == 1
    assert f'id="swap-{live_after}"' in html
    assert 'hx-swap-oob="afterbegin"' in html
    assert admin_client.get("/feed/", {"after": live_after}).content == b""


def test_older_swaps_load_page_by_page(admin_client):
    wallet = TrackedWallet.objects.create(address=address("history"), label="history")
    ingest(
        [usdc_swap(wallet.address, address("h"), "buy", str(n + 1), "1", NOW - n * 60) for n in range(60)],
        ArrivedVia.BACKFILL,
    )
    newest_fifty = list(Swap.objects.order_by("-block_time", "-id").values_list("id", flat=True)[:50])

    html = admin_client.get(
        "/feed/", {"before": newest_fifty[-1], "wallet": wallet.address}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert html.count('class="feed-row') == 10
    assert "That is the whole history." in html
    assert admin_client.get("/feed/", {"wallet": address("unknown")}).status_code == 404


def history_of(label: str, count: int) -> tuple[TrackedWallet, list[int]]:
    """A wallet with `count` swaps a minute apart; their ids, newest first."""
    wallet = TrackedWallet.objects.create(address=address(label), label=label)
    mint = address(f"{label} token")
    ingest(
        [usdc_swap(wallet.address, mint, "buy", str(n + 1), "1", NOW - n * 60) for n in range(count)],
        ArrivedVia.BACKFILL,
    )
    return wallet, list(Swap.objects.order_by("-block_time", "-id").values_list("id", flat=True))


def load_older_link(html: str) -> dict[str, str]:
    """The attributes of the page's one "Load older swaps" link (a bare attribute, as `hidden`, maps to "")."""
    (tag,) = re.findall(r'<a class="link more"[^>]*>', html)
    return {name: unescape(value) for name, value in re.findall(r'\s([\w-]+)(?:="([^"]*)")?', tag)}


def test_load_older_is_a_real_link_that_opens_a_whole_page_of_older_swaps_without_javascript(admin_client):
    wallet, ids = history_of("paged back", FEED_PAGE_SIZE + 10)
    link = load_older_link(admin_client.get(f"/wallets/{wallet.address}/").content.decode())

    response = admin_client.get(link["href"])

    html = response.content.decode()
    assert link["href"] == link["hx-get"] == f"/feed/?wallet={wallet.address}&before={ids[FEED_PAGE_SIZE - 1]}"
    assert link["data-page-size"] == str(FEED_PAGE_SIZE)
    assert response.status_code == 200 and html.lstrip().startswith("<!doctype html>")
    assert "<title>Older swaps · AURA</title>" in html and f'href="/wallets/{wallet.address}/"' in html
    assert re.findall(r'id="swap-(\d+)"', html) == [str(swap_id) for swap_id in ids[FEED_PAGE_SIZE:]]
    assert "hx-swap-oob" not in html
    assert "That is the whole history." in html and "hidden>Load older swaps" in html
    assert "HX-Request" in response["Vary"]


def test_load_older_under_htmx_answers_the_rows_and_the_next_link_only(admin_client):
    wallet, ids = history_of("paged by htmx", 2 * FEED_PAGE_SIZE + 1)
    first = load_older_link(admin_client.get(f"/wallets/{wallet.address}/").content.decode())

    response = admin_client.get(first["hx-get"], HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "<html" not in html and "<title>" not in html
    assert html.count('<div hx-swap-oob="beforeend:#swap-feed">') == FEED_PAGE_SIZE
    second_page = ids[FEED_PAGE_SIZE : 2 * FEED_PAGE_SIZE]
    assert re.findall(r'id="swap-(\d+)"', html) == [str(swap_id) for swap_id in second_page]
    following = load_older_link(html)
    assert following["href"] == following["hx-get"] == (
        f"/feed/?wallet={wallet.address}&before={ids[2 * FEED_PAGE_SIZE - 1]}"
    )
    assert "hidden" not in following and "That is the whole history." not in html
    assert "HX-Request" in response["Vary"]


def test_a_feed_shorter_than_a_page_renders_its_load_older_link_hidden(admin_client):
    wallet, _ = history_of("short history", 3)

    link = load_older_link(admin_client.get(f"/wallets/{wallet.address}/").content.decode())

    assert "hidden" in link


def test_the_status_page_is_for_staff_and_shows_push_latency(client, admin_client, carol):
    wallet = trade_round_trips("timed", 1, 0)
    now = timezone.now()
    Swap.objects.filter(wallet=wallet).update(
        block_time=now - timedelta(seconds=2), ingested_at=now - timedelta(seconds=1), pushed_at=now
    )
    client.force_login(carol)

    assert client.get("/status/").status_code == 403
    response = admin_client.get("/status/")
    assert response.status_code == 200
    latency = latency_last_hour()
    assert latency["count"] == 2
    assert latency["ingest_to_push_p95"] == pytest.approx(1.0, abs=0.01)
    assert latency["block_to_push_p50"] == pytest.approx(2.0, abs=0.01)
    assert 'data-metric="ingest_to_push_p95">1.000 s' in response.content.decode()


def test_pages_need_a_login(client):
    wallet = TrackedWallet.objects.create(address=address("private"))
    for url in ["/", f"/wallets/{wallet.address}/", "/feed/", "/status/", "/settings/alerts/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_stats_rows_exist_for_every_window(admin_client):
    wallet = trade_round_trips("windows", 1, 0)
    assert sorted(WalletStats.objects.filter(wallet=wallet).values_list("window", flat=True)) == [
        "24h",
        "30d",
        "7d",
        "all",
    ]
    assert WalletStats.objects.get(wallet=wallet, window="all").total_pnl == Decimal("2")


def test_following_a_wallet_puts_it_and_its_swaps_on_the_following_page(admin_client, admin_user):
    followed = trade_round_trips("followed whale", 1, 0)
    trade_round_trips("someone else", 2, 0)
    assert "You follow no wallet yet" in admin_client.get("/following/").content.decode()

    response = admin_client.post(f"/wallets/{followed.address}/follow/", {"follow": "1"}, HTTP_HX_REQUEST="true")

    assert "Following ✓" in response.content.decode()
    page = admin_client.get("/following/")
    assert [s.wallet.label for s in page.context["stats_rows"]] == ["followed whale"]
    assert {s.wallet.label for s in page.context["swaps"]} == {"followed whale"}
    assert 'ws-connect="/ws/live/?groups=follows,leaderboard.7d"' in page.content.decode()
    feed = admin_client.get("/feed/", {"following": "1", "after": "0"}).content.decode()
    assert feed.count('class="feed-row') == 2
    admin_client.post(f"/wallets/{followed.address}/follow/", {"follow": "0"})
    assert list(admin_client.get("/following/").context["stats_rows"]) == []


def test_alert_settings_are_saved_and_reach_every_page(admin_client):
    response = admin_client.post(
        "/settings/alerts/", {"desktop_notifications": "on", "sound": "on", "min_usd": "2500", "scope": "all"}
    )
    assert response.status_code == 302
    html = admin_client.get("/").content.decode()
    assert 'data-alert-min-usd="2500.00"' in html
    assert 'data-alert-desktop="1"' in html and 'data-alert-sound="1"' in html

    refused = admin_client.post("/settings/alerts/", {"min_usd": "-5", "scope": "all"})
    assert "Ensure this value is greater than or equal to 0" in refused.content.decode()


def test_a_deactivated_wallet_leaves_the_leaderboard_and_comes_back_when_activated(admin_client):
    quiet = trade_round_trips("going quiet", 1, 0)
    trade_round_trips("staying", 1, 0)

    set_active([quiet.id], False)
    assert leaderboard_labels(admin_client.get("/")) == ["staying"]

    admin_client.post(
        f"/admin/whales/trackedwallet/{quiet.id}/change/",
        {"address": quiet.address, "label": quiet.label, "tags": "", "notes": "", "is_active": "on"},
    )
    assert sorted(leaderboard_labels(admin_client.get("/"))) == ["going quiet", "staying"]


def test_a_positions_lots_load_when_its_row_is_opened(admin_client):
    wallet = TrackedWallet.objects.create(address=address("lots"), label="lots")
    mint = address("lot token")
    ingest(
        [usdc_swap(wallet.address, mint, "buy", str(n), str(n), NOW - 3600 + n * 60) for n in (1, 2, 3)],
        ArrivedVia.WEBHOOK,
    )
    pushed = fragments.wallet_positions(wallet, oob=True)
    position = wallet.positions.get()

    assert "<summary>3</summary>" in pushed and "acquired" not in pushed  # the lots stay out of pushes
    assert f'hx-get="/positions/{position.id}/lots/"' in pushed
    html = admin_client.get(f"/positions/{position.id}/lots/").content.decode()
    assert html.count("<tr><td>") == 3 and "$1.00" in html and "$3.00" in html


def test_the_following_page_sorts_marks_its_window_and_unfollows_from_a_row(admin_client, admin_user):
    for label, wins in (("steady", 1), ("star", 3)):
        wallet = trade_round_trips(label, wins, 0)
        admin_client.post(f"/wallets/{wallet.address}/follow/", {"follow": "1"})

    by_total = admin_client.get("/following/")
    by_name = admin_client.get("/following/", {"sort": "wallet", "window": "30d"})

    assert [s.wallet.label for s in by_total.context["stats_rows"]] == ["star", "steady"]
    assert [s.wallet.label for s in by_name.context["stats_rows"]] == sorted(["star", "steady"])
    html = by_name.content.decode()
    assert '<a href="?window=30d&amp;sort=wallet&amp;dir=asc" aria-current="page">30 days</a>' in html
    assert 'aria-sort="ascending"' in html
    steady = TrackedWallet.objects.get(label="steady")
    unfollow = admin_client.post(f"/wallets/{steady.address}/follow/", {"follow": "0", "next": "following"})
    assert unfollow.status_code == 302 and unfollow["Location"] == "/following/"
    assert [s.wallet.label for s in admin_client.get("/following/").context["stats_rows"]] == ["star"]


@override_settings(POLL_ACTIVE_SECONDS=120, POLL_DORMANT_SECONDS=1800, POLL_CREDITS_PER_DAY=21_600)
def test_the_status_page_shows_the_polling_plan_stretched_to_the_budget_and_says_so_loudly(admin_client):
    for n in range(3):  # three wallets that traded today: 3 × 720 polls a day × 100 credits = 216,000
        TrackedWallet.objects.create(address=address(f"busy {n}"), last_swap_at=timezone.now())

    html = admin_client.get("/status/").content.decode()

    plan = '<td class="num" id="poll-plan">21,600 of a 21,600 budget <span class="marker">stretched ×10.0</span>'
    assert plan in html
    assert 'id="stretch-alert"' in html and "216,000 credits a day, 10× the 21,600 budget" in html
    assert "active wallets are polled every 20 min and dormant ones every 5 h" in html


def test_the_status_page_warns_when_helius_spending_passes_the_budget(admin_client):
    import redis as redis_lib
    from django.conf import settings

    from providers.http import CreditMeter

    meter = CreditMeter(redis_lib.Redis.from_url(settings.REDIS_URL), "aura:credits")
    meter.add("helius", 500)
    spent = meter.spent("helius", timezone.now().date())

    with override_settings(POLL_CREDITS_PER_DAY=spent - 100):
        html = admin_client.get("/status/").content.decode()

    assert 'id="budget-alert"' in html and "Helius spending is over the polling budget" in html


def test_the_token_page_lists_holders_first_and_sold_out_wallets_apart_sortable_with_flow_colours(admin_client):
    mint = address("held token")
    holders = {}
    for label, bought, sold in (("big bag", "300", "0"), ("small bag", "100", "50"), ("gone", "200", "200")):
        wallet = TrackedWallet.objects.create(address=address(label), label=label)
        trades = [usdc_swap(wallet.address, mint, "buy", bought, bought, NOW - 900)]
        if sold != "0":
            trades.append(usdc_swap(wallet.address, mint, "sell", sold, str(int(sold) * 2), NOW - 600))
        ingest(trades, ArrivedVia.WEBHOOK)
        holders[label] = wallet

    by_holdings = admin_client.get(f"/tokens/{mint}/")
    by_flow = admin_client.get(f"/tokens/{mint}/", {"sort": "flow", "dir": "asc"})

    assert [p.wallet.label for p in by_holdings.context["holders"]] == ["big bag", "small bag"]
    assert [p.wallet.label for p in by_holdings.context["sold_out"]] == ["gone"]
    assert [p.wallet.label for p in by_flow.context["holders"]] == ["small bag", "big bag"]  # $0 net, then $300 in
    html = by_holdings.content.decode()
    assert '<td class="num flow-in" data-col="flow">+$300.00</td>' in html
    assert '<td class="num flow-out" data-col="flow">-$200.00</td>' in html  # bought 200, sold for 400: out
    assert "1 tracked wallet sold out" in html
    assert 'aria-sort="descending"' in html


def test_the_feed_narrows_by_side_size_and_token_symbol_and_catch_up_keeps_the_filters(admin_client):
    wallet = TrackedWallet.objects.create(address=address("narrowed"), label="narrowed")
    bonk, wif = address("bonk mint"), address("wif mint")
    ingest(
        [
            usdc_swap(wallet.address, bonk, "buy", "1", "5000", NOW - 300),
            usdc_swap(wallet.address, bonk, "sell", "1", "50", NOW - 200),
            usdc_swap(wallet.address, wif, "buy", "1", "9000", NOW - 100),
        ],
        ArrivedVia.WEBHOOK,
    )
    Token.objects.filter(mint=bonk).update(symbol="BONK")

    panel = admin_client.get("/feed/", {"view": "panel", "side": "buy", "min_usd": "1000", "symbol": "bonk"})
    html = panel.content.decode()

    assert [s.token.mint for s in panel.context["swaps"]] == [bonk] and panel.context["swaps"][0].side == "buy"
    assert 'data-feed-url="/feed/?side=buy&amp;min_usd=1000.00&amp;symbol=bonk"' in html
    assert 'data-side="buy" data-min-usd="1000.00" data-symbol="bonk"' in html
    caught_up = admin_client.get("/feed/", {"after": "0", "side": "sell"}).content.decode()
    assert caught_up.count('class="feed-row') == 1 and "sell" in caught_up
    nonsense = admin_client.get("/", {"side": "both", "min_usd": "-5"})  # ignored, not an empty feed
    assert len(nonsense.context["swaps"]) == 3


def test_the_leaderboard_search_finds_wallets_by_a_token_symbol_they_traded(admin_client):
    bonk_trader = trade_round_trips("bonk trader", 1, 0)
    trade_round_trips("someone else", 1, 0)
    Token.objects.filter(positions__wallet=bonk_trader).update(symbol="BONK", name="Bonk")

    response = admin_client.get("/", {"q": "bonk"})

    assert leaderboard_labels(response) == ["bonk trader"]
    assert [t.symbol for t in response.context["matching_tokens"]] == ["BONK"]
    assert "Tokens matching" in response.content.decode()
    assert leaderboard_labels(admin_client.get("/", {"q": "BON"})) == ["bonk trader"]  # the start of a symbol


def test_the_tag_filter_lists_tags_from_the_cache_and_a_wallet_saved_with_new_tags_shows_at_once(admin_client):
    wallet = trade_round_trips("tagged", 1, 0, tags=["fund"])
    assert admin_client.get("/").context["tags"] == ["fund"]

    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/")
    assert not any("unnest(tags)" in query["sql"] for query in queries)

    wallet.tags = ["fund", "sniper"]
    wallet.save(update_fields=["tags"])
    assert admin_client.get("/").context["tags"] == ["fund", "sniper"]
    wallet.delete()
    assert admin_client.get("/").context["tags"] == []


# --- query counts, pinned: a page's queries are the same number whatever the data behind it ------------


def busy_market(wallets: int, swaps_each: int) -> tuple[list[TrackedWallet], str]:
    """`wallets` wallets each trading one shared token `swaps_each` times (and a token of their own)."""
    shared = address("shared token")
    traders = []
    for n in range(wallets):
        wallet = trade_round_trips(f"trader {n}", 1, 0)
        txs = [usdc_swap(wallet.address, shared, "buy", "5", "1", NOW - 3600 - k * 60) for k in range(swaps_each)]
        ingest(txs, ArrivedVia.WEBHOOK)
        traders.append(wallet)
    return traders, shared


@pytest.mark.parametrize("size", [(2, 1), (12, 6)])
def test_the_leaderboard_page_takes_a_fixed_number_of_queries(admin_client, django_assert_num_queries, size):
    busy_market(*size)
    with django_assert_num_queries(LEADERBOARD_QUERIES):
        assert admin_client.get("/").status_code == 200


@pytest.mark.parametrize("size", [(2, 1), (12, 6)])
def test_a_leaderboard_search_takes_a_fixed_number_of_queries(admin_client, django_assert_num_queries, size):
    busy_market(*size)
    with django_assert_num_queries(LEADERBOARD_SEARCH_QUERIES):
        response = admin_client.get("/", {"q": "trader"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == size[0]


@pytest.mark.parametrize("size", [(2, 1), (12, 6)])
def test_the_wallet_page_takes_a_fixed_number_of_queries(admin_client, django_assert_num_queries, size):
    traders, _ = busy_market(*size)
    with django_assert_num_queries(WALLET_PAGE_QUERIES):
        assert admin_client.get(f"/wallets/{traders[0].address}/").status_code == 200


@pytest.mark.parametrize("size", [(2, 1), (12, 6)])
def test_the_token_page_takes_a_fixed_number_of_queries(admin_client, django_assert_num_queries, size):
    _, shared = busy_market(*size)
    with django_assert_num_queries(TOKEN_PAGE_QUERIES):
        assert admin_client.get(f"/tokens/{shared}/").status_code == 200


@pytest.mark.parametrize("size", [(2, 1), (12, 6)])
def test_a_page_of_the_feed_takes_a_fixed_number_of_queries(admin_client, django_assert_num_queries, size):
    busy_market(*size)
    newest = Swap.objects.latest("block_time", "id")
    with django_assert_num_queries(FEED_PAGE_QUERIES):
        assert admin_client.get("/feed/", {"before": newest.id}, HTTP_HX_REQUEST="true").status_code == 200
