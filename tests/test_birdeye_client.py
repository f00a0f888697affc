"""providers.birdeye against a real local HTTP server serving the recorded Birdeye payloads, and Redis."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from providers.birdeye import (
    BirdeyeClient,
    BirdeyeError,
    BirdeyePrice,
    TokenOverview,
    TrendingToken,
    TrendingTokens,
)
from providers.http import ResponseCache
from tests.support.http import Recorded, Reply, ScriptedServer, Sleeps
from tests.support.redis import REDIS_URL, dead_redis

FIXTURES = Path(__file__).parent / "fixtures" / "birdeye"
API_KEY = "birdeye-test-key"
SOL = "So11111111111111111111111111111111111111112"
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"
UNKNOWN = "UnknownMint1111111111111111111111111111111"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

SOL_PRICE = BirdeyePrice(
    mint=SOL,
    value=Decimal("127.32916175338693"),
    update_unix_time=1726673192,
    liquidity=Decimal("7026264396"),
    price_change_24h=Decimal("-5.833510393308625"),
    price_in_native=Decimal("1"),
)
BONK_PRICE = BirdeyePrice(
    mint=BONK,
    value=Decimal("0.00001598090539282"),
    update_unix_time=1726673185,
    liquidity=Decimal("1234414"),
    price_change_24h=Decimal("-4.766925300538944"),
    price_in_native=Decimal("1.2583e-7"),
)
# The docs example of GET /defi/historical_price_unix (docs.birdeye.so reference page, read in the
# kaseonedge/birdeye-api-docs mirror, docs/defi/get-defi-historical_price_unix.md @ 1d8a82b).
HISTORICAL_PRICE_UNIX = {
    "success": True,
    "data": {
        "isScaledUiToken": False,
        "value": 128.09276765626564,
        "updateUnixTime": 1726675897,
        "priceChange24h": -4.924324221890145,
    },
}


def fixture_bytes(name: str) -> bytes:
    """The recorded payload exactly as stored, so the client decodes the original number text."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(name))


def mint(n: int) -> str:
    """A distinct base58 mint-like address for index `n`."""
    digits = ""
    while True:
        n, rest = divmod(n, 58)
        digits = B58[rest] + digits
        if n == 0:
            break
    return "Tok" + digits.rjust(40, "z")


def make_birdeye(server: ScriptedServer, **options: Any) -> tuple[BirdeyeClient, Sleeps]:
    sleeps = Sleeps()
    settings: dict[str, Any] = {"rate_per_second": 0, "sleep": sleeps, "rng": lambda: 0.5, "timeout": 2.0}
    settings.update(options)
    return BirdeyeClient(server.url, API_KEY, **settings), sleeps


# -- parsing the recorded payloads ------------------------------------------------------------


def test_multi_price_reads_the_recorded_payload_into_decimals_and_sends_the_auth_headers(
    server: ScriptedServer,
) -> None:
    server.script(Reply(200, fixture_bytes("birdeye_defi_multi_price.json")))
    birdeye, _ = make_birdeye(server)

    prices = birdeye.multi_price([SOL, BONK])

    assert prices == {SOL: SOL_PRICE, BONK: BONK_PRICE}
    (request,) = server.requests
    assert (request.method, request.path) == ("GET", "/defi/multi_price")
    assert request.param("list_address") == f"{SOL},{BONK}"
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["x-chain"] == "solana"
    assert API_KEY not in json.dumps(request.query)


def test_multi_price_leaves_out_null_and_missing_tokens(server: ScriptedServer) -> None:
    payload = fixture_json("birdeye_defi_multi_price.json")
    payload["data"][UNKNOWN] = None
    payload["data"][JUP] = {**payload["data"][BONK], "value": None}
    server.script(Reply(200, payload))
    birdeye, _ = make_birdeye(server)

    prices = birdeye.multi_price([SOL, UNKNOWN, BONK, JUP, mint(1), SOL])

    assert prices == {SOL: SOL_PRICE, BONK: BONK_PRICE}
    assert server.requests[0].param("list_address") == f"{SOL},{UNKNOWN},{BONK},{JUP},{mint(1)}"


def test_multi_price_sends_250_mints_in_3_calls_of_at_most_100(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str
) -> None:
    template = fixture_json("birdeye_defi_multi_price.json")["data"][BONK]

    def respond(request: Recorded) -> Reply:
        listed = request.param("list_address").split(",")
        return Reply(200, {"success": True, "data": {m: template for m in listed}})

    server.responder = respond
    birdeye, _ = make_birdeye(server, redis=redis_client, key_prefix=key_prefix)
    mints = [mint(n) for n in range(250)]

    prices = birdeye.multi_price(mints)

    assert list(prices) == mints
    assert prices[mint(249)].value == Decimal("0.00001598090539282")
    assert [r.param("list_address").split(",") for r in server.requests] == [mints[:100], mints[100:200], mints[200:]]
    assert int(redis_client.get(f"{key_prefix}:credits:birdeye:total")) == 3


def test_token_overview_reads_metadata_and_market_figures(server: ScriptedServer) -> None:
    server.script(Reply(200, fixture_bytes("birdeye_defi_token_overview.json")))
    birdeye, _ = make_birdeye(server)

    overview = birdeye.token_overview(SOL)

    assert overview == TokenOverview(
        address=SOL,
        symbol="SOL",
        name="Wrapped SOL",
        decimals=9,
        logo_uri="https://raw.githubusercontent.com/solana-labs/token-list/main/assets/mainnet/"
        "So11111111111111111111111111111111111111112/logo.png",
        price=Decimal("185.82977629057913"),
        liquidity=Decimal("23353595552.52654"),
        market_cap=Decimal("100263084724.62823"),
        fdv=Decimal("112833577331.7062"),
        holder=3472782,
        price_change_24h_percent=Decimal("0.5781987340724478"),
        volume_24h_usd=Decimal("9537454514.524822"),
        last_trade_unix_time=1754885472,
    )
    assert overview.extensions["twitter"] == "https://twitter.com/solana"
    assert overview.raw["numberMarkets"] == 150744
    assert server.requests[0].path == "/defi/token_overview"
    assert server.requests[0].param("address") == SOL


def test_history_price_returns_time_and_decimal_points(server: ScriptedServer) -> None:
    server.script(Reply(200, fixture_bytes("birdeye_defi_history_price.json")))
    birdeye, _ = make_birdeye(server)

    points = birdeye.history_price(SOL, 1726670000, 1726673000, interval="15m")

    assert points == [
        (1726670700, Decimal("127.97284640184616")),
        (1726671600, Decimal("128.04188346328968")),
        (1726672500, Decimal("127.40223856228901")),
    ]
    request = server.requests[0]
    assert request.path == "/defi/history_price"
    assert {name: request.param(name) for name in ("address", "address_type", "type", "time_from", "time_to")} == {
        "address": SOL,
        "address_type": "token",
        "type": "15m",
        "time_from": "1726670000",
        "time_to": "1726673000",
    }


def test_history_price_refuses_an_unknown_interval_without_calling(server: ScriptedServer) -> None:
    birdeye, _ = make_birdeye(server)

    with pytest.raises(ValueError, match="interval"):
        birdeye.history_price(SOL, 1, 2, interval="1h")

    assert server.requests == []


def test_price_at_asks_for_the_price_at_that_unix_time(server: ScriptedServer) -> None:
    server.script(Reply(200, HISTORICAL_PRICE_UNIX))
    birdeye, _ = make_birdeye(server)

    assert birdeye.price_at(SOL, 1726675897) == Decimal("128.09276765626564")
    (request,) = server.requests
    assert (request.path, request.param("address"), request.param("unixtime")) == (
        "/defi/historical_price_unix",
        SOL,
        "1726675897",
    )


def test_price_at_falls_back_to_the_nearest_history_point_when_the_plan_refuses_historical_prices(
    server: ScriptedServer,
) -> None:
    server.script(
        Reply(403, {"success": False, "message": "Forbidden"}),
        Reply(200, fixture_bytes("birdeye_defi_history_price.json")),
        Reply(200, fixture_bytes("birdeye_defi_history_price.json")),
    )
    birdeye, _ = make_birdeye(server)

    # 1726671000 is 300 s after the first point and 600 s before the second.
    first = birdeye.price_at(SOL, 1726671000)
    # 1726672100 is 500 s after the second point and 400 s before the third.
    second = birdeye.price_at(SOL, 1726672100)

    assert (first, second) == (Decimal("127.97284640184616"), Decimal("127.40223856228901"))
    assert [r.path for r in server.requests] == [
        "/defi/historical_price_unix",
        "/defi/history_price",
        "/defi/history_price",  # the refusal is remembered: no second 403
    ]
    assert (server.requests[1].param("time_from"), server.requests[1].param("time_to")) == ("1726670100", "1726671900")
    assert server.requests[1].param("type") == "1m"


def test_price_at_falls_back_when_there_is_no_price_at_that_time(server: ScriptedServer) -> None:
    no_price = {"success": True, "data": {**HISTORICAL_PRICE_UNIX["data"], "value": None}}
    server.script(Reply(200, no_price), Reply(200, {"success": True, "data": {"isScaledUiToken": False, "items": []}}))
    birdeye, _ = make_birdeye(server)

    assert birdeye.price_at(SOL, 1726671000) is None
    assert [r.path for r in server.requests] == ["/defi/historical_price_unix", "/defi/history_price"]


def test_token_trending_reads_one_page_of_trending_tokens(server: ScriptedServer) -> None:
    server.script(Reply(200, fixture_bytes("birdeye_defi_token_trending.json")))
    birdeye, _ = make_birdeye(server)

    page = birdeye.token_trending(limit=2, offset=0)

    assert page == TrendingTokens(
        update_unix_time=1726681733,
        total=1000,
        tokens=(
            TrendingToken(
                address="HJXh1XULVe2Mdp6mTKd5K7of1uFqBTbmcWzvBv6cpump",
                symbol="ATO",
                name="AVOCATO",
                decimals=6,
                logo_uri="https://ipfs.io/ipfs/QmR7QnPaYcfwoG8oymK5JRDsB9GSgHr71mJmL2MuJ7Qk3x",
                rank=1,
                price=Decimal("0.00010551649518689046"),
                liquidity=Decimal("34641.80933146691"),
                volume_24h_usd=Decimal("1202872.3148187269"),
                volume_24h_change_percent=Decimal("33"),
                price_24h_change_percent=Decimal("210"),
                fdv=Decimal("17028232129"),
                market_cap=Decimal("28232129"),
            ),
            TrendingToken(
                address="HYFDwieKWth1kzKbtLFMtgMVwukyvyWNYFxyQDcWpump",
                symbol="LIQUIDATOR",
                name="The Liquidator",
                decimals=6,
                logo_uri="https://ipfs.io/ipfs/QmUxhHFAugzzWmTMCMCky1QjaJNjtpBNhC2iRELb77Vqfw",
                rank=2,
                price=Decimal("0.0006106216453936813"),
                liquidity=Decimal("73874.80948083404"),
                volume_24h_usd=Decimal("920580.3615402475"),
                volume_24h_change_percent=Decimal("5"),
                price_24h_change_percent=Decimal("12"),
                fdv=Decimal("1495237953"),
                market_cap=Decimal("5425292"),
            ),
        ),
    )
    request = server.requests[0]
    assert request.path == "/defi/token_trending"
    assert {name: request.param(name) for name in ("sort_by", "sort_type", "interval", "offset", "limit")} == {
        "sort_by": "rank",
        "sort_type": "asc",
        "interval": "24h",
        "offset": "0",
        "limit": "2",
    }


def test_token_trending_refuses_more_than_20_a_page_without_calling(server: ScriptedServer) -> None:
    birdeye, _ = make_birdeye(server)

    with pytest.raises(ValueError, match="limit"):
        birdeye.token_trending(limit=21)

    assert server.requests == []


# -- errors -----------------------------------------------------------------------------------


def test_success_false_is_a_permanent_error_and_not_retried(server: ScriptedServer) -> None:
    server.script(
        Reply(200, {"success": False, "message": "Not found"}),
        Reply(200, fixture_bytes("birdeye_defi_multi_price.json")),
    )
    birdeye, _ = make_birdeye(server)

    with pytest.raises(BirdeyeError) as caught:
        birdeye.multi_price([SOL])

    assert (caught.value.provider, caught.value.status, caught.value.transient) == ("birdeye", None, False)
    assert str(caught.value) == "birdeye: GET /defi/multi_price failed (permanent): success=False: Not found"
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"data": {}},
        {"success": True},
        {"success": True, "data": ["not", "a", "map"]},
        {"success": True, "data": {SOL: 127.3}},
        {"success": True, "data": {SOL: {"value": "one hundred"}}},
        {"success": True, "data": {SOL: {"value": True}}},
        {"success": True, "data": {SOL: {"value": 1.5, "updateUnixTime": "yesterday"}}},
    ],
)
def test_an_unexpected_multi_price_shape_is_a_permanent_birdeye_error(server: ScriptedServer, body: Any) -> None:
    server.script(Reply(200, body))
    birdeye, _ = make_birdeye(server)

    with pytest.raises(BirdeyeError) as caught:
        birdeye.multi_price([SOL])

    assert caught.value.transient is False


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("history", {"success": True, "data": {"items": "none"}}),
        ("history", {"success": True, "data": {"items": [{"unixTime": 1.5, "value": 1}]}}),
        ("overview", {"success": True, "data": [1, 2]}),
        ("overview", {"success": True, "data": {"address": SOL, "decimals": "nine"}}),
        ("trending", {"success": True, "data": {"tokens": [{"symbol": "NOADDR"}]}}),
        ("trending", {"success": True, "data": None}),
    ],
)
def test_unexpected_shapes_of_other_endpoints_are_permanent_birdeye_errors(
    server: ScriptedServer, call: str, body: Any
) -> None:
    server.script(Reply(200, body))
    birdeye, _ = make_birdeye(server)
    calls = {
        "history": lambda: birdeye.history_price(SOL, 1, 2),
        "overview": lambda: birdeye.token_overview(SOL),
        "trending": lambda: birdeye.token_trending(),
    }

    with pytest.raises(BirdeyeError) as caught:
        calls[call]()

    assert caught.value.transient is False


def test_a_429_is_retried_after_its_retry_after(server: ScriptedServer) -> None:
    server.script(
        Reply(429, {"success": False, "message": "Too many requests"}, {"Retry-After": "3"}),
        Reply(200, fixture_bytes("birdeye_defi_multi_price.json")),
    )
    birdeye, sleeps = make_birdeye(server)

    assert birdeye.multi_price([SOL, BONK]) == {SOL: SOL_PRICE, BONK: BONK_PRICE}
    assert sleeps == [3.0]
    assert len(server.requests) == 2


def test_5xx_answers_are_retried_with_backoff(server: ScriptedServer) -> None:
    server.script(
        Reply(500), Reply(502, b"<html>bad gateway</html>"), Reply(200, fixture_bytes("birdeye_defi_multi_price.json"))
    )
    birdeye, sleeps = make_birdeye(server)

    assert birdeye.multi_price([SOL])[SOL].update_unix_time == 1726673192
    assert sleeps == [0.25, 0.5]  # rng 0.5 × 0.5 s · 2^(n-1)


def test_a_rejected_key_is_not_retried_and_not_shown(server: ScriptedServer) -> None:
    server.script(Reply(401, {"success": False, "message": f"Unauthorized key {API_KEY}"}), Reply(200, {}))
    birdeye, sleeps = make_birdeye(server)

    with pytest.raises(BirdeyeError) as caught:
        birdeye.multi_price([JUP])

    assert (caught.value.status, caught.value.transient) == (401, False)
    assert API_KEY not in str(caught.value)
    assert "Unauthorized key ***" in str(caught.value)
    assert len(server.requests) == 1
    assert sleeps == []


def test_a_key_echoed_in_a_success_false_body_is_not_shown(server: ScriptedServer) -> None:
    server.script(Reply(200, {"success": False, "message": f"key {API_KEY} is over quota"}))
    birdeye, _ = make_birdeye(server)

    with pytest.raises(BirdeyeError) as caught:
        birdeye.token_overview(SOL)

    assert (
        str(caught.value)
        == "birdeye: GET /defi/token_overview failed (permanent): success=False: key *** is over quota"
    )


def test_a_call_that_keeps_timing_out_ends_in_a_transient_error(server: ScriptedServer) -> None:
    server.script(*[Reply(200, fixture_bytes("birdeye_defi_multi_price.json"), delay=0.5)] * 2)
    birdeye, sleeps = make_birdeye(server, timeout=0.1, max_attempts=2)

    with pytest.raises(BirdeyeError) as caught:
        birdeye.multi_price([SOL])

    assert (caught.value.status, caught.value.transient) == (None, True)
    assert "ReadTimeout" in str(caught.value)
    assert len(server.requests) == 2
    assert len(sleeps) == 1


# -- cache, rate limit, credits, settings ------------------------------------------------------


def test_a_second_price_call_within_the_ttl_is_answered_from_redis(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str
) -> None:
    server.script(Reply(200, fixture_bytes("birdeye_defi_multi_price.json")))
    birdeye, _ = make_birdeye(server, redis=redis_client, key_prefix=key_prefix)

    first = birdeye.multi_price([SOL, BONK, UNKNOWN])
    second = birdeye.multi_price([BONK, SOL, UNKNOWN])

    assert first == second == {SOL: SOL_PRICE, BONK: BONK_PRICE}
    assert len(server.requests) == 1
    assert 0 < redis_client.pttl(f"{key_prefix}:cache:birdeye:price:{SOL}") <= 20_000
    # "no price" is cached too, so an unknown token does not cost a call every poll
    assert redis_client.get(f"{key_prefix}:cache:birdeye:price:{UNKNOWN}") == b"null"


def test_only_uncached_mints_are_asked_for(server: ScriptedServer, redis_client: redis.Redis, key_prefix: str) -> None:
    server.script(
        Reply(200, fixture_bytes("birdeye_defi_multi_price.json")),
        Reply(200, {"success": True, "data": {JUP: None}}),
    )
    birdeye, _ = make_birdeye(server, redis=redis_client, key_prefix=key_prefix)

    birdeye.multi_price([SOL, BONK])
    prices = birdeye.multi_price([SOL, JUP, BONK])

    assert prices == {SOL: SOL_PRICE, BONK: BONK_PRICE}
    assert [r.param("list_address") for r in server.requests] == [f"{SOL},{BONK}", JUP]


def test_metadata_is_cached_for_five_minutes(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str
) -> None:
    server.script(
        Reply(200, fixture_bytes("birdeye_defi_token_overview.json")),
        Reply(200, fixture_bytes("birdeye_defi_token_trending.json")),
    )
    birdeye, _ = make_birdeye(server, redis=redis_client, key_prefix=key_prefix)

    overviews = [birdeye.token_overview(SOL), birdeye.token_overview(SOL)]
    pages = [birdeye.token_trending(), birdeye.token_trending()]

    assert overviews[0] == overviews[1] and overviews[1].price == Decimal("185.82977629057913")
    assert pages[0] == pages[1] and pages[1].tokens[0].symbol == "ATO"
    assert [r.path for r in server.requests] == ["/defi/token_overview", "/defi/token_trending"]
    assert 20 < redis_client.ttl(f"{key_prefix}:cache:birdeye:overview:{SOL}") <= 300


def test_every_call_still_works_uncached_when_redis_is_down(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.responder = lambda request: Reply(200, fixture_bytes("birdeye_defi_multi_price.json"))
    birdeye, _ = make_birdeye(server, redis=dead_redis())

    with caplog.at_level(logging.WARNING):
        first = birdeye.multi_price([SOL, BONK])
        second = birdeye.multi_price([SOL, BONK])

    assert first == second == {SOL: SOL_PRICE, BONK: BONK_PRICE}
    assert len(server.requests) == 2
    # one warning, then the cache leaves Redis alone for a while instead of paying a timeout a call
    assert len([r for r in caplog.records if r.message.startswith("response cache")]) == 1


def test_the_cache_tells_a_stored_null_from_a_miss_and_ignores_garbage(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    cache = ResponseCache(redis_client, key_prefix, 60)
    cache.set_many({"known": {"value": 1.5}, "unknown": None})
    redis_client.set(f"{key_prefix}:garbled", b"{not json")

    assert cache.get_many(["known", "unknown", "never", "garbled"]) == {"known": {"value": 1.5}, "unknown": None}
    assert cache.get("known") == {"value": 1.5}
    assert ResponseCache(None, key_prefix, 60).get("known") is None


def test_calls_go_through_the_shared_redis_rate_limiter(
    server: ScriptedServer, redis_client: redis.Redis, key_prefix: str
) -> None:
    # history_price: an uncached call, so both workers really send a request
    server.responder = lambda request: Reply(200, fixture_bytes("birdeye_defi_history_price.json"))
    worker_a, sleeps_a = make_birdeye(server, redis=redis_client, key_prefix=key_prefix, rate_per_second=2)
    worker_b, sleeps_b = make_birdeye(server, redis=redis_client, key_prefix=key_prefix, rate_per_second=2)

    worker_a.history_price(SOL, 1, 2)
    worker_b.history_price(SOL, 1, 2)

    assert sleeps_a == []
    assert len(sleeps_b) == 1 and 0.4 < sleeps_b[0] <= 0.5
    assert redis_client.exists(f"{key_prefix}:ratelimit:birdeye") == 1


def test_from_settings_reads_django_settings(server: ScriptedServer, settings, key_prefix: str) -> None:
    settings.BIRDEYE_BASE_URL = server.url + "/"
    settings.BIRDEYE_API_KEY = API_KEY
    settings.BIRDEYE_TIMEOUT_SECONDS = 3
    settings.BIRDEYE_RATE_PER_SECOND = 1.0  # Birdeye's Standard plan
    settings.REDIS_URL = REDIS_URL
    server.script(Reply(200, fixture_bytes("birdeye_defi_multi_price.json")))

    birdeye = BirdeyeClient.from_settings(key_prefix=key_prefix, sleep=Sleeps())

    assert birdeye.multi_price([SOL]) == {SOL: SOL_PRICE}
    assert birdeye.http.rate_limiter.rate_per_second == 1.0
    assert server.requests[0].path == "/defi/multi_price"
    assert server.requests[0].headers["x-api-key"] == API_KEY
