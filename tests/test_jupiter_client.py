"""providers.jupiter against a real local HTTP server serving Jupiter's documented price v3 answers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from providers.jupiter import JupiterClient, JupiterError, JupiterPrice
from tests.support.http import Recorded, Reply, ScriptedServer, Sleeps

FIXTURES = Path(__file__).parent / "fixtures" / "jupiter"
API_KEY = "jupiter-test-key"
SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_jupiter(server: ScriptedServer, api_key: str = API_KEY, **options: Any) -> tuple[JupiterClient, Sleeps]:
    sleeps = Sleeps()
    settings: dict[str, Any] = {"rate_per_second": 0, "sleep": sleeps, "rng": lambda: 0.5, "timeout": 2.0}
    settings.update(options)
    return JupiterClient(server.url, api_key, **settings), sleeps


def test_prices_reads_the_documented_answer_and_leaves_omitted_mints_out(server: ScriptedServer) -> None:
    server.script(Reply(200, fixture_bytes("jupiter_price_v3_docs_example.json")))
    jupiter, _ = make_jupiter(server)

    prices = jupiter.prices([JUP, SOL, USDC])

    assert prices == {
        JUP: JupiterPrice(JUP, Decimal("0.4056018512541055"), 348004026, 6, Decimal("0.5292887924920519")),
        SOL: JupiterPrice(SOL, Decimal("147.4789340738336"), 348004023, 9, Decimal("1.2907622140620008")),
    }
    (request,) = server.requests
    assert (request.path, request.param("ids")) == ("/price/v3", f"{JUP},{SOL},{USDC}")
    assert request.headers["x-api-key"] == API_KEY


def test_prices_reads_liquidity_from_the_openapi_example(server: ScriptedServer) -> None:
    server.script(Reply(200, fixture_bytes("jupiter_price_v3_openapi_example.json")))
    jupiter, _ = make_jupiter(server)

    prices = jupiter.prices([USDC])

    assert prices == {
        USDC: JupiterPrice(USDC, Decimal("0.9999"), 348004025, 6, Decimal("-0.003"), Decimal("522175174.66"))
    }


def test_without_a_key_no_key_header_is_sent_and_the_keyless_rate_applies(server: ScriptedServer) -> None:
    server.script(Reply(200, {}))
    jupiter = JupiterClient(server.url, sleep=Sleeps())

    assert jupiter.prices([SOL]) == {}
    assert "x-api-key" not in server.requests[0].headers
    assert jupiter.http.rate_limiter.rate_per_second == 0.5


def test_120_mints_go_out_in_3_calls_of_at_most_50(server: ScriptedServer) -> None:
    entry = json.loads(fixture_bytes("jupiter_price_v3_docs_example.json"))[JUP]

    def respond(request: Recorded) -> Reply:
        return Reply(200, {mint: entry for mint in request.param("ids").split(",")})

    server.responder = respond
    jupiter, _ = make_jupiter(server)
    mints = [f"Mint{n:03d}" + "z" * 36 for n in range(120)]

    prices = jupiter.prices(mints)

    assert list(prices) == mints
    assert [r.param("ids").split(",") for r in server.requests] == [mints[:50], mints[50:100], mints[100:]]


def test_a_null_entry_counts_as_omitted(server: ScriptedServer) -> None:
    server.script(Reply(200, {SOL: None, JUP: {"usdPrice": None, "decimals": 6}}))
    jupiter, _ = make_jupiter(server)

    assert jupiter.prices([SOL, JUP]) == {}


@pytest.mark.parametrize("body", [[], {SOL: 147.48}, {SOL: {"usdPrice": "cheap"}}, {SOL: {"usdPrice": False}}])
def test_an_unexpected_shape_is_a_permanent_jupiter_error(server: ScriptedServer, body: Any) -> None:
    server.script(Reply(200, body))
    jupiter, _ = make_jupiter(server)

    with pytest.raises(JupiterError) as caught:
        jupiter.prices([SOL])

    assert (caught.value.provider, caught.value.transient) == ("jupiter", False)


def test_a_rejected_key_is_not_retried_and_not_shown(server: ScriptedServer) -> None:
    server.script(Reply(401, {"error": f"invalid key {API_KEY}"}))
    jupiter, sleeps = make_jupiter(server)

    with pytest.raises(JupiterError) as caught:
        jupiter.prices([SOL])

    assert (caught.value.status, caught.value.transient) == (401, False)
    assert API_KEY not in str(caught.value)
    assert len(server.requests) == 1 and sleeps == []


def test_from_settings_reads_base_url_and_key(server: ScriptedServer, settings) -> None:
    settings.JUPITER_BASE_URL = server.url
    settings.JUPITER_API_KEY = API_KEY
    settings.JUPITER_RATE_PER_SECOND = None
    settings.REDIS_URL = None
    server.script(Reply(200, fixture_bytes("jupiter_price_v3_docs_example.json")))

    jupiter = JupiterClient.from_settings(sleep=Sleeps())

    assert jupiter.prices([SOL])[SOL].usd_price == Decimal("147.4789340738336")
    assert server.requests[0].headers["x-api-key"] == API_KEY
    assert jupiter.http.rate_limiter.rate_per_second == 1.0  # a key's Free plan
