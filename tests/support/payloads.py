"""The real Helius payloads the parser is tested on (tests/fixtures/helius), the parties in them,
and the parties edited payloads need."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent.parent
FIXTURES = REPO_DIR / "tests" / "fixtures" / "helius"

RAYDIUM = "helius_swap_RAYDIUM_sol_to_pump_token.json"
CLMM = "helius_swap_JUPITER_usdc_to_sol_raydium_clmm.json"
TWO_HOPS = "helius_swap_JUPITER_usdc_to_sol_2hop_raydium_clmm_via_usdt.json"
METEORA = "helius_swap_JUPITER_usdc_to_sol_meteora_dlmm_nativeFees.json"
INVARIANT = "helius_swap_JUPITER_usdc_to_sol_invariant.json"
PUMP_AMM = "helius_swap_PUMP_AMM_buy_webhook_abridged.json"
SPL_TRANSFER = "helius_transfer_PHANTOM_spl_token.json"
SOL_TRANSFER = "helius_transfer_SYSTEM_PROGRAM_sol.json"
SOL_TRANSFER_XRAY = "helius_transfer_SYSTEM_PROGRAM_sol_xray.json"
UNKNOWN = "helius_unknown_type_UNKNOWN.json"
NFT_SALE_WEBHOOK = "helius_webhook_enhanced_payload_NFT_SALE_docs.json"

# Parties in the real payloads.
RAY_WALLET = "Ezi9Bn5WAfbVHmWbVHuMCdDhgyZKWxRCGGcexx3EXV8L"
RAY_TOKEN_ACCOUNT = "6onv3JAaAkvQQCzTwe2uDPKfoScKeBhW9ZMovVTKMgjE"
RAY_POOL_WSOL_ACCOUNT = "Zb4A4QWXdyzwciSoWUCf3Dd5FqQH3wi9ZokioZFE6ud"
BODI = "9ky9gGxHiqUidFXvJ46muFgrJCweBiwKzamCidHmpump"
JUP_WALLET = "FCHTRYx6npkQCogtpZtEFLJeevAFGbDHhJyvqvT6F4kX"
JUP_USDC_ACCOUNT = "46dExdsFZVPG2xXwrUryHjvUKoGEnzt5Ac6PhG4nxkaS"
JUP_TEMP_WSOL_ACCOUNT = "7nGRdhmKhbdB2Liy3e7zzfUkRTkUxMogas1YX9tcvxNK"
CLMM_POOL = "8sLbNZoA1cfnvMJLPfp98ZLAnFSYCFApfJKMbiXNLwxj"
CLMM_POOL_USDC = "6mK4Pxs6GhwnessH7CvPivqDYauiHZmAdbEFDpXFk9zt"
CLMM_POOL_WSOL = "6P4tvbzRY6Bh3MiWDHuLqyHywovsRwRpfskPvyeSoHsz"
PUMP_WALLET = "DNfuF1L62WWyW3pNakVkyGGFzVVhj4Yr52jSmdTyeBHm"
PUMP_TOKEN = "9hWxtLoiCKz6BAKGzdCqTCE8w3ZkeMu2RBjiwDd5Vtuy"
PUMP_TOKEN_ACCOUNT = "2u6ZyeucH2e84iHfTntorAAFGfg6vKuMS49z5LbSaK6Z"
PUMP_WSOL_ACCOUNT = "CsC8RP9RENePYwJUW34Gs6Te4Cf78KJYJBL2Z3qzc9md"
PUMP_POOL = "GfyvVT78eH9mDb2QAMZ8jwe6YmRgQHFtCVf3JBzDPNwL"
PUMP_POOL_TOKEN_ACCOUNT = "6GZY9K1uqQCazQ3iQvnSQYEumAjyGoQqh58VHYhrw61G"
PUMP_POOL_WSOL_ACCOUNT = "2rPBHopg3PwwQVyZtGHRpm24HUhBhyPMqPRGe81Y9x5m"
BOT_FEE = "9yMwSPk9mrXSN7yDHUuZurAh1sjbJsfpUqjZ7SvVtdco"
PUMP_FUN_FEE = "CebN5WGQ4jvEPvsVU4EoHEpgzq1VV7AbicfhtW4xC9iM"
JUP_MINT = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"

# Parties the edited payloads need (valid addresses: base58 of sha256 of the name).
CAROL = "68GLr8rYqhXTRgYuH5MN7BeswuPxjeEZRLMzunr9JQCt"  # in no payload
RELAYER = "36FVq4f34HycqqNNxByhaPQTKxGCyY7HZMY6sUuJZbJi"
BONDING_CURVE = "EnnmSAG2VAF176zyhFF4h98z7cUJBhrvoPQqFJ6hJcpn"
BONDING_CURVE_TOKEN_ACCOUNT = "EY5bnwpBK1atcWHE6eeHYbktBiPUWD5DDo5dTWSpYyAy"
PLATFORM_FEE = "8sYWG5oodyG1UxG7Kd8fyRmzHG9h3xd65xadFUQxtLgX"
PLATFORM_FEE_ACCOUNT = "HtRDRo9q4oRxT9VBoboL9uuKfALU7gpqvTQh4sUMTLix"
POOL_B = "6smtnZmTVQWVEL8jQyRkSxDnuRpk3oZiELhTgdqUQPBU"
POOL_B_USDC = "5hA6qeg4fSKbThSW2M3NVz51htVPyfa7g73Locf2nCq7"
POOL_B_WSOL = "8sxhPM7i74efETsxJMvgAxmLjdQeg2FPJqyJASuyFehs"
JUP_TOKEN_ACCOUNT = "GNFiczXQe9csMe5dcSWV5PkExJttkyeJjQeg7PyYMtqz"
JITO_TIP = "AjWhbcPMpj2W9qnxtbkQMYwiFKoxLZDFQQwXK8PcNnzP"

RENT = 2_039_280  # lamports in a new token account


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fixture(name: str) -> dict:
    """A fresh copy of the one transaction in a fixture file (a bare object or a one-element array)."""
    data = load(name)
    if isinstance(data, list):
        (data,) = data
    return data


def entry_of(tx: dict, account: str) -> dict:
    """The accountData entry of `account`."""
    (entry,) = [entry for entry in tx["accountData"] if entry["account"] == account]
    return entry


def relayer_paid_buy() -> dict:
    """The Raydium CLMM buy with the network fee paid by a relayer instead of the wallet."""
    tx = fixture(CLMM)
    tx["feePayer"] = RELAYER
    entry_of(tx, JUP_WALLET)["nativeBalanceChange"] = 1_000_197_360  # was +1,000,092,360 after the fee
    tx["accountData"].insert(0, {"account": RELAYER, "nativeBalanceChange": -tx["fee"], "tokenBalanceChanges": []})
    return tx
