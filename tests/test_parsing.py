"""whales.ingestion.parsing over the real Helius payloads and edits of them (the command that
prints them: test_parse_swaps_cli.py).

Every expected amount here was worked out by hand from the payload: the wallet's balance deltas,
the network fee, token account rent, bot and platform fees. The working sits beside each case.
Prices were divided with `bc` and are compared to 15 significant digits.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.support.payloads import (
    BODI,
    BONDING_CURVE,
    BONDING_CURVE_TOKEN_ACCOUNT,
    BOT_FEE,
    CAROL,
    CLMM,
    CLMM_POOL,
    CLMM_POOL_USDC,
    CLMM_POOL_WSOL,
    FIXTURES,
    INVARIANT,
    JITO_TIP,
    JUP_MINT,
    JUP_TEMP_WSOL_ACCOUNT,
    JUP_TOKEN_ACCOUNT,
    JUP_USDC_ACCOUNT,
    JUP_WALLET,
    METEORA,
    NFT_SALE_WEBHOOK,
    PLATFORM_FEE,
    PLATFORM_FEE_ACCOUNT,
    POOL_B,
    POOL_B_USDC,
    POOL_B_WSOL,
    PUMP_AMM,
    PUMP_FUN_FEE,
    PUMP_POOL,
    PUMP_POOL_TOKEN_ACCOUNT,
    PUMP_POOL_WSOL_ACCOUNT,
    PUMP_TOKEN,
    PUMP_TOKEN_ACCOUNT,
    PUMP_WALLET,
    PUMP_WSOL_ACCOUNT,
    RAY_POOL_WSOL_ACCOUNT,
    RAY_TOKEN_ACCOUNT,
    RAY_WALLET,
    RAYDIUM,
    RELAYER,
    RENT,
    SOL_TRANSFER,
    SOL_TRANSFER_XRAY,
    SPL_TRANSFER,
    TWO_HOPS,
    UNKNOWN,
    entry_of,
    fixture,
    load,
    relayer_paid_buy,
)
from whales.ingestion.parsing import (
    MalformedTransaction,
    ParsedSwap,
    accounts_involved,
    parse_activity,
    parse_swaps,
)
from whales.solana import USDC_MINT, WSOL_MINT

Trade = tuple[str, str, Decimal, str, Decimal]  # side, token mint, token amount, quote mint, quote amount


def trade(swap: ParsedSwap) -> Trade:
    return swap.side, swap.token_mint, swap.token_amount, swap.quote_mint, swap.quote_amount


def the_swap(tx: dict, wallet: str) -> ParsedSwap:
    swaps = parse_swaps(tx, wallet)
    assert len(swaps) == 1, swaps
    return swaps[0]


def assert_price(price: Decimal, expected: str) -> None:
    """`price` equals the hand-divided quotient to 15 significant digits."""
    assert abs(price - Decimal(expected)) <= Decimal(expected) * Decimal("1e-15"), price


def balance(owner: str, token_account: str, mint: str, raw: int, decimals: int) -> dict:
    """A tokenBalanceChanges entry (also the shape of events.swap tokenInputs/tokenOutputs/tokenFees)."""
    return {
        "userAccount": owner,
        "tokenAccount": token_account,
        "rawTokenAmount": {"tokenAmount": str(raw), "decimals": decimals},
        "mint": mint,
    }


def token_transfer(source: tuple[str, str], destination: tuple[str, str], amount: float | int, mint: str) -> dict:
    """A tokenTransfers entry; `source` and `destination` are (owner, token account)."""
    return {
        "fromTokenAccount": source[1],
        "toTokenAccount": destination[1],
        "fromUserAccount": source[0],
        "toUserAccount": destination[0],
        "tokenAmount": amount,
        "mint": mint,
        "tokenStandard": "Fungible",
    }


def native(source: str, destination: str, lamports: int) -> dict:
    return {"fromUserAccount": source, "toUserAccount": destination, "amount": lamports}


# --- The real payloads ----------------------------------------------------------------------------

REAL_SWAPS = [
    pytest.param(
        RAYDIUM,
        RAY_WALLET,
        # SOL: nativeBalanceChange -10,036,298 + fee 36,298 = -10,000,000 lamports; no rent (the token
        # account already existed, its lamports did not move). Token: +18663358445 raw, 6 decimals.
        ("buy", BODI, Decimal("18663.358445"), WSOL_MINT, Decimal("0.01")),
        "0.000000535809245129675266",  # 0.01 / 18663.358445
        id="raydium-sol-for-a-pump-token",
    ),
    pytest.param(
        CLMM,
        JUP_WALLET,
        # USDC: -150000000 raw. SOL: +1,000,092,360 + fee 105,000 = +1,000,197,360; the temp wSOL
        # account took 2,039,280 rent and gave it back (1,002,236,640 = 1,000,197,360 + 2,039,280).
        ("buy", WSOL_MINT, Decimal("1.00019736"), USDC_MINT, Decimal("150")),
        "149.970401841492563027",  # 150 / 1.00019736
        id="jupiter-usdc-for-sol-one-hop",
    ),
    pytest.param(
        TWO_HOPS,
        JUP_WALLET,
        # USDC: -13279846 raw; USDT never touches the wallet. SOL: +99,940,015 + fee 59,985 = +100,000,000.
        ("buy", WSOL_MINT, Decimal("0.1"), USDC_MINT, Decimal("13.279846")),
        "132.79846",
        id="jupiter-usdc-for-sol-two-hops-via-usdt",
    ),
    pytest.param(
        METEORA,
        JUP_WALLET,
        # SOL: +660,465,656 + fee 565,000 = +661,030,656 = nativeOutput 666,361,548 - nativeFees 5,330,892
        # (the platform fee came out of the bought SOL, so the token amount is net of it). USDC: -100.
        ("buy", WSOL_MINT, Decimal("0.661030656"), USDC_MINT, Decimal("100")),
        "151.278914362483061602",  # 100 / 0.661030656
        id="jupiter-usdc-for-sol-with-a-platform-fee-in-sol",
    ),
    pytest.param(
        INVARIANT,
        JUP_WALLET,
        # SOL: +472,743,422 + fee 31,400 = +472,774,822. USDC: -69000000 raw.
        ("buy", WSOL_MINT, Decimal("0.472774822"), USDC_MINT, Decimal("69")),
        "145.946858396786620756",  # 69 / 0.472774822
        id="jupiter-usdc-for-sol-on-invariant",
    ),
    pytest.param(
        PUMP_AMM,
        PUMP_WALLET,
        # SOL: -20,262,269,285 + fee 230,001 = -20,262,039,284; minus the rent the wallet put into its
        # new token account (2u6Z…: +2,039,280, paid by the wallet) = -20,260,000,004. That is the
        # 20.040000002 wSOL to the pool + the 0.2 SOL bot fee + 0.020000002 that the abridged payload
        # does not show (PumpSwap's 0.05% protocol and 0.05% creator fees on 20 SOL, 1 lamport each
        # rounded up): all paid by the wallet for the trade.
        ("buy", PUMP_TOKEN, Decimal("19418974.01253"), WSOL_MINT, Decimal("20.260000004")),
        "0.00000104330949672868051659",  # 20.260000004 / 19418974.01253
        id="pumpswap-buy-with-a-bot-fee-and-empty-events",
    ),
]

NOT_SWAPS = [
    # Each side of each transfer: only one asset moves for the wallet (SOL for rent is not a price).
    pytest.param(SPL_TRANSFER, "CvYVDrvLLCdPfKMDLKXG9KtRg7D1aMimmdTZXiHDg4Pg", id="spl-transfer-sender"),
    pytest.param(SPL_TRANSFER, "BvgYHNDAy4U4WYuAoGN9Wc1Q7o26BjEtAbCkqVReceya", id="spl-transfer-recipient"),
    pytest.param(SOL_TRANSFER, "BvgYHNDAy4U4WYuAoGN9Wc1Q7o26BjEtAbCkqVReceya", id="sol-transfer-sender"),
    pytest.param(SOL_TRANSFER, "5et5uNZDP9FXZPGU4k34PWXDRj8HBDdxB8yY4f9zisQA", id="sol-transfer-recipient"),
    pytest.param(SOL_TRANSFER_XRAY, "bags4FRraxJcyLbqusZ5hh4BiQbQQRe8k7NUMZbBMtd", id="xray-sol-transfer-sender"),
    pytest.param(SOL_TRANSFER_XRAY, "MatrfYnDmsBrdnETpW2S6uksrChkGwyN4RRCXtTPZsv", id="xray-sol-transfer-recipient"),
    pytest.param(UNKNOWN, "FHrRB84ns7angEhBSmWDwW1Je33tpP9ZoQTUmsu5Xx2x", id="unknown-fee-payer"),
    pytest.param(UNKNOWN, "Dgj2WcuBtUkSgR1y78EkxXncEasMoEQmNQ3mMeq2iTHr", id="unknown-sender"),
    # The buyer gets an NFT for 72 SOL, the seller gets SOL for it: an NFT sale is not a swap.
    pytest.param(NFT_SALE_WEBHOOK, "CKs1E69a2e9TmH4mKKLrXFF8kD3ZnwKjoEuXa6sz9WqX", id="nft-sale-buyer"),
    pytest.param(NFT_SALE_WEBHOOK, "5DxD5ViWjvRZEkxQEaJHZw2sBsso6xoXx3wGFNKgXUzE", id="nft-sale-seller"),
    pytest.param(NFT_SALE_WEBHOOK, "rFqFJ9g7TGBD8Ed7TPDnvGKZ5pWLPDyxLcvcH2eRCtt", id="nft-sale-royalty"),
]


@pytest.mark.parametrize(("name", "wallet", "expected", "price"), REAL_SWAPS)
def test_it_reads_each_real_swap_from_the_wallets_own_balances(
    name: str, wallet: str, expected: Trade, price: str
) -> None:
    tx = fixture(name)
    swap = the_swap(tx, wallet)
    assert trade(swap) == expected
    assert_price(swap.price, price)
    assert (swap.signature, swap.wallet, swap.block_time, swap.slot, swap.source) == (
        tx["signature"],
        wallet,
        tx["timestamp"],
        tx["slot"],
        tx["source"],
    )


@pytest.mark.parametrize(("name", "wallet"), NOT_SWAPS)
def test_it_finds_no_swap_in_transfers_unparsed_transactions_and_nft_sales(name: str, wallet: str) -> None:
    data = load(name)
    transactions = data if isinstance(data, list) else [data]
    assert [parse_swaps(tx, wallet) for tx in transactions] == [[] for _ in transactions]


def test_every_fixture_payload_has_an_expected_outcome_here() -> None:
    covered = {param.values[0] for param in REAL_SWAPS + NOT_SWAPS}
    assert covered == {path.name for path in FIXTURES.glob("*.json")}


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.glob("*.json")))
def test_a_wallet_not_involved_gets_no_swap(name: str) -> None:
    data = load(name)
    for tx in data if isinstance(data, list) else [data]:
        assert CAROL not in accounts_involved(tx)
        assert parse_swaps(tx, CAROL) == []


# --- Edited payloads: shapes seen in the wild that the samples lack --------------------------------


def pump_fun_curve_buy(*, native_transfers_listed: bool = True) -> dict:
    """A pump.fun bonding-curve buy the way Helius typed them: TRANSFER/SYSTEM_PROGRAM, empty events.

    Made from the PumpSwap payload (same wallet, token account and tokens). The wallet pays 1 SOL into
    the curve, 1% of it (0.01 SOL) to pump.fun's fee account, 2,039,280 lamports of rent for its new
    token account and a 5,000-lamport network fee. No wSOL moves and no transfer lists the curve leg,
    so the SOL leg is in the wallet's nativeBalanceChange only.
    """
    tx = fixture(PUMP_AMM)
    tx.update(type="TRANSFER", source="SYSTEM_PROGRAM", description="", events={}, fee=5_000)
    entry_of(tx, PUMP_WALLET)["nativeBalanceChange"] = -(1_000_000_000 + 10_000_000 + RENT + 5_000)
    assert entry_of(tx, PUMP_TOKEN_ACCOUNT)["nativeBalanceChange"] == RENT  # as captured
    tx["accountData"] += [
        {"account": BONDING_CURVE, "nativeBalanceChange": 1_000_000_000, "tokenBalanceChanges": []},
        {"account": PUMP_FUN_FEE, "nativeBalanceChange": 10_000_000, "tokenBalanceChanges": []},
    ]
    tx["tokenTransfers"] = [
        token_transfer(
            (BONDING_CURVE, BONDING_CURVE_TOKEN_ACCOUNT), (PUMP_WALLET, PUMP_TOKEN_ACCOUNT), 19418974.01253, PUMP_TOKEN
        )
    ]
    tx["nativeTransfers"] = (
        [native(PUMP_WALLET, PUMP_TOKEN_ACCOUNT, RENT), native(PUMP_WALLET, PUMP_FUN_FEE, 10_000_000)]
        if native_transfers_listed
        else []
    )
    return tx


def test_it_reads_a_pump_fun_curve_buy_typed_transfer_from_the_wallets_sol_balance() -> None:
    swap = the_swap(pump_fun_curve_buy(), PUMP_WALLET)
    # -(1,012,044,280) + fee 5,000 + own rent 2,039,280 = -1,010,000,000: the curve and pump.fun's fee.
    assert trade(swap) == ("buy", PUMP_TOKEN, Decimal("19418974.01253"), WSOL_MINT, Decimal("1.01"))
    assert_price(swap.price, "0.0000000520109867466892090")  # 1.01 / 19418974.01253
    assert swap.source == "SYSTEM_PROGRAM"


def test_it_leaves_out_the_token_account_rent_even_when_no_transfer_shows_who_paid_it() -> None:
    swap = the_swap(pump_fun_curve_buy(native_transfers_listed=False), PUMP_WALLET)
    assert trade(swap) == ("buy", PUMP_TOKEN, Decimal("19418974.01253"), WSOL_MINT, Decimal("1.01"))


def pumpswap_sell(*, wallet_entry_listed: bool = True, bot_fee: int = 198_000_000) -> dict:
    """A PumpSwap sell with empty events, made from the PumpSwap buy payload.

    The wallet sells all 19418974.01253 tokens. The pool pays 19.8 wSOL into a temp wSOL account the
    wallet opened (2,039,280 rent) and closes in the same transaction, so the same SOL shows twice:
    as the wSOL transfer and as the temp account's 19,802,039,280 lamports going back to the wallet.
    A trading bot takes 1% (0.198 SOL) of the proceeds.
    """
    tx = fixture(PUMP_AMM)
    proceeds, fee = 19_800_000_000, tx["fee"]
    tx["tokenTransfers"] = [
        token_transfer(
            (PUMP_WALLET, PUMP_TOKEN_ACCOUNT), (PUMP_POOL, PUMP_POOL_TOKEN_ACCOUNT), 19418974.01253, PUMP_TOKEN
        ),
        token_transfer((PUMP_POOL, PUMP_POOL_WSOL_ACCOUNT), (PUMP_WALLET, PUMP_WSOL_ACCOUNT), 19.8, WSOL_MINT),
    ]
    tx["nativeTransfers"] = [
        native(PUMP_WALLET, PUMP_WSOL_ACCOUNT, RENT),
        native(PUMP_WSOL_ACCOUNT, PUMP_WALLET, proceeds + RENT),
    ]
    tx["accountData"] = [
        {
            "account": PUMP_TOKEN_ACCOUNT,
            "nativeBalanceChange": 0,
            "tokenBalanceChanges": [balance(PUMP_WALLET, PUMP_TOKEN_ACCOUNT, PUMP_TOKEN, -19418974012530, 6)],
        },
        {"account": PUMP_WSOL_ACCOUNT, "nativeBalanceChange": 0, "tokenBalanceChanges": []},
        {
            "account": PUMP_POOL_TOKEN_ACCOUNT,
            "nativeBalanceChange": 0,
            "tokenBalanceChanges": [balance(PUMP_POOL, PUMP_POOL_TOKEN_ACCOUNT, PUMP_TOKEN, 19418974012530, 6)],
        },
        {
            "account": PUMP_POOL_WSOL_ACCOUNT,
            "nativeBalanceChange": -proceeds,
            "tokenBalanceChanges": [balance(PUMP_POOL, PUMP_POOL_WSOL_ACCOUNT, WSOL_MINT, -proceeds, 9)],
        },
    ]
    if bot_fee:
        tx["nativeTransfers"].append(native(PUMP_WALLET, BOT_FEE, bot_fee))
        tx["accountData"].append({"account": BOT_FEE, "nativeBalanceChange": bot_fee, "tokenBalanceChanges": []})
    if wallet_entry_listed:
        wallet_entry = {"account": PUMP_WALLET, "nativeBalanceChange": proceeds - bot_fee - fee}
        tx["accountData"].insert(0, {**wallet_entry, "tokenBalanceChanges": []})
    assert tx["events"] == {} and tx["type"] == "SWAP"  # as captured
    return tx


def test_it_reads_a_pumpswap_sell_once() -> None:
    swap = the_swap(pumpswap_sell(), PUMP_WALLET)
    # Wallet: -2,039,280 + 19,802,039,280 - 198,000,000 - 230,001 = 19,601,769,999; + fee 230,001
    # = 19,602,000,000: the 19.8 SOL proceeds less the 0.198 bot fee. Counting both the wSOL transfer
    # and the temp account's close would give about 39.6.
    assert trade(swap) == ("sell", PUMP_TOKEN, Decimal("19418974.01253"), WSOL_MINT, Decimal("19.602"))
    assert_price(swap.price, "0.00000100942511109762561904")  # 19.602 / 19418974.01253


def test_it_reads_pumpswap_proceeds_once_when_only_the_transfers_show_them() -> None:
    tx = pumpswap_sell(wallet_entry_listed=False, bot_fee=0)
    swap = the_swap(tx, PUMP_WALLET)
    # No SOL balance for the wallet: the 19.8 wSOL transfer alone, not + the 19.802039280 close.
    assert trade(swap) == ("sell", PUMP_TOKEN, Decimal("19418974.01253"), WSOL_MINT, Decimal("19.8"))
    assert_price(swap.price, "0.00000101962132434103597883")  # 19.8 / 19418974.01253


def sol_to_usdc_sell() -> dict:
    """The Raydium CLMM payload run the other way: the wallet wraps 1.00019736 SOL and gets 150 USDC."""
    tx = fixture(CLMM)
    sold, fee = 1_000_197_360, tx["fee"]
    tx["description"] = ""
    tx["tokenTransfers"] = [
        token_transfer((JUP_WALLET, JUP_TEMP_WSOL_ACCOUNT), (CLMM_POOL, CLMM_POOL_WSOL), 1.00019736, WSOL_MINT),
        token_transfer((CLMM_POOL, CLMM_POOL_USDC), (JUP_WALLET, JUP_USDC_ACCOUNT), 150, USDC_MINT),
    ]
    tx["nativeTransfers"] = [
        native(JUP_WALLET, JUP_TEMP_WSOL_ACCOUNT, RENT),
        native(JUP_WALLET, JUP_TEMP_WSOL_ACCOUNT, sold),
        native(JUP_TEMP_WSOL_ACCOUNT, JUP_WALLET, RENT),
    ]
    entry_of(tx, JUP_WALLET)["nativeBalanceChange"] = -(sold + fee)
    entry_of(tx, JUP_USDC_ACCOUNT)["tokenBalanceChanges"] = [
        balance(JUP_WALLET, JUP_USDC_ACCOUNT, USDC_MINT, 150_000_000, 6)
    ]
    entry_of(tx, CLMM_POOL_USDC)["tokenBalanceChanges"] = [
        balance(CLMM_POOL, CLMM_POOL_USDC, USDC_MINT, -150_000_000, 6)
    ]
    entry_of(tx, CLMM_POOL_WSOL).update(
        nativeBalanceChange=sold, tokenBalanceChanges=[balance(CLMM_POOL, CLMM_POOL_WSOL, WSOL_MINT, sold, 9)]
    )
    tx["events"] = {
        "swap": {
            "nativeInput": {"account": JUP_WALLET, "amount": str(sold)},
            "nativeOutput": None,
            "tokenInputs": [],
            "tokenOutputs": [balance(JUP_WALLET, JUP_USDC_ACCOUNT, USDC_MINT, 150_000_000, 6)],
            "nativeFees": [],
            "tokenFees": [],
            "innerSwaps": [],
        }
    }
    return tx


def test_it_reads_a_sol_to_usdc_swap_as_a_sell_of_sol_quoted_in_usdc() -> None:
    swap = the_swap(sol_to_usdc_sell(), JUP_WALLET)
    # SOL: -(1,000,197,360 + 105,000) + fee 105,000 = -1,000,197,360; the temp account's rent came back.
    assert trade(swap) == ("sell", WSOL_MINT, Decimal("1.00019736"), USDC_MINT, Decimal("150"))
    assert_price(swap.price, "149.970401841492563027")  # 150 / 1.00019736


def split_route_buy(*, wallet_balances_listed: bool = True) -> dict:
    """The Raydium CLMM buy split over two pools in parallel: 90 USDC to pool A for 0.600118416 SOL,
    60 USDC to pool B for 0.400078944 SOL (together 150 USDC for 1.00019736 SOL, as captured)."""
    tx = fixture(CLMM)
    wallet_usdc, wallet_wsol = (JUP_WALLET, JUP_USDC_ACCOUNT), (JUP_WALLET, JUP_TEMP_WSOL_ACCOUNT)
    legs_a = [
        token_transfer(wallet_usdc, (CLMM_POOL, CLMM_POOL_USDC), 90, USDC_MINT),
        token_transfer((CLMM_POOL, CLMM_POOL_WSOL), wallet_wsol, 0.600118416, WSOL_MINT),
    ]
    legs_b = [
        token_transfer(wallet_usdc, (POOL_B, POOL_B_USDC), 60, USDC_MINT),
        token_transfer((POOL_B, POOL_B_WSOL), wallet_wsol, 0.400078944, WSOL_MINT),
    ]
    tx["tokenTransfers"] = legs_a + legs_b
    entry_of(tx, CLMM_POOL_USDC)["tokenBalanceChanges"] = [balance(CLMM_POOL, CLMM_POOL_USDC, USDC_MINT, 90_000_000, 6)]
    entry_of(tx, CLMM_POOL_WSOL).update(
        nativeBalanceChange=-600_118_416,
        tokenBalanceChanges=[balance(CLMM_POOL, CLMM_POOL_WSOL, WSOL_MINT, -600_118_416, 9)],
    )
    tx["accountData"] += [
        {
            "account": POOL_B_USDC,
            "nativeBalanceChange": 0,
            "tokenBalanceChanges": [balance(POOL_B, POOL_B_USDC, USDC_MINT, 60_000_000, 6)],
        },
        {
            "account": POOL_B_WSOL,
            "nativeBalanceChange": -400_078_944,
            "tokenBalanceChanges": [balance(POOL_B, POOL_B_WSOL, WSOL_MINT, -400_078_944, 9)],
        },
    ]
    swap_event = tx["events"]["swap"]
    (inner,) = swap_event["innerSwaps"]
    swap_event["innerSwaps"] = [
        {**inner, "tokenInputs": legs_a[:1], "tokenOutputs": legs_a[1:]},
        {**inner, "tokenInputs": legs_b[:1], "tokenOutputs": legs_b[1:]},
    ]
    if not wallet_balances_listed:
        tx["accountData"] = [e for e in tx["accountData"] if e["account"] not in (JUP_WALLET, JUP_USDC_ACCOUNT)]
    return tx


@pytest.mark.parametrize("wallet_balances_listed", [True, False], ids=["from-balances", "from-transfers-and-event"])
def test_it_counts_a_split_route_once(wallet_balances_listed: bool) -> None:
    swap = the_swap(split_route_buy(wallet_balances_listed=wallet_balances_listed), JUP_WALLET)
    # Balances: USDC -150000000 raw, SOL +1,000,197,360 as captured. Transfers: -90 - 60 = -150 USDC;
    # event nativeOutput 1,000,197,360 = 600,118,416 + 400,078,944.
    assert trade(swap) == ("buy", WSOL_MINT, Decimal("1.00019736"), USDC_MINT, Decimal("150"))


@pytest.mark.parametrize(
    "error",
    [{"InstructionError": [2, {"Custom": 6001}]}, {"error": "custom program error: 0x1771"}],
    ids=["rust-sdk-shape", "openapi-shape"],
)
def test_it_finds_no_swap_in_a_failed_transaction(error: dict) -> None:
    tx = fixture(RAYDIUM)
    tx["transactionError"] = error
    assert parse_swaps(tx, RAY_WALLET) == []


def token_to_token_swap(*, tip: int = 0) -> dict:
    """The Raydium buy paid for with 1.5 JUP instead of 0.01 SOL: JUP for a pump token, no quote leg."""
    tx = fixture(RAYDIUM)
    tx["tokenTransfers"][0].update(mint=JUP_MINT, tokenAmount=1.5, fromTokenAccount=JUP_TOKEN_ACCOUNT)
    entry_of(tx, RAY_WALLET)["nativeBalanceChange"] = -(tx["fee"] + tip)
    entry_of(tx, RAY_POOL_WSOL_ACCOUNT).update(
        nativeBalanceChange=0,
        tokenBalanceChanges=[
            balance("5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1", RAY_POOL_WSOL_ACCOUNT, JUP_MINT, 1_500_000, 6)
        ],
    )
    tx["accountData"].append(
        {
            "account": JUP_TOKEN_ACCOUNT,
            "nativeBalanceChange": 0,
            "tokenBalanceChanges": [balance(RAY_WALLET, JUP_TOKEN_ACCOUNT, JUP_MINT, -1_500_000, 6)],
        }
    )
    tx["events"]["swap"].update(
        nativeInput=None, tokenInputs=[balance(RAY_WALLET, JUP_TOKEN_ACCOUNT, JUP_MINT, 1_500_000, 6)]
    )
    if tip:
        tx["nativeTransfers"].append(native(RAY_WALLET, JITO_TIP, tip))
        tx["accountData"].append({"account": JITO_TIP, "nativeBalanceChange": tip, "tokenBalanceChanges": []})
    return tx


@pytest.mark.parametrize("tip", [0, 1_000_000], ids=["sol-flat", "with-a-0.001-sol-tip"])
def test_it_skips_a_token_to_token_swap(tip: int) -> None:
    assert parse_swaps(token_to_token_swap(tip=tip), RAY_WALLET) == []


def raydium_buy_with_platform_fee(*, wallet_balances_listed: bool = True) -> dict:
    """The Raydium buy with a 1% platform fee taken from the bought token: 186.633584 of 18663.358445
    goes on from the wallet's token account to the platform's, leaving 18476.724861."""
    tx = fixture(RAYDIUM)
    tx["tokenTransfers"].append(
        token_transfer((RAY_WALLET, RAY_TOKEN_ACCOUNT), (PLATFORM_FEE, PLATFORM_FEE_ACCOUNT), 186.633584, BODI)
    )
    wallet_tokens = [balance(RAY_WALLET, RAY_TOKEN_ACCOUNT, BODI, 18_663_358_445 - 186_633_584, 6)]
    entry_of(tx, RAY_TOKEN_ACCOUNT)["tokenBalanceChanges"] = wallet_tokens if wallet_balances_listed else []
    fee_tokens = balance(PLATFORM_FEE, PLATFORM_FEE_ACCOUNT, BODI, 186_633_584, 6)
    tx["accountData"].append(
        {"account": PLATFORM_FEE_ACCOUNT, "nativeBalanceChange": 0, "tokenBalanceChanges": [fee_tokens]}
    )
    tx["events"]["swap"]["tokenFees"] = [fee_tokens]
    return tx


@pytest.mark.parametrize("wallet_balances_listed", [True, False], ids=["from-balances", "from-transfers"])
def test_it_reports_a_bought_token_net_of_a_platform_fee_taken_from_it(wallet_balances_listed: bool) -> None:
    swap = the_swap(raydium_buy_with_platform_fee(wallet_balances_listed=wallet_balances_listed), RAY_WALLET)
    # 18663358445 - 186633584 = 18476724861 raw (or 18663.358445 - 186.633584 by transfers).
    assert trade(swap) == ("buy", BODI, Decimal("18476.724861"), WSOL_MINT, Decimal("0.01"))
    assert_price(swap.price, "0.000000541221459713763283")  # 0.01 / 18476.724861


def test_it_finds_the_wallets_swap_in_a_transaction_a_relayer_paid_for() -> None:
    swap = the_swap(relayer_paid_buy(), JUP_WALLET)
    # +1,000,197,360 with no fee to add back: the relayer's 105,000 is not the wallet's.
    assert trade(swap) == ("buy", WSOL_MINT, Decimal("1.00019736"), USDC_MINT, Decimal("150"))
    assert parse_swaps(relayer_paid_buy(), RELAYER) == []


def without(*keys: str) -> Callable[[dict], None]:
    def edit(tx: dict) -> None:
        for key in keys:
            del tx[key]

    return edit


def setting(**fields: Any) -> Callable[[dict], None]:
    return lambda tx: tx.update(fields)


ODD_BUT_VALID = [
    pytest.param(without("events"), id="no-events"),
    pytest.param(setting(events=[]), id="events-an-empty-array"),
    pytest.param(setting(events=None), id="events-null"),
    pytest.param(setting(events={"swap": None}), id="swap-event-null"),
    pytest.param(without("instructions"), id="no-instructions"),
    pytest.param(without("transactionError"), id="no-transactionError"),
    pytest.param(setting(transactionError={}), id="transactionError-empty"),
    pytest.param(without("description", "type"), id="no-description-or-type"),
    pytest.param(setting(type="UNKNOWN", source="UNKNOWN", description="nonsense"), id="typed-unknown"),
    pytest.param(without("instructions", "events", "transactionError"), id="shaped-like-the-webhook-docs"),
]


@pytest.mark.parametrize("edit", ODD_BUT_VALID)
@pytest.mark.parametrize(("name", "wallet", "expected", "price"), [REAL_SWAPS[0], REAL_SWAPS[3]])
def test_it_reads_payloads_with_missing_or_odd_optional_fields(
    edit: Callable[[dict], None], name: str, wallet: str, expected: Trade, price: str
) -> None:
    tx = fixture(name)
    edit(tx)
    assert trade(the_swap(tx, wallet)) == expected


def test_a_duplicate_delivery_gives_the_same_swap_and_the_payload_is_left_untouched() -> None:
    tx = fixture(PUMP_AMM)
    first, second = parse_swaps(tx, PUMP_WALLET), parse_swaps(tx, PUMP_WALLET)
    assert first == second and len(first) == 1
    assert tx == fixture(PUMP_AMM)


def test_it_ignores_a_garbled_amount_in_the_swap_event_it_falls_back_on() -> None:
    tx = fixture(RAYDIUM)
    del tx["accountData"]  # leaves the event (nativeInput 10,000,000) and the token transfers
    tx["events"]["swap"]["nativeOutput"] = {"account": RAY_WALLET, "amount": 10**5000}
    assert trade(the_swap(tx, RAY_WALLET)) == ("buy", BODI, Decimal("18663.358445"), WSOL_MINT, Decimal("0.01"))


def set_path(*path: str | int, to: Any) -> Callable[[dict], None]:
    def edit(tx: dict) -> None:
        node: Any = tx
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = to

    return edit


MALFORMED = [
    pytest.param(without("signature"), "transaction has no signature", id="no-signature"),
    pytest.param(setting(fee="abc"), "fee should be an integer, got a string", id="fee-text"),
    pytest.param(setting(fee=-1), "fee should not be negative", id="fee-negative"),
    pytest.param(setting(fee=2**64), "fee is out of range", id="fee-past-64-bits"),
    pytest.param(setting(timestamp=-1), "timestamp should not be negative", id="timestamp-negative"),
    pytest.param(setting(slot=1.5), "slot should be an integer, got a number", id="slot-float"),
    pytest.param(setting(accountData={}), "accountData should be a list, got an object", id="accountData-object"),
    pytest.param(setting(accountData=[7]), "accountData[0] should be an object", id="accountData-number"),
    pytest.param(
        set_path("accountData", 0, "nativeBalanceChange", to=-(10**5000)),
        "accountData[0].nativeBalanceChange is out of range",
        id="lamports-past-the-int-to-text-limit",
    ),
    pytest.param(
        set_path("accountData", 13, "tokenBalanceChanges", 0, "rawTokenAmount", "tokenAmount", to="1.5"),
        "accountData[13].tokenBalanceChanges[0].rawTokenAmount.tokenAmount should be an integer string",
        id="raw-amount-fraction",
    ),
    pytest.param(
        set_path("accountData", 13, "tokenBalanceChanges", 0, "rawTokenAmount", "tokenAmount", to=10**5000),
        "rawTokenAmount.tokenAmount should be an integer string, got an integer of 16610 bits",
        id="raw-amount-past-the-int-to-text-limit",
    ),
    pytest.param(
        set_path("accountData", 13, "tokenBalanceChanges", 0, "rawTokenAmount", "decimals", to=256),
        "decimals should be an integer from 0 to 255",
        id="decimals-past-u8",
    ),
    pytest.param(
        set_path("tokenTransfers", 1, "tokenAmount", to=10**5000),
        "tokenTransfers[1].tokenAmount is out of range",
        id="ui-amount-past-the-int-to-text-limit",
    ),
    pytest.param(
        set_path("tokenTransfers", 1, "tokenAmount", to=float("nan")),
        "tokenTransfers[1].tokenAmount should be a finite number",
        id="ui-amount-nan",
    ),
    pytest.param(
        setting(nativeTransfers=[native(RAY_WALLET, RAY_TOKEN_ACCOUNT, -1)]),
        "nativeTransfers[0].amount should be a non-negative integer",
        id="native-transfer-negative",
    ),
    pytest.param(without("timestamp"), "has a swap but no timestamp or slot", id="swap-without-timestamp"),
]


@pytest.mark.parametrize(("edit", "message"), MALFORMED)
def test_it_refuses_a_payload_it_cannot_read_and_says_where(edit: Callable[[dict], None], message: str) -> None:
    tx = fixture(RAYDIUM)
    edit(tx)
    with pytest.raises(MalformedTransaction) as refused:
        parse_swaps(tx, RAY_WALLET)
    assert message in str(refused.value)


@pytest.mark.parametrize("payload", [[], "tx", 42, None], ids=["array", "text", "number", "null"])
def test_it_refuses_something_that_is_not_a_transaction_object(payload: Any) -> None:
    with pytest.raises(MalformedTransaction, match="expected a transaction object"):
        parse_swaps(payload, RAY_WALLET)


def test_its_refusals_are_one_line_even_when_the_payload_holds_newlines() -> None:
    conflicting = fixture(RAYDIUM)
    mint = "evil\nmint"
    for decimals in (6, 9):
        change = balance(RAY_WALLET, f"acct{decimals}", mint, 1, decimals)
        conflicting["accountData"].append({"account": f"acct{decimals}", "tokenBalanceChanges": [change]})
    timeless = fixture(RAYDIUM)
    timeless.update(signature="sig\nnature", timestamp=None)
    for tx in (conflicting, timeless):
        with pytest.raises(MalformedTransaction) as refused:
            parse_swaps(tx, RAY_WALLET)
        assert "\n" not in str(refused.value)
        assert "\\n" in str(refused.value)


# --- accounts_involved ----------------------------------------------------------------------------


def test_accounts_involved_names_every_party_that_could_be_a_tracked_wallet() -> None:
    assert accounts_involved(fixture(PUMP_AMM)) == {
        PUMP_WALLET,  # feePayer, accountData, tokenBalanceChanges owner, both kinds of transfer
        PUMP_TOKEN_ACCOUNT,  # accountData, nativeTransfers
        PUMP_POOL,  # tokenTransfers
        BOT_FEE,  # nativeTransfers
    }


def test_accounts_involved_reaches_a_wallet_that_neither_paid_the_fee_nor_has_an_account_entry() -> None:
    tx = fixture(NFT_SALE_WEBHOOK)
    involved = accounts_involved(tx)
    # The NFT's previous owner appears only as a tokenBalanceChanges owner and a token transfer sender.
    assert "1BWutmTvYPwDtmw9abTkS4Ssr8no61spGAvW1X6NDix" in involved
    # The marketplace escrow appears only in nativeTransfers.
    assert "AAaTGaA3uVqikfVEwoSG7EwkCb4bBDsMEyueiVUS5CaU" in involved
    assert "5DxD5ViWjvRZEkxQEaJHZw2sBsso6xoXx3wGFNKgXUzE" in involved  # the seller
    assert "25DTUAd1roBFoUQaxJQByL6Qy2cKQCBp4bK9sgfy9UiM" in involved  # a token account with a balance change


def test_accounts_involved_skips_garbage_fields_and_keeps_the_rest() -> None:
    tx = {
        "feePayer": 5,
        "accountData": [
            7,
            {"account": ["A"], "tokenBalanceChanges": {"userAccount": "B"}},
            {"account": "C", "tokenBalanceChanges": [None, {"userAccount": {"x": 1}}, {"userAccount": "D"}]},
        ],
        "tokenTransfers": [{"fromUserAccount": None, "toUserAccount": "E"}, "F"],
        "nativeTransfers": {"fromUserAccount": "G"},
    }
    assert accounts_involved(tx) == {"C", "D", "E"}
    nothing_readable = {"accountData": "x", "tokenTransfers": 3, "nativeTransfers": None, "feePayer": ""}
    assert accounts_involved(nothing_readable) == set()
    assert accounts_involved([]) == set()  # type: ignore[arg-type]


def synthetic_cases() -> list[tuple[dict, str]]:
    return [
        (pump_fun_curve_buy(), PUMP_WALLET),
        (pumpswap_sell(), PUMP_WALLET),
        (sol_to_usdc_sell(), JUP_WALLET),
        (split_route_buy(wallet_balances_listed=False), JUP_WALLET),
        (raydium_buy_with_platform_fee(), RAY_WALLET),
        (relayer_paid_buy(), JUP_WALLET),
    ]


def test_every_wallet_with_a_swap_is_among_the_accounts_involved() -> None:
    cases = [(fixture(param.values[0]), param.values[1]) for param in REAL_SWAPS] + synthetic_cases()
    for tx, wallet in cases:
        assert parse_swaps(tx, wallet), wallet
        assert wallet in accounts_involved(tx)


# --- transfers: tokens that move without a trade ---------------------------------------------------

SPL_SENDER = "CvYVDrvLLCdPfKMDLKXG9KtRg7D1aMimmdTZXiHDg4Pg"
SPL_RECIPIENT = "BvgYHNDAy4U4WYuAoGN9Wc1Q7o26BjEtAbCkqVReceya"
BLAIR = "EefTkRJwVUDuXYNpJLfbBCPsdU23P6rSc8LcjqmJEyHL"


def test_a_real_spl_transfer_is_out_for_the_sender_and_in_for_the_recipient() -> None:
    tx = fixture(SPL_TRANSFER)

    sent = parse_activity(tx, SPL_SENDER)
    received = parse_activity(tx, SPL_RECIPIENT)

    assert sent[0] == [] and received[0] == []
    [out] = sent[1]
    [into] = received[1]
    assert (out.direction, out.token_mint, out.token_amount, out.token_decimals) == (
        "out",
        BLAIR,
        Decimal("208361.796536622"),
        9,
    )
    assert (into.direction, into.token_mint, into.token_amount) == ("in", BLAIR, Decimal("208361.796536622"))
    assert (into.block_time, into.slot, into.source) == (1719909608, 275222012, "PHANTOM")


@pytest.mark.parametrize(
    ("name", "wallet"),
    [(RAYDIUM, RAY_WALLET), (CLMM, JUP_WALLET), (PUMP_AMM, PUMP_WALLET)],
)
def test_a_swap_is_never_also_a_transfer(name: str, wallet: str) -> None:
    swaps, transfers = parse_activity(fixture(name), wallet)
    assert len(swaps) == 1 and transfers == []


def test_moving_sol_or_two_tokens_is_not_a_token_transfer() -> None:
    sol = fixture(SOL_TRANSFER)
    assert parse_activity(sol, sol["feePayer"]) == ([], [])
    assert parse_activity(token_to_token_swap(), RAY_WALLET) == ([], [])


def test_a_failed_transfer_moves_nothing() -> None:
    tx = fixture(SPL_TRANSFER)
    tx["transactionError"] = {"InstructionError": [0, "Custom"]}
    assert parse_activity(tx, SPL_RECIPIENT) == ([], [])
