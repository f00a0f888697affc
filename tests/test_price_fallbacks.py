"""whales.market.prices.current_prices with real Birdeye, DexScreener and Jupiter clients, each aimed at its
own local HTTP server serving the recorded payloads."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from providers.birdeye import BirdeyeClient
from providers.dexscreener import DexScreenerClient
from providers.http import json_decimal
from providers.jupiter import JupiterClient
from tests.support.http import Recorded, Reply, ScriptedServer, Sleeps, serve
from whales.market.prices import STALE_AFTER_SECONDS, PriceQuote, PriceSources, current_prices

FIXTURES = Path(__file__).parent / "fixtures"
SOL = "So11111111111111111111111111111111111111112"
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"
SMOG = "FS66v5XYtJAFo14LiPz5HT93EUMAHmYipCfQhLpU4ss8"
UNKNOWN = "UnknownMint1111111111111111111111111111111"
SOL_UPDATED = 1726673192  # updateUnixTime of SOL in the recorded multi_price answer
BONK_UPDATED = 1726673185  # and of BONK
NOW = SOL_UPDATED + 60


def recorded(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


BIRDEYE_MULTI_PRICE = recorded("birdeye/birdeye_defi_multi_price.json")
DEXSCREENER_SOL = recorded("dexscreener/dexscreener_tokens_v1_solana_SOL.json")
DEXSCREENER_PAIRS = json.loads(recorded("dexscreener/dexscreener_latest_dex_tokens_solana_multi.json"))["pairs"]
JUPITER_PRICES = recorded("jupiter/jupiter_price_v3_docs_example.json")


@pytest.fixture
def birdeye_server() -> Iterator[ScriptedServer]:
    yield from serve()


@pytest.fixture
def dexscreener_server() -> Iterator[ScriptedServer]:
    yield from serve()


@pytest.fixture
def jupiter_server() -> Iterator[ScriptedServer]:
    yield from serve()


@pytest.fixture
def sources(
    birdeye_server: ScriptedServer, dexscreener_server: ScriptedServer, jupiter_server: ScriptedServer
) -> Iterator[PriceSources]:
    """Real clients, two attempts each, no real sleeping, no rate limit, no Redis."""
    options: dict[str, Any] = {"rate_per_second": 0, "sleep": Sleeps(), "max_attempts": 2, "timeout": 2.0}
    price_sources = PriceSources(
        birdeye=BirdeyeClient(birdeye_server.url, "birdeye-test-key", **options),
        dexscreener=DexScreenerClient(dexscreener_server.url, **options),
        jupiter=JupiterClient(jupiter_server.url, "jupiter-test-key", **options),
    )
    yield price_sources
    price_sources.close()


def asked_birdeye(server: ScriptedServer) -> list[list[str]]:
    return [r.param("list_address").split(",") for r in server.requests]


def asked_dexscreener(server: ScriptedServer) -> list[list[str]]:
    return [r.path.removeprefix("/tokens/v1/solana/").split(",") for r in server.requests]


def asked_jupiter(server: ScriptedServer) -> list[list[str]]:
    return [r.param("ids").split(",") for r in server.requests]


def test_birdeye_prices_come_first_and_nobody_else_is_asked(
    sources: PriceSources,
    birdeye_server: ScriptedServer,
    dexscreener_server: ScriptedServer,
    jupiter_server: ScriptedServer,
) -> None:
    birdeye_server.script(Reply(200, BIRDEYE_MULTI_PRICE))

    quotes = current_prices([SOL, BONK], sources, now=NOW)

    assert quotes == {
        SOL: PriceQuote(SOL, Decimal("127.32916175338693"), "birdeye", SOL_UPDATED, False),
        BONK: PriceQuote(BONK, Decimal("0.00001598090539282"), "birdeye", BONK_UPDATED, False),
    }
    assert dexscreener_server.requests == jupiter_server.requests == []


def test_dexscreener_fills_in_while_birdeye_keeps_failing_with_500(
    sources: PriceSources,
    birdeye_server: ScriptedServer,
    dexscreener_server: ScriptedServer,
    jupiter_server: ScriptedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    birdeye_server.responder = lambda request: Reply(500, {"success": False, "message": "Internal Server Error"})
    dexscreener_server.script(Reply(200, DEXSCREENER_SOL))

    with caplog.at_level(logging.WARNING, logger="whales.market.prices"):
        quotes = current_prices([SOL], sources, now=NOW)

    assert quotes == {SOL: PriceQuote(SOL, Decimal("100.17"), "dexscreener", NOW, False)}
    assert len(birdeye_server.requests) == 2  # retried once, then given up on
    assert jupiter_server.requests == []
    (warning,) = [r.message for r in caplog.records if r.name == "whales.market.prices"]
    assert warning.startswith("prices: birdeye could not price 1 mints, trying the next source: birdeye: GET ")


def test_mints_birdeye_lacks_go_to_dexscreener_then_to_jupiter(
    sources: PriceSources,
    birdeye_server: ScriptedServer,
    dexscreener_server: ScriptedServer,
    jupiter_server: ScriptedServer,
) -> None:
    birdeye_server.script(Reply(200, BIRDEYE_MULTI_PRICE))  # knows SOL and BONK only
    dexscreener_server.script(Reply(200, DEXSCREENER_PAIRS))  # knows SMOG among the rest
    jupiter_server.script(Reply(200, JUPITER_PRICES))  # knows JUP (and SOL, not asked again)

    quotes = current_prices([SMOG, SOL, JUP, UNKNOWN, BONK, SOL], sources, now=NOW)

    assert quotes == {
        SMOG: PriceQuote(SMOG, Decimal("0.06147"), "dexscreener", NOW, False),
        SOL: PriceQuote(SOL, Decimal("127.32916175338693"), "birdeye", SOL_UPDATED, False),
        JUP: PriceQuote(JUP, Decimal("0.4056018512541055"), "jupiter", NOW, False),
        BONK: PriceQuote(BONK, Decimal("0.00001598090539282"), "birdeye", BONK_UPDATED, False),
    }
    assert list(quotes) == [SMOG, SOL, JUP, BONK]  # the caller's order
    assert asked_birdeye(birdeye_server) == [[SMOG, SOL, JUP, UNKNOWN, BONK]]
    assert asked_dexscreener(dexscreener_server) == [[SMOG, JUP, UNKNOWN]]
    assert asked_jupiter(jupiter_server) == [[JUP, UNKNOWN]]


def test_a_mint_every_source_fails_on_is_simply_absent(
    sources: PriceSources,
    birdeye_server: ScriptedServer,
    dexscreener_server: ScriptedServer,
    jupiter_server: ScriptedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    birdeye_server.responder = lambda request: Reply(502, b"<html>bad gateway</html>")
    dexscreener_server.responder = lambda request: Reply(429, {"error": "Too Many Requests"}, {"Retry-After": "1"})
    jupiter_server.responder = lambda request: Reply(200, b"[]")  # wrong shape: permanent

    with caplog.at_level(logging.WARNING, logger="whales.market.prices"):
        quotes = current_prices([SOL, BONK], sources, now=NOW)

    assert quotes == {}
    assert [len(s.requests) for s in (birdeye_server, dexscreener_server, jupiter_server)] == [2, 2, 1]
    assert [r.message.split(" could not")[0] for r in caplog.records if r.name == "whales.market.prices"] == [
        "prices: birdeye",
        "prices: dexscreener",
        "prices: jupiter",
    ]


def test_an_old_birdeye_update_time_marks_the_quote_stale_and_keeps_it(
    sources: PriceSources, birdeye_server: ScriptedServer, dexscreener_server: ScriptedServer
) -> None:
    birdeye_server.script(Reply(200, BIRDEYE_MULTI_PRICE))
    now = BONK_UPDATED + STALE_AFTER_SECONDS + 1  # BONK 601 s old, SOL 594 s old

    quotes = current_prices([SOL, BONK], sources, now=now)

    assert quotes == {
        SOL: PriceQuote(SOL, Decimal("127.32916175338693"), "birdeye", SOL_UPDATED, False),
        BONK: PriceQuote(BONK, Decimal("0.00001598090539282"), "birdeye", BONK_UPDATED, True),
    }
    assert dexscreener_server.requests == []


def test_a_failed_birdeye_batch_costs_only_its_own_mints(
    sources: PriceSources, birdeye_server: ScriptedServer, dexscreener_server: ScriptedServer
) -> None:
    template = json.loads(BIRDEYE_MULTI_PRICE)["data"][SOL]
    sol_usdc_pair = json.loads(DEXSCREENER_SOL)[0]
    mints = [f"Mint{n:03d}" + "z" * 36 for n in range(150)]

    def birdeye(request: Recorded) -> Reply:
        listed = request.param("list_address").split(",")
        if listed[0] == mints[0]:
            return Reply(200, {"success": True, "data": {m: template for m in listed}})
        return Reply(503)

    def dexscreener(request: Recorded) -> Reply:
        pairs = []
        for mint in request.path.removeprefix("/tokens/v1/solana/").split(","):
            pair = copy.deepcopy(sol_usdc_pair)
            pair["baseToken"]["address"] = mint
            pairs.append(pair)
        return Reply(200, pairs)

    birdeye_server.responder = birdeye
    dexscreener_server.responder = dexscreener

    quotes = current_prices(mints, sources, now=NOW)

    assert [q.source for q in quotes.values()] == ["birdeye"] * 100 + ["dexscreener"] * 50
    assert quotes[mints[149]].price_usd == Decimal("100.17")
    assert asked_birdeye(birdeye_server) == [mints[:100]] + [mints[100:]] * 2
    assert asked_dexscreener(dexscreener_server) == [mints[100:130], mints[130:]]


def test_a_zero_birdeye_price_counts_as_no_price(
    sources: PriceSources, birdeye_server: ScriptedServer, jupiter_server: ScriptedServer
) -> None:
    answer = json.loads(BIRDEYE_MULTI_PRICE)
    answer["data"][JUP] = {**answer["data"][BONK], "value": 0}
    birdeye_server.script(Reply(200, answer))
    # dexscreener_server is unscripted: it answers 599, a transient error, so Jupiter is asked
    jupiter_server.script(Reply(200, JUPITER_PRICES))

    quotes = current_prices([JUP], sources, now=NOW)

    assert quotes == {JUP: PriceQuote(JUP, Decimal("0.4056018512541055"), "jupiter", NOW, False)}


def test_price_sources_from_settings_leaves_birdeye_out_without_a_key(
    settings, dexscreener_server: ScriptedServer, jupiter_server: ScriptedServer
) -> None:
    settings.BIRDEYE_API_KEY = ""
    settings.DEXSCREENER_BASE_URL = dexscreener_server.url
    settings.JUPITER_BASE_URL = jupiter_server.url
    settings.REDIS_URL = None
    dexscreener_server.script(Reply(200, DEXSCREENER_SOL))

    sources = PriceSources.from_settings()
    quotes = current_prices([SOL], sources, now=NOW)
    sources.close()

    assert sources.birdeye is None
    assert quotes == {SOL: PriceQuote(SOL, Decimal("100.17"), "dexscreener", NOW, False)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.00001598090539282, Decimal("0.00001598090539282")),
        (1.2583e-7, Decimal("1.2583E-7")),
        (0.1, Decimal("0.1")),  # not 0.1000000000000000055511151231257827
        (7026264396, Decimal(7026264396)),
        ("0.000002506", Decimal("0.000002506")),
        (None, None),
    ],
)
def test_json_numbers_become_the_decimals_they_were_written_as(value: Any, expected: Decimal | None) -> None:
    assert json_decimal(value) == expected


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "NaN", "12 SOL", [1], {"v": 1}])
def test_json_decimal_refuses_what_is_not_a_finite_number(value: Any) -> None:
    with pytest.raises(ValueError):
        json_decimal(value)
