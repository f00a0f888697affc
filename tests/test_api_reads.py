"""Reads added for the phone: a token's price candles for charts, conditional GET on the leaderboard,
and query parameters the schema forbids refused with a 400 that names them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token as AuthToken
from rest_framework.test import APIClient

from tests.builders import address
from whales.models import Token, TokenPrice, TrackedWallet, WalletStats, Window

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def api(alice) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=alice).key}")
    return client


@pytest.fixture
def token() -> Token:
    token = Token.objects.create(mint=address("chart token"), symbol="CHRT")
    # Every 20 minutes from 10:00 to 12:40: 10:00 → 1.00, 10:20 → 1.10, … rising 0.10 a point, but 11:20 dips.
    for n in range(9):
        price = Decimal("1.00") + Decimal("0.10") * n if n != 4 else Decimal("0.50")
        TokenPrice.objects.create(token=token, at=START + timedelta(minutes=20 * n), price_usd=price, source="birdeye")
    return token


def as_numbers(candle: dict) -> tuple:
    return (candle["time"], *(Decimal(candle[key]) for key in ("open", "high", "low", "close")), candle["points"])


def test_hourly_candles_hold_open_high_low_close_of_their_points(api, token):
    response = api.get(
        f"/api/v1/tokens/{token.mint}/prices/",
        {"from": "2026-11-30T10:00:00Z", "to": "2026-11-30T13:00:00Z", "interval": "1h"},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["mint"], body["interval"], body["start"], body["end"]) == (
        token.mint,
        "1h",
        "2026-11-30T10:00:00Z",
        "2026-11-30T13:00:00Z",
    )
    assert [as_numbers(candle) for candle in body["candles"]] == [
        ("2026-11-30T10:00:00Z", Decimal("1.0"), Decimal("1.2"), Decimal("1.0"), Decimal("1.2"), 3),
        ("2026-11-30T11:00:00Z", Decimal("1.3"), Decimal("1.5"), Decimal("0.5"), Decimal("1.5"), 3),
        ("2026-11-30T12:00:00Z", Decimal("1.6"), Decimal("1.8"), Decimal("1.6"), Decimal("1.8"), 3),
    ]


def test_the_span_is_from_included_to_excluded_and_empty_candles_are_left_out(api, token):
    response = api.get(
        f"/api/v1/tokens/{token.mint}/prices/",
        {"from": "2026-11-30T10:20:00Z", "to": "2026-11-30T12:20:00Z", "interval": "15m"},
    )

    times = [candle["time"] for candle in response.json()["candles"]]
    assert times == [
        "2026-11-30T10:15:00Z",
        "2026-11-30T10:30:00Z",
        "2026-11-30T11:00:00Z",
        "2026-11-30T11:15:00Z",
        "2026-11-30T11:30:00Z",
        "2026-11-30T12:00:00Z",
    ]


def test_by_default_the_last_24_hours_in_hourly_candles(api, token):
    recent = Token.objects.create(mint=address("recent token"))
    now = datetime.now(UTC)
    TokenPrice.objects.create(token=recent, at=now - timedelta(hours=2), price_usd=Decimal("3"), source="birdeye")
    TokenPrice.objects.create(token=recent, at=now - timedelta(hours=30), price_usd=Decimal("9"), source="birdeye")

    body = api.get(f"/api/v1/tokens/{recent.mint}/prices/").json()

    assert body["interval"] == "1h"
    assert [Decimal(candle["close"]) for candle in body["candles"]] == [Decimal("3")]


@pytest.mark.parametrize(
    "params,refused",
    [
        ({"interval": "2h"}, "interval"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-30T12:00:00Z", "to": "2026-11-30T10:00:00Z"}, "from"),
        ({"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "1m"}, "interval"),
        ({"to": "0001-01-01T00:00:00Z"}, "to"),
    ],
)
def test_a_refused_chart_parameter_is_a_400_naming_it(api, token, params, refused):
    response = api.get(f"/api/v1/tokens/{token.mint}/prices/", params)

    assert response.status_code == 400
    assert list(response.json()) == [refused]


def test_prices_of_an_unknown_or_malformed_mint(api):
    assert api.get(f"/api/v1/tokens/{address('no such token')}/prices/").status_code == 404
    assert api.get("/api/v1/tokens/not-a-mint/prices/").status_code == 400


# --- conditional GET on the leaderboard ------------------------------------------------------------------


def leaderboard_row(label: str) -> WalletStats:
    wallet = TrackedWallet.objects.create(address=address(label), label=label)
    return WalletStats.objects.create(
        wallet=wallet, window=Window.WEEK, realized_pnl=Decimal("5"), total_pnl=Decimal("5")
    )


def test_the_leaderboard_answers_304_while_nothing_changed_and_200_once_it_has(api):
    row = leaderboard_row("Whale")
    first = api.get("/api/v1/leaderboard/")
    etag = first["ETag"]

    unchanged = api.get("/api/v1/leaderboard/", HTTP_IF_NONE_MATCH=etag)
    WalletStats.objects.filter(id=row.id).update(total_pnl=Decimal("7"))
    changed = api.get("/api/v1/leaderboard/", HTTP_IF_NONE_MATCH=etag)

    assert first.status_code == 200 and etag.startswith('"')
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["results"][0]["total_pnl"].startswith("7")
    other_query = api.get("/api/v1/leaderboard/", {"window": "30d"}, HTTP_IF_NONE_MATCH=changed["ETag"])
    assert other_query.status_code == 200


# --- parameters the schema forbids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,params,refused",
    [
        ("/api/v1/leaderboard/", {"sort": "nonsense"}, "sort"),
        ("/api/v1/leaderboard/", {"window": "1y"}, "window"),
        ("/api/v1/leaderboard/", {"dir": "sideways"}, "dir"),
        ("/api/v1/leaderboard/", {"min_cycles": "-3"}, "min_cycles"),
        ("/api/v1/leaderboard/", {"page": "x"}, "page"),
        ("/api/v1/leaderboard/", {"page": "0"}, "page"),
        ("/api/v1/follows/", {"offset": "-1"}, "offset"),
        ("/api/v1/follows/", {"offset": "x"}, "offset"),
        ("/api/v1/follows/", {"offset": str(2**63)}, "offset"),
        ("/api/v1/follows/", {"limit": "0"}, "limit"),
        ("/api/v1/follows/", {"limit": ""}, "limit"),
        ("/api/v1/swaps/", {"page_size": "many"}, "page_size"),
        ("/api/v1/swaps/", {"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_a_parameter_value_the_schema_forbids_is_a_400_naming_it(api, url, params, refused):
    response = api.get(url, params)

    assert response.status_code == 400
    assert list(response.json()) == [refused]


def test_a_limit_past_the_maximum_is_a_full_page(api):
    assert api.get("/api/v1/follows/", {"limit": str(2**63)}).status_code == 200


def test_a_page_past_the_last_is_a_404(api):
    leaderboard_row("Whale")

    assert api.get("/api/v1/leaderboard/", {"page": "2"}).status_code == 404
