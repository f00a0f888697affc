"""`manage.py parse_swaps FILE [--wallet ADDRESS]` run as a person runs it: offline, one line on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.payloads import (
    BODI,
    CAROL,
    FIXTURES,
    JUP_WALLET,
    METEORA,
    NFT_SALE_WEBHOOK,
    PUMP_AMM,
    PUMP_TOKEN,
    PUMP_WALLET,
    RAY_WALLET,
    RAYDIUM,
    REPO_DIR,
    SOL_TRANSFER,
    TWO_HOPS,
    fixture,
    relayer_paid_buy,
)
from whales.solana import USDC_MINT, WSOL_MINT


def parse_swaps_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "parse_swaps", *args],
        cwd=REPO_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def printed_swaps(*args: str) -> list[dict]:
    result = parse_swaps_command(*args)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return json.loads(result.stdout)


def assert_refused_in_one_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), result.stderr


def test_the_command_prints_the_swap_in_a_fixture_file() -> None:
    assert printed_swaps(str(FIXTURES / TWO_HOPS)) == [
        {
            "signature": "2hUNXDt4F5TgFiySgdubost3TKDiP1Sva2xex9HUdqvAhY4Kk6Csq3Eym8hK33gqzy6MbMyHGmAVMExFdXsKbgdq",
            "wallet": JUP_WALLET,
            "side": "buy",
            "token_mint": WSOL_MINT,
            "token_amount": "0.1",
            "quote_mint": USDC_MINT,
            "quote_amount": "13.279846",
            "price": "132.79846",
            "block_time": 1725303149,
            "source": "JUPITER",
        }
    ]


def test_the_command_reads_an_array_of_transactions_in_order(tmp_path: Path) -> None:
    batch = tmp_path / "history.json"
    batch.write_text(json.dumps([fixture(RAYDIUM), fixture(SOL_TRANSFER), fixture(METEORA), fixture(PUMP_AMM)]))
    swaps = printed_swaps(str(batch))
    assert [(s["wallet"], s["side"], s["token_mint"], s["token_amount"], s["quote_amount"]) for s in swaps] == [
        (RAY_WALLET, "buy", BODI, "18663.358445", "0.01"),
        (JUP_WALLET, "buy", WSOL_MINT, "0.661030656", "100"),
        (PUMP_WALLET, "buy", PUMP_TOKEN, "19418974.01253", "20.260000004"),
    ]


def test_the_command_reads_a_webhook_delivery_with_no_swap_in_it() -> None:
    assert printed_swaps(str(FIXTURES / NFT_SALE_WEBHOOK)) == []


def test_the_command_prints_nothing_for_a_wallet_not_involved() -> None:
    assert printed_swaps(str(FIXTURES / RAYDIUM), "--wallet", CAROL) == []


def test_the_command_finds_a_relayer_paid_swap_for_the_wallet_named(tmp_path: Path) -> None:
    payload = tmp_path / "relayed.json"
    payload.write_text(json.dumps(relayer_paid_buy()))
    (swap,) = printed_swaps(str(payload), "--wallet", JUP_WALLET)
    assert (swap["wallet"], swap["side"], swap["token_amount"], swap["quote_amount"]) == (
        JUP_WALLET,
        "buy",
        "1.00019736",
        "150",
    )
    assert printed_swaps(str(payload)) == []  # read for its fee payer, the relayer


@pytest.mark.parametrize(
    "content",
    [b"[{", b"", b"{'signature': 'x'}", b"[" * 100_000 + b"]" * 100_000, b'{"signature": "\xff"}'],
    ids=["cut-short", "empty", "single-quotes", "nested-too-deep", "not-utf-8"],
)
def test_the_command_refuses_malformed_json_in_one_line(tmp_path: Path, content: bytes) -> None:
    payload = tmp_path / "bad.json"
    payload.write_bytes(content)
    assert_refused_in_one_line(parse_swaps_command(str(payload)))


def raydium_with(**fields: Any) -> dict:
    tx = fixture(RAYDIUM)
    tx.update(fields)
    return tx


@pytest.mark.parametrize(
    "data",
    [
        42,
        [1],
        "a transaction",
        None,
        [[]],
        raydium_with(fee="abc"),
        [fixture(SOL_TRANSFER), raydium_with(feePayer=7)],
        raydium_with(signature=None),
        raydium_with(accountData={"account": RAY_WALLET}),
    ],
    ids=[
        "number",
        "array-of-number",
        "string",
        "null",
        "array-of-array",
        "fee-text",
        "fee-payer-number",
        "no-signature",
        "accountData-object",
    ],
)
def test_the_command_refuses_json_that_is_not_transactions_in_one_line(tmp_path: Path, data: Any) -> None:
    payload = tmp_path / "odd.json"
    payload.write_text(json.dumps(data))
    assert_refused_in_one_line(parse_swaps_command(str(payload)))


def test_the_command_refuses_a_file_it_cannot_read_in_one_line(tmp_path: Path) -> None:
    assert_refused_in_one_line(parse_swaps_command(str(tmp_path / "missing.json")))


@pytest.mark.parametrize(
    "wallet",
    ["abc", "0OIl" * 11, "", "   ", f" {JUP_WALLET}", f"{JUP_WALLET}\n", JUP_WALLET[:-2], JUP_WALLET + "z" * 30],
    ids=["too-short", "not-base58", "empty", "spaces", "leading-space", "trailing-newline", "31-bytes", "too-long"],
)
def test_the_command_refuses_an_invalid_wallet_in_one_line(wallet: str) -> None:
    result = parse_swaps_command(str(FIXTURES / RAYDIUM), "--wallet", wallet)
    assert_refused_in_one_line(result)
    assert "--wallet" in result.stderr
