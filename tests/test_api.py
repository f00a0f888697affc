"""The read API (/api/v1/): authentication, the leaderboard as the page sorts it, wallet and token
figures as exact decimal strings, cursor-paginated swaps and cycles, per-user follows, chain-supplied
names returned verbatim, and the OpenAPI schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token as AuthToken
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from aura.api_throttling import RequestsPerUser
from portfolios.models import Follow
from tests.builders import address, sol_swap, usdc_swap
from whales.api import LeaderboardRowSerializer, SwapSerializer
from whales.ingestion.ingest import ingest
from whales.models import ArrivedVia, PositionCycle, Swap, Token, TrackedWallet, WalletStats
from whales.selectors import LeaderboardQuery

pytestmark = pytest.mark.django_db

NOW = int(timezone.now().timestamp())
HOSTILE_SYMBOL = "<script>alert(1)</script>"
HOSTILE_NAME = '"><img src=x onerror=alert(2)>'


def iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def trade_round_trips(label: str, wins: int, losses: int, tags: list[str] | None = None) -> TrackedWallet:
    """Round trips of 100 tokens bought for 10 USDC: sold for 12 (a win) or 8 (a loss), in the last 20 hours."""
    wallet = TrackedWallet.objects.create(address=address(label), label=label, tags=tags or [])
    mint = address(f"{label} token")
    txs = []
    for n in range(wins + losses):
        start = NOW - 20 * 3600 + n * 1200
        txs += [
            usdc_swap(wallet.address, mint, "buy", "100", "10", start),
            usdc_swap(wallet.address, mint, "sell", "100", "12" if n < wins else "8", start + 600),
        ]
    ingest(txs, ArrivedVia.WEBHOOK)
    return wallet


def api_client_for(user) -> APIClient:
    """A client that authenticates as a phone does: `Authorization: Token <key>`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(alice) -> APIClient:
    return api_client_for(alice)


# --- authentication ------------------------------------------------------------------------------------


def test_every_endpoint_refuses_an_anonymous_request():
    wallet = trade_round_trips("private", 1, 0)
    mint = address("private token")
    anonymous = APIClient()
    reads = [
        "/api/v1/",
        "/api/v1/leaderboard/",
        f"/api/v1/wallets/{wallet.address}/",
        f"/api/v1/wallets/{wallet.address}/cycles/",
        "/api/v1/swaps/",
        f"/api/v1/tokens/{mint}/",
        "/api/v1/follows/",
        "/api/v1/schema/?format=json",
    ]
    responses = [anonymous.get(url) for url in reads]
    responses.append(anonymous.post("/api/v1/follows/", {"address": wallet.address}, format="json"))
    responses.append(anonymous.delete(f"/api/v1/follows/{wallet.address}/"))

    for response in responses:
        assert response.status_code == 401, response.request["PATH_INFO"]
        assert response["WWW-Authenticate"] == "Token"
        assert json.loads(response.content) == {"detail": "Authentication credentials were not provided."}
    assert not Follow.objects.exists()


def test_a_token_made_in_the_admin_authenticates_the_api(admin_client, alice):
    added = admin_client.post("/admin/authtoken/tokenproxy/add/", {"user": alice.pk})
    assert added.status_code == 302
    key = AuthToken.objects.get(user=alice).key

    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = phone.get("/api/v1/follows/")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}

    phone.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert phone.get("/api/v1/follows/").json() == {"detail": "Invalid token."}


def test_each_token_authenticates_its_own_user_and_a_bad_one_is_refused_with_the_reason(alice, bob, carol):
    alices, bobs, carols = (api_client_for(user) for user in (alice, bob, carol))
    carol.is_active = False
    carol.save()

    assert alices.get("/api/v1/me/").json()["username"] == "alice"
    assert bobs.get("/api/v1/me/").json()["username"] == "bob"
    refused = carols.get("/api/v1/me/")
    assert (refused.status_code, refused.json()) == (401, {"detail": "User inactive or deleted."})
    for header, detail in [
        ("Token " + "0" * 40, "Invalid token."),
        ("Token " + "x" * 300, "Invalid token."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
    ]:
        phone = APIClient()
        phone.credentials(HTTP_AUTHORIZATION=header)
        answer = phone.get("/api/v1/me/")
        assert (answer.status_code, answer.json()) == (401, {"detail": detail}), header


def test_the_browser_session_authenticates_the_api(client, alice):
    client.force_login(alice)
    response = client.get("/api/v1/leaderboard/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_requests_beyond_the_user_rate_are_throttled(api, alice, monkeypatch):
    # The configured rate (1200/m) is bound when DRF loads; a tiny one shows the throttle is on.
    monkeypatch.setattr(RequestsPerUser, "THROTTLE_RATES", {"user": "2/m"})
    cache.delete(RequestsPerUser.cache_format % {"scope": "user", "ident": alice.pk})

    statuses = [api.get("/api/v1/follows/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert int(api.get("/api/v1/follows/")["Retry-After"]) > 0
    cache.delete(RequestsPerUser.cache_format % {"scope": "user", "ident": alice.pk})


# --- leaderboard ---------------------------------------------------------------------------------------


def leaderboard_wallets() -> None:
    trade_round_trips("Sniper Sam", 2, 0, tags=["sniper"])
    trade_round_trips("Fund Fiona", 4, 2, tags=["fund"])
    trade_round_trips("lucky one-for-one", 1, 0)
    trade_round_trips("steady five of six", 5, 1, tags=["fund"])
    trade_round_trips("coin flipper", 3, 3)
    trade_round_trips("loser", 0, 3)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "win_rate"},
        {"sort": "win_rate", "dir": "asc"},
        {"sort": "wallet"},
        {"sort": "roi", "dir": "asc"},
        {"sort": "sell_win_rate"},
        {"sort": "cycles", "dir": "asc"},
        {"sort": "last_active"},
        {"window": "24h", "sort": "realized"},
        {"tag": "fund"},
        {"min_cycles": "5"},
        {"q": "sam"},
    ],
)
def test_the_leaderboard_sorts_and_filters_as_the_page_does(api, params):
    leaderboard_wallets()

    response = api.get("/api/v1/leaderboard/", params)

    page_query = LeaderboardQuery.from_request(RequestFactory().get("/", params))
    expected = [stats.wallet.address for stats in page_query.stats()]
    body = response.json()
    assert [row["wallet"]["address"] for row in body["results"]] == expected
    assert body["count"] == len(expected)
    assert {row["window"] for row in body["results"]} <= {page_query.window}


def test_a_leaderboard_row_carries_the_wallets_figures(api):
    trade_round_trips("Fund Fiona", 4, 2, tags=["fund"])

    row = api.get("/api/v1/leaderboard/", {"window": "all"}).json()["results"][0]

    # Every rate's bounds are Wilson 95 % for 4 of 6 (no dead bags: the adjusted rate is the cycle
    # rate), to the stored six places.
    assert row == {
        "wallet": {"address": address("Fund Fiona"), "label": "Fund Fiona", "tags": ["fund"]},
        "window": "all",
        "realized_pnl": "4.00000000",
        "unrealized_pnl": "0.00000000",
        "total_pnl": "4.00000000",
        "roi": "0.066667",
        "volume_usd": "124.00000000",
        "swap_count": 12,
        "cycles": 6,
        "cycle_wins": 4,
        "win_rate": {
            "rate": "0.666667",
            "low": "0.299988",
            "high": "0.903231",
            "wins": 4,
            "n": 6,
            "rankable": True,
        },
        "sell_win_rate": {
            "rate": "0.666667",
            "low": "0.299988",
            "high": "0.903231",
            "wins": 4,
            "n": 6,
        },
        "adjusted_win_rate": {
            "rate": "0.666667",
            "low": "0.299988",
            "high": "0.903231",
            "wins": 4,
            "n": 6,
        },
        "dead_bags": 0,
        "incomplete": False,
        "pending_trades": 0,
        "last_active": iso(NOW - 20 * 3600 + 5 * 1200 + 600),
    }


def test_the_leaderboard_paginates_and_its_query_count_does_not_grow_with_wallets(api):
    for n in range(3):
        trade_round_trips(f"wallet {n}", 1, 0)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/api/v1/leaderboard/").json()["results"]) == 3
    for n in range(3, 60):
        trade_round_trips(f"wallet {n}", 1, 0)
    with CaptureQueriesContext(connection) as many:
        first = api.get("/api/v1/leaderboard/").json()

    assert len(many) == len(few)
    assert first["count"] == 60 and len(first["results"]) == 50
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 10 and second["next"] is None
    everyone = {row["wallet"]["address"] for row in first["results"] + second["results"]}
    assert everyone == {address(f"wallet {n}") for n in range(60)}
    assert api.get("/api/v1/leaderboard/", {"page": "3"}).json() == {"detail": "Invalid page."}


# --- wallets -------------------------------------------------------------------------------------------

T0 = NOW - 20 * 3600


def wallet_with_a_closed_cycle_and_an_open_position() -> tuple[TrackedWallet, str]:
    """Buys 100 for $10 and sells them for $12 (+2); buys 200 for $30 and sells 50 for $10 (+2.50);
    holds 150 at $0.15 (cost $22.50), priced $0.20 (unrealized +7.50)."""
    wallet = TrackedWallet.objects.create(address=address("detail"), label="Detail Dan", tags=["fund"])
    mint = address("detail token")
    Token.objects.create(
        mint=mint, symbol="DTL", name="Detail", decimals=6, price_usd=Decimal("0.2"), price_updated_at=timezone.now()
    )
    ingest(
        [
            usdc_swap(wallet.address, mint, "buy", "100", "10", T0),
            usdc_swap(wallet.address, mint, "sell", "100", "12", T0 + 600),
            usdc_swap(wallet.address, mint, "buy", "200", "30", T0 + 1200),
            usdc_swap(wallet.address, mint, "sell", "50", "10", T0 + 1800),
        ],
        ArrivedVia.WEBHOOK,
    )
    return wallet, mint


def test_the_wallet_detail_has_its_figures_per_window_and_open_positions_as_exact_decimals(api):
    wallet, mint = wallet_with_a_closed_cycle_and_an_open_position()

    response = api.get(f"/api/v1/wallets/{wallet.address}/")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("address", "label", "tags", "is_active", "last_swap_at")} == {
        "address": wallet.address,
        "label": "Detail Dan",
        "tags": ["fund"],
        "is_active": True,
        "last_swap_at": iso(T0 + 1800),
    }
    assert (body["backfill_state"], body["backfill_progress"]) == ("pending", None)
    assert list(body["stats"]) == ["24h", "7d", "30d", "all"]
    week = body["stats"]["7d"]
    assert {key: week[key] for key in ("window", "realized_pnl", "unrealized_pnl", "total_pnl", "volume_usd")} == {
        "window": "7d",
        "realized_pnl": "4.50000000",
        "unrealized_pnl": "7.50000000",
        "total_pnl": "12.00000000",
        "volume_usd": "62.00000000",
    }
    assert (week["swap_count"], week["cycles"], week["cycle_wins"]) == (4, 1, 1)
    assert week["win_rate"]["rate"] == "1.000000" and week["win_rate"]["rankable"] is False
    assert week["sell_win_rate"]["wins"] == 2 and week["sell_win_rate"]["n"] == 2

    [position] = body["open_positions"]
    token = position.pop("token")
    assert token.pop("price_updated_at").endswith("Z")
    assert token == {
        "mint": mint,
        "symbol": "DTL",
        "name": "Detail",
        "decimals": 6,
        "price_usd": "0.200000000000000000000000",
        "price_stale": False,
    }
    assert position == {
        "holdings": "150.000000000000000000",
        "average_cost": "0.150000000000000000000000",
        "cost_basis": "22.500000000000000000",
        "unrealized_pnl": "7.500000000000000000",
        "opened_at": iso(T0 + 1200),
        "incomplete": False,
        "lots": [
            {
                "acquired_at": iso(T0 + 1200),
                "amount": "150.000000000000000000",
                "cost": "22.500000000000000000",
                "transferred": False,
            }
        ],
    }


def test_the_wallet_detail_query_count_does_not_grow_with_open_positions(api):
    wallet, _ = wallet_with_a_closed_cycle_and_an_open_position()
    with CaptureQueriesContext(connection) as few:
        api.get(f"/api/v1/wallets/{wallet.address}/")
    more = [usdc_swap(wallet.address, address(f"t{n}"), "buy", "5", "1", NOW - n * 60) for n in range(20)]
    ingest(more, ArrivedVia.WEBHOOK)
    with CaptureQueriesContext(connection) as many:
        body = api.get(f"/api/v1/wallets/{wallet.address}/").json()

    assert len(many) == len(few)
    assert len(body["open_positions"]) == 21


def test_an_invalid_address_is_refused_with_the_reason_and_an_untracked_one_is_not_found(api):
    invalid = api.get("/api/v1/wallets/0OIl-not-an-address/")
    assert invalid.status_code == 400
    assert invalid.json() == {
        "detail": "The address contains '0' (character 1), which is not a base58 character; base58 has no 0, O, I or l."
    }
    short = api.get("/api/v1/wallets/abc/cycles/")
    assert short.status_code == 400
    assert short.json() == {"detail": "The address decodes to 3 bytes; a Solana address is 32 bytes."}

    untracked = api.get(f"/api/v1/wallets/{address('nobody tracks me')}/")
    assert untracked.status_code == 404
    assert untracked.json() == {"detail": "No tracked wallet has this address."}
    assert api.get(f"/api/v1/wallets/{address('nobody tracks me')}/cycles/").status_code == 404


def test_closed_cycles_come_newest_close_first_page_by_page(api):
    wallet = trade_round_trips("cycler", 3, 2)

    first = api.get(f"/api/v1/wallets/{wallet.address}/cycles/", {"page_size": 3}).json()
    second = api.get(first["next"]).json()

    cycles = first["results"] + second["results"]
    assert second["next"] is None
    expected = PositionCycle.objects.filter(wallet=wallet).order_by("-closed_at")
    assert [cycle["id"] for cycle in cycles] == [cycle.id for cycle in expected]
    assert [cycle["realized_pnl"] for cycle in cycles] == [
        "-2.000000000000000000",
        "-2.000000000000000000",
        "2.000000000000000000",
        "2.000000000000000000",
        "2.000000000000000000",
    ]
    assert cycles[0]["token"] == {"mint": address("cycler token"), "symbol": ""}
    assert cycles[0]["opened_at"] == iso(NOW - 20 * 3600 + 4 * 1200)
    assert cycles[0]["closed_at"] == iso(NOW - 20 * 3600 + 4 * 1200 + 600)
    assert cycles[0]["complete"] is True


# --- swaps ---------------------------------------------------------------------------------------------


def test_swaps_pages_walk_every_swap_once_newest_first_even_when_block_times_tie(api):
    wallet = TrackedWallet.objects.create(address=address("busy"), label="busy")
    # Four swaps per block time: the cursor has to step through ties without skipping or repeating.
    txs = [
        usdc_swap(wallet.address, address(f"tie token {n % 4}"), "buy", str(n + 1), "1", NOW - (n // 4) * 60)
        for n in range(23)
    ]
    ingest(txs, ArrivedVia.BACKFILL)

    seen, url = [], "/api/v1/swaps/?page_size=5"
    while url:
        page = api.get(url).json()
        seen += [swap["id"] for swap in page["results"]]
        url = page["next"]

    assert seen == list(Swap.objects.order_by("-block_time", "-id").values_list("id", flat=True))
    assert len(seen) == 23

    # A phone polls by fetching the first page again: a new swap is on top.
    ingest([usdc_swap(wallet.address, address("new token"), "sell", "1", "2", NOW)], ArrivedVia.WEBHOOK)
    newest = api.get("/api/v1/swaps/", {"page_size": 5}).json()["results"][0]
    assert newest["id"] == Swap.objects.latest("id").id and newest["side"] == "sell"


def test_a_swap_comes_with_its_wallet_token_and_exact_amounts(api):
    wallet = TrackedWallet.objects.create(address=address("shape"), label="Shape")
    mint = address("shape token")
    ingest([usdc_swap(wallet.address, mint, "buy", "250", "12.5", NOW - 60)], ArrivedVia.WEBHOOK)
    swap = Swap.objects.get()

    body = api.get("/api/v1/swaps/").json()

    assert body["previous"] is None and body["next"] is None
    [row] = body["results"]
    assert row.pop("ingested_at") == swap.ingested_at.isoformat().replace("+00:00", "Z")
    assert row == {
        "id": swap.id,
        "signature": swap.signature,
        "wallet": {"address": wallet.address, "label": "Shape"},
        "token": {"mint": mint, "symbol": ""},
        "side": "buy",
        "token_amount": "250.000000000000000000",
        "quote_asset": "USDC",
        "quote_amount": "12.500000000000000000",
        "price_in_quote": "0.050000000000000000000000",
        "usd_value": "12.50000000",
        "usd_price": "0.050000000000000000000000",
        "block_time": iso(NOW - 60),
        "source": "JUPITER",
        "arrived_via": "webhook",
    }


def test_swaps_filter_by_wallet_token_side_and_follows(api, alice):
    first = trade_round_trips("first", 2, 0)
    second = trade_round_trips("second", 1, 0)
    Follow.objects.create(user=alice, wallet=second)

    def labels_and_sides(params: dict) -> list[tuple[str, str]]:
        return [(row["wallet"]["label"], row["side"]) for row in api.get("/api/v1/swaps/", params).json()["results"]]

    assert labels_and_sides({"wallet": first.address}) == [("first", "sell"), ("first", "buy")] * 2
    assert labels_and_sides({"token": address("second token")}) == [("second", "sell"), ("second", "buy")]
    assert labels_and_sides({"wallet": first.address, "side": "buy"}) == [("first", "buy")] * 2
    assert labels_and_sides({"following": "true"}) == [("second", "sell"), ("second", "buy")]

    assert api.get("/api/v1/swaps/", {"side": "hold"}).json() == {"side": ['"hold" is not a valid choice.']}
    assert api.get("/api/v1/swaps/", {"wallet": "abc"}).json() == {
        "wallet": ["The address decodes to 3 bytes; a Solana address is 32 bytes."]
    }
    unknown_wallet = api.get("/api/v1/swaps/", {"wallet": address("untracked")})
    assert unknown_wallet.status_code == 404
    assert unknown_wallet.json() == {"detail": "No tracked wallet has this address."}
    assert api.get("/api/v1/swaps/", {"token": address("no such mint")}).status_code == 404


# --- tokens --------------------------------------------------------------------------------------------


def test_the_token_detail_lists_the_tracked_wallets_holding_it(api):
    wallet, mint = wallet_with_a_closed_cycle_and_an_open_position()
    flat = trade_round_trips("flat", 1, 0)
    ingest([usdc_swap(flat.address, mint, "buy", "10", "1", NOW - 120)], ArrivedVia.WEBHOOK)
    ingest([usdc_swap(flat.address, mint, "sell", "10", "3", NOW - 60)], ArrivedVia.WEBHOOK)
    Token.objects.filter(mint=mint).update(logo_url="https://example.com/dtl.png", price_source="birdeye")

    body = api.get(f"/api/v1/tokens/{mint}/").json()

    assert body.pop("price_updated_at").endswith("Z")
    assert body == {
        "mint": mint,
        "symbol": "DTL",
        "name": "Detail",
        "decimals": 6,
        "logo_url": "https://example.com/dtl.png",
        "price_usd": "0.200000000000000000000000",
        "price_source": "birdeye",
        "price_stale": False,
        "holders": [
            {
                "address": wallet.address,
                "label": "Detail Dan",
                "holdings": "150.000000000000000000",
                "cost_basis": "22.500000000000000000",
                "unrealized_pnl": "7.500000000000000000",
                "realized_pnl": "4.500000000000000000",
                "net_flow_usd": "18.00000000",
            },
            {
                "address": flat.address,
                "label": "flat",
                "holdings": "0.000000000000000000",
                "cost_basis": "0.000000000000000000",
                "unrealized_pnl": None,
                "realized_pnl": "2.000000000000000000",
                "net_flow_usd": "-2.00000000",
            },
        ],
    }
    assert api.get(f"/api/v1/tokens/{address('unknown mint')}/").json() == {"detail": "No token has this mint."}
    refused = api.get("/api/v1/tokens/not-base58!/")
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("The address contains '-' (character 4)")


def test_chain_supplied_names_come_back_verbatim_for_clients_to_escape(api):
    wallet = TrackedWallet.objects.create(address=address("victim"), label="victim")
    mint = address("victim token")
    Token.objects.create(mint=mint, symbol=HOSTILE_SYMBOL, name=HOSTILE_NAME)
    ingest([usdc_swap(wallet.address, mint, "buy", "1", "1", NOW - 30)], ArrivedVia.WEBHOOK)

    token = api.get(f"/api/v1/tokens/{mint}/")
    swaps = api.get("/api/v1/swaps/")
    detail = api.get(f"/api/v1/wallets/{wallet.address}/")

    assert token["Content-Type"] == "application/json"
    assert (token.json()["symbol"], token.json()["name"]) == (HOSTILE_SYMBOL, HOSTILE_NAME)
    assert swaps.json()["results"][0]["token"] == {"mint": mint, "symbol": HOSTILE_SYMBOL}
    assert detail.json()["open_positions"][0]["token"]["symbol"] == HOSTILE_SYMBOL
    for response in (token, swaps, detail):
        assert '"symbol":"<script>alert(1)</script>"' in response.content.decode()
        assert "&lt;" not in response.content.decode()


# --- follows -------------------------------------------------------------------------------------------


def test_follows_belong_to_the_requesting_user(alice, bob, carol):
    whale = trade_round_trips("whale", 1, 0)
    minnow = trade_round_trips("minnow", 1, 0)
    as_alice, as_bob, as_carol = api_client_for(alice), api_client_for(bob), api_client_for(carol)

    created = as_alice.post("/api/v1/follows/", {"address": whale.address}, format="json")
    again = as_alice.post("/api/v1/follows/", {"address": whale.address}, format="json")
    as_bob.post("/api/v1/follows/", {"address": minnow.address}, format="json")

    assert created.status_code == 201 and again.status_code == 200
    assert created.json()["address"] == whale.address and created.json()["label"] == "whale"
    assert again.json() == created.json()
    assert Follow.objects.filter(user=alice).count() == 1
    alice_sees = as_alice.get("/api/v1/follows/").json()
    assert [(f["address"], f["label"]) for f in alice_sees["results"]] == [(whale.address, "whale")]
    assert [f["address"] for f in as_bob.get("/api/v1/follows/").json()["results"]] == [minnow.address]
    assert as_carol.get("/api/v1/follows/").json()["results"] == []

    # Carol unfollowing what she never followed, or what alice follows, changes nothing of alice's.
    assert as_carol.delete(f"/api/v1/follows/{whale.address}/").status_code == 204
    assert as_alice.delete(f"/api/v1/follows/{minnow.address}/").status_code == 204
    assert set(Follow.objects.values_list("user__username", "wallet__label")) == {
        ("alice", "whale"),
        ("bob", "minnow"),
    }

    assert as_alice.delete(f"/api/v1/follows/{whale.address}/").status_code == 204
    assert as_alice.get("/api/v1/follows/").json()["count"] == 0
    assert Follow.objects.filter(user=bob).count() == 1


def test_following_an_invalid_or_untracked_address_is_refused_with_a_message(api):
    invalid = api.post("/api/v1/follows/", {"address": " " + address("padded")}, format="json")
    assert invalid.status_code == 400
    assert invalid.json() == {
        "address": ["The address has leading or trailing whitespace; paste it without spaces or newlines."]
    }
    assert api.post("/api/v1/follows/", {}, format="json").json() == {"address": ["This field is required."]}
    untracked = api.post("/api/v1/follows/", {"address": address("not tracked")}, format="json")
    assert untracked.status_code == 404
    assert untracked.json() == {"detail": "No tracked wallet has this address."}
    assert api.delete("/api/v1/follows/0xdeadbeef/").status_code == 400
    assert api.delete(f"/api/v1/follows/{address('not tracked')}/").status_code == 404
    assert not Follow.objects.exists()


# --- schema --------------------------------------------------------------------------------------------

API_PATHS = {
    "/api/v1/leaderboard/",
    "/api/v1/wallets/{address}/",
    "/api/v1/wallets/{address}/cycles/",
    "/api/v1/swaps/",
    "/api/v1/tokens/{mint}/",
    "/api/v1/follows/",
    "/api/v1/follows/{address}/",
    "/api/v1/signals/",
    "/api/v1/signals/{id}/",
    "/api/v1/signals/scoreboard/",
    "/api/v1/schema/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/token/revoke/",
    "/api/v1/auth/token/revoke-all/",
    "/api/v1/me/",
    "/api/v1/tokens/{mint}/prices/",
    "/api/v1/notes/",
    "/api/v1/notes/{address}/",
    "/api/v1/devices/",
    "/api/v1/devices/{id}/",
    "/api/v1/alerts/channels/",
    "/api/v1/alerts/channels/{id}/",
    "/api/v1/alerts/channels/{id}/test/",
    "/api/v1/alerts/rules/",
    "/api/v1/alerts/rules/{id}/",
    "/api/v1/alerts/deliveries/",
    "/api/v1/alerts/deliveries/{id}/",
    "/api/v1/admin/wallets/",
    "/api/v1/admin/wallets/import/",
    "/api/v1/admin/wallets/{address}/activate/",
    "/api/v1/admin/wallets/{address}/deactivate/",
    "/api/v1/admin/wallets/{address}/backfill/",
}


def test_the_schema_is_an_openapi_3_document_of_every_endpoint(api):
    response = api.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "AURA API" and "Authorization: Token" in schema["info"]["description"]
    assert set(schema["paths"]) == API_PATHS
    assert set(schema["paths"]["/api/v1/follows/"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/follows/{address}/"]) == {"delete"}
    leaderboard_params = {p["name"] for p in schema["paths"]["/api/v1/leaderboard/"]["get"]["parameters"]}
    assert leaderboard_params == {"window", "sort", "dir", "tag", "min_cycles", "q", "page"}
    swap_params = {p["name"] for p in schema["paths"]["/api/v1/swaps/"]["get"]["parameters"]}
    assert swap_params == {"wallet", "token", "side", "following", "cursor", "page_size"}
    assert set(schema["components"]["schemas"]["StatsByWindow"]["properties"]) == {"24h", "7d", "30d", "all"}


def test_the_schema_validates_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert set(json.loads(out.getvalue())["paths"]) == API_PATHS


def test_the_api_root_links_every_endpoint_and_the_schema(api):
    response = api.get("/api/v1/")

    assert response.status_code == 200
    links = response.json()
    assert set(links) == {
        "leaderboard",
        "wallets",
        "swaps",
        "tokens",
        "follows",
        "signals",
        "notes",
        "devices",
        "alerts/channels",
        "alerts/rules",
        "alerts/deliveries",
        "admin/wallets",
        "me",
        "token",
        "schema",
        "schema_json",
    }
    assert links["schema"] == "http://testserver/api/v1/schema/"
    assert links["schema_json"] == "http://testserver/api/v1/schema/?format=json"
    assert links["wallets"] == "http://testserver/api/v1/wallets/{address}/"
    assert api.get(links["schema_json"]).status_code == 200


# --- lean rows: the same bytes as the documented serializers ---------------------------------------------


def _documented_bytes(response, serializer_class, rows) -> bytes:
    """What DRF's JSONRenderer writes for this page: its count and links as answered, its rows as the
    documented serializer writes them."""
    page = json.loads(response.content)
    page["results"] = serializer_class(rows, many=True).data
    return JSONRenderer().render(page)


def test_leaderboard_rows_are_byte_for_byte_what_the_documented_serializer_writes(api):
    trade_round_trips("steady", 6, 1, tags=["smart-money", "kol"])
    trade_round_trips('Ünï "q" \\ </b>\u2028😀', 1, 0)
    trade_round_trips("unlucky", 0, 2)
    pending = TrackedWallet.objects.create(address=address("pending"), label="", tags=[])
    ingest([sol_swap(pending.address, address("pending token"), "buy", "5", "1.5", NOW - 300)], ArrivedVia.WEBHOOK)
    WalletStats.objects.filter(wallet__label="unlucky").update(roi=None, last_active=timezone.now())

    WalletStats.objects.filter(wallet__label="steady").update(last_active=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    for params in (
        {},
        {"window": "30d", "sort": "win_rate"},
        {"sort": "roi", "dir": "asc"},
        {"sort": "wallet"},
        {"sort": "last_active", "dir": "asc"},
        {"tag": "kol"},
        {"min_cycles": "2", "window": "24h"},
        {"q": "steady"},
        {"q": "u"},
    ):
        response = api.get("/api/v1/leaderboard/", params)
        query = LeaderboardQuery.from_request(RequestFactory().get("/", params))
        assert response.status_code == 200
        assert response.json()["results"], params
        assert response.content == _documented_bytes(response, LeaderboardRowSerializer, list(query.stats())), params


def test_a_leaderboard_search_takes_wildcards_and_backslashes_literally(api):
    trade_round_trips("100% real_deal", 1, 0)
    trade_round_trips("plain", 1, 0)

    for search, labels in [("%", ["100% real_deal"]), ("_", ["100% real_deal"]), ("\\", []), ("e_l", []), ("a", None)]:
        body = api.get("/api/v1/leaderboard/", {"q": search}).json()
        expected = LeaderboardQuery.from_request(RequestFactory().get("/", {"q": search})).stats()
        assert body["count"] == expected.count(), search
        assert [row["wallet"]["label"] for row in body["results"]] == [s.wallet.label for s in expected], search
        if labels is not None:
            assert [row["wallet"]["label"] for row in body["results"]] == labels, search


def test_swap_rows_are_byte_for_byte_what_the_documented_serializer_writes(api):
    wallet = trade_round_trips("trader", 2, 1)
    ingest([sol_swap(wallet.address, address("sol token"), "buy", "7.123456", "0.25", NOW - 60)], ArrivedVia.POLL)
    Swap.objects.filter(usd_value=None).update(ingested_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))

    for params in ({}, {"wallet": wallet.address}, {"side": "sell"}, {"page_size": 2}):
        response = api.get("/api/v1/swaps/", params)
        swaps = list(Swap.objects.select_related("wallet", "token").order_by("-block_time", "-id"))
        if "wallet" in params:
            swaps = [swap for swap in swaps if swap.wallet_id == wallet.id]
        if "side" in params:
            swaps = [swap for swap in swaps if swap.side == params["side"]]
        swaps = swaps[: params.get("page_size", 50)]
        assert response.status_code == 200
        assert response.content == _documented_bytes(response, SwapSerializer, swaps), params
    assert any(swap.usd_value is None for swap in Swap.objects.all())


# Queries each list endpoint takes (token authentication included), whatever the rows behind it.
# Wallets and tokens have detail endpoints only.
LIST_QUERIES = {
    # The count, the page's ids and their rows in one statement.
    "/api/v1/leaderboard/": 2,
    # A search counts its rows in the query that reads the page's ids: its filter runs once.
    "/api/v1/leaderboard/?q=trader": 3,
    "/api/v1/swaps/": 2,
    "/api/v1/follows/": 2,
}


# --- query counts, pinned: a list takes the same number of queries whatever the rows behind it ----------


def busy_market(wallets: int, swaps_each: int) -> str:
    """`wallets` wallets each trading one shared token `swaps_each` times; returns that token's mint."""
    shared = address("shared token")
    for n in range(wallets):
        wallet = trade_round_trips(f"trader {n}", 1, 0)
        txs = [usdc_swap(wallet.address, shared, "buy", "5", "1", NOW - 3600 - k * 60) for k in range(swaps_each)]
        ingest(txs, ArrivedVia.WEBHOOK)
    return shared


@pytest.mark.parametrize("size", [(2, 1), (12, 6)])
@pytest.mark.parametrize("path", sorted(LIST_QUERIES))
def test_an_api_list_takes_a_fixed_number_of_queries(api, django_assert_num_queries, path, size):
    busy_market(*size)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert api.get(path).status_code == 200
