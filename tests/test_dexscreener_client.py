"""providers.dexscreener against a real local HTTP server serving recorded DexScreener responses."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from providers.dexscreener import DexScreenerClient, DexScreenerError, PairPrice
from tests.support.http import Reply, ScriptedServer, Sleeps
from tests.support.redis import REDIS_URL

FIXTURES = Path(__file__).parent / "fixtures" / "dexscreener"
SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
SMOG = "FS66v5XYtJAFo14LiPz5HT93EUMAHmYipCfQhLpU4ss8"
ANSOM = "BfHkvKMEYjwPXnL36uiM8RnAoMFy8aqNyTJXYU3ZnZtz"
IDK = "CymqTrLSVZ97v87Z4W3dkF4ipZE1kYyeasmN2VckUL4J"
FROG = "6NspJqVFceCiU5D1YgVq7waYoC394Vhqxwg7cSJdFtVE"
ICY = "6HAgBL4ANWQaxKoJQ4zsL41rJuPZxAvBf82qRMqghYou"
SOLOOT = "88BMXN94NPqFnwvWdQ1vavEkQ6f1UhrCmY73GDJBbVvR"
TCAT = "D5HcRu139cfYrJdGJtDtkCS8RgG2R2huzRAthqYw4aDx"
UNLISTED = "Un1isted11111111111111111111111111111111111"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def legacy_pairs() -> list[dict[str, Any]]:
    """The 11 real pairs of the recorded /latest/dex/tokens answer, as /tokens/v1 sends them (a bare array)."""
    return json.loads(fixture_bytes("dexscreener_latest_dex_tokens_solana_multi.json"))["pairs"]


def make_dexscreener(server: ScriptedServer, **options: Any) -> tuple[DexScreenerClient, Sleeps]:
    sleeps = Sleeps()
    settings: dict[str, Any] = {"rate_per_second": 0, "sleep": sleeps, "rng": lambda: 0.5, "timeout": 2.0}
    settings.update(options)
    return DexScreenerClient(server.url, **settings), sleeps


def test_sol_is_priced_from_the_sol_usdc_pool_of_the_bare_array_answer(server: ScriptedServer) -> None:
    server.script(Reply(200, fixture_bytes("dexscreener_tokens_v1_solana_SOL.json")))
    dexscreener, _ = make_dexscreener(server)

    prices = dexscreener.token_prices([SOL])

    assert prices == {
        SOL: PairPrice(
            mint=SOL,
            price_usd=Decimal("100.17"),
            pair_address="58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2",
            dex_id="raydium",
            quote_mint=USDC,
            liquidity_usd=Decimal("14247194.46"),
        )
    }
    assert [(r.method, r.path) for r in server.requests] == [("GET", f"/tokens/v1/solana/{SOL}")]


def test_usdc_is_not_priced_from_a_pool_where_it_is_the_quote_token(server: ScriptedServer) -> None:
    # In the SOL/USDC pool priceUsd is SOL's price; reading it as USDC's would make USDC worth $100.
    server.script(Reply(200, fixture_bytes("dexscreener_tokens_v1_solana_SOL.json")))
    dexscreener, _ = make_dexscreener(server)

    assert dexscreener.token_prices([USDC]) == {}


def test_each_token_is_priced_from_its_most_liquid_sol_pool(server: ScriptedServer) -> None:
    server.script(Reply(200, legacy_pairs()))
    dexscreener, _ = make_dexscreener(server)
    mints = [SMOG, ANSOM, IDK, FROG, ICY, SOLOOT, TCAT, UNLISTED]

    prices = dexscreener.token_prices(mints)

    # SMOG: raydium ($1.66M) over orca ($9.4k, 0.06368) and meteora ($97, 0.05812); ANSOM: raydium ($98.7k)
    # over orca ($1.1k) and meteora ($999). TCAT's only pool reports $0 liquidity: dead, no price.
    assert {mint: (p.pair_address, p.dex_id, p.price_usd, p.liquidity_usd) for mint, p in prices.items()} == {
        SMOG: ("G6oNRyjP2WAVDUTYFPZsgBBxxMetyQEi2AYbmzRNe7Mc", "raydium", Decimal("0.06147"), Decimal("1656302.24")),
        ANSOM: ("ADwQhgVS41xbMSDeHbd9nDiGnky1y2CtgG4ctVcoUv1R", "raydium", Decimal("0.0003432"), Decimal("98709.87")),
        IDK: ("8gptfZ8bkT2Z1gMv38VpxarFfCXZPCykFKjGUkYJnfCR", "raydium", Decimal("0.0001509"), Decimal("123986.88")),
        FROG: ("FnBRxTzSNSqb3QCPfJEaMjMKAVFAwP2oRkwXNK4dKtdL", "raydium", Decimal("0.00001585"), Decimal("1901853.87")),
        ICY: ("4LuWv861ekYqSVgYumVXyz7PdN5P85HY6bx9RUkD7ttH", "raydium", Decimal("0.000005437"), Decimal("5057.53")),
        SOLOOT: ("5E2rpYCS88pfsWk3PM66s9Rwvbohi4xQPVwkcrbE89ug", "raydium", Decimal("0.001330"), Decimal("2342.67")),
    }
    assert all(p.quote_mint == SOL for p in prices.values())
    assert server.requests[0].path == "/tokens/v1/solana/" + ",".join(mints)


def test_a_deeper_pool_against_another_memecoin_is_not_used(server: ScriptedServer) -> None:
    pairs = legacy_pairs()
    smog_vs_ansom = copy.deepcopy(next(p for p in pairs if p["pairAddress"].startswith("BwGkEf")))
    smog_vs_ansom["quoteToken"] = {"address": ANSOM, "name": "Ansem's Cat", "symbol": "ANSOM"}
    smog_vs_ansom["liquidity"]["usd"] = 99_000_000
    smog_vs_ansom["priceUsd"] = "9.99"
    server.script(Reply(200, [smog_vs_ansom, *pairs]))
    dexscreener, _ = make_dexscreener(server)

    prices = dexscreener.token_prices([SMOG])

    assert (prices[SMOG].pair_address, prices[SMOG].price_usd) == (
        "G6oNRyjP2WAVDUTYFPZsgBBxxMetyQEi2AYbmzRNe7Mc",
        Decimal("0.06147"),
    )


def test_the_legacy_latest_dex_tokens_object_is_read_as_well(server: ScriptedServer) -> None:
    server.script(
        Reply(200, fixture_bytes("dexscreener_latest_dex_tokens_solana_multi.json")),
        Reply(200, {"schemaVersion": "1.0.0", "pairs": None}),
    )
    dexscreener, _ = make_dexscreener(server)

    assert dexscreener.token_prices([FROG])[FROG].price_usd == Decimal("0.00001585")
    assert dexscreener.token_prices([UNLISTED]) == {}


def test_70_mints_go_out_in_3_calls_of_at_most_30(server: ScriptedServer) -> None:
    server.responder = lambda request: Reply(200, [])
    dexscreener, _ = make_dexscreener(server)
    mints = [f"Mint{n:03d}" + "z" * 36 for n in range(70)]

    assert dexscreener.token_prices(mints + mints[:5]) == {}
    assert [r.path.removeprefix("/tokens/v1/solana/").split(",") for r in server.requests] == [
        mints[:30],
        mints[30:60],
        mints[60:],
    ]


@pytest.mark.parametrize("body", [{"error": "nope"}, "pairs", [["not", "a", "pair"]]])
def test_an_answer_that_is_not_a_list_of_pairs_is_a_permanent_error(server: ScriptedServer, body: Any) -> None:
    server.script(Reply(200, body))
    dexscreener, _ = make_dexscreener(server)

    with pytest.raises(DexScreenerError) as caught:
        dexscreener.token_prices([SOL])

    assert (caught.value.provider, caught.value.transient) == ("dexscreener", False)


def test_a_rate_limited_call_is_retried_after_retry_after(server: ScriptedServer) -> None:
    server.script(
        Reply(429, {"error": "Too Many Requests"}, {"Retry-After": "2"}),
        Reply(200, fixture_bytes("dexscreener_tokens_v1_solana_SOL.json")),
    )
    dexscreener, sleeps = make_dexscreener(server)

    assert dexscreener.token_prices([SOL])[SOL].price_usd == Decimal("100.17")
    assert sleeps == [2.0]


def test_from_settings_shares_a_300_a_minute_budget_through_redis(
    server: ScriptedServer, settings, redis_client: redis.Redis, key_prefix: str
) -> None:
    settings.DEXSCREENER_BASE_URL = server.url
    settings.DEXSCREENER_RATE_PER_SECOND = 5.0
    settings.REDIS_URL = REDIS_URL
    server.responder = lambda request: Reply(200, [])
    worker_a = DexScreenerClient.from_settings(key_prefix=key_prefix, sleep=Sleeps())
    worker_b = DexScreenerClient.from_settings(key_prefix=key_prefix, sleep=(sleeps_b := Sleeps()))

    worker_a.token_prices([SOL])
    worker_b.token_prices([SOL])

    assert worker_a.http.rate_limiter.rate_per_second == 5.0
    assert len(sleeps_b) == 1 and 0.1 < sleeps_b[0] <= 0.2  # one 0.2 s slot, less the first call's time
    assert redis_client.exists(f"{key_prefix}:ratelimit:dexscreener") == 1
    assert [r.path for r in server.requests] == [f"/tokens/v1/solana/{SOL}"] * 2
