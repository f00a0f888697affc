"""Helius enhanced transactions for tests, in the shape of the real Jupiter samples (tests/fixtures/helius).

`usdc_swap` builds a USDC-quoted trade (valued 1:1, so no SOL price is needed) with the wallet's
balance changes on its own token accounts, as Helius reports them.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from simulator.base58 import b58encode

USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
POOL = "7qbRF6YsyGuLUVs6Y1q64bdVrfe4ZcUUz1JRdoVNUJnm"


def address(seed: str) -> str:
    """A valid, deterministic Solana address (32 bytes) for a name."""
    return b58encode(hashlib.sha256(seed.encode()).digest())


def signature(seed: str) -> str:
    return b58encode(hashlib.sha512(seed.encode()).digest())


def _raw(amount: Decimal, decimals: int) -> int:
    return int(amount.scaleb(decimals))


def usdc_swap(
    wallet: str,
    mint: str,
    side: str,
    token_amount: str,
    usdc_amount: str,
    timestamp: int,
    *,
    seed: str | None = None,
    decimals: int = 6,
    slot: int | None = None,
) -> dict[str, Any]:
    """`wallet` buys (or sells) `token_amount` of `mint` for `usdc_amount` USDC at `timestamp`."""
    sign = 1 if side == "buy" else -1
    tokens = _raw(Decimal(token_amount), decimals) * sign
    usdc = -_raw(Decimal(usdc_amount), 6) * sign
    token_account, usdc_account = address(f"{wallet}:{mint}"), address(f"{wallet}:usdc")
    sig = signature(seed or f"{wallet}{mint}{side}{token_amount}{usdc_amount}{timestamp}")
    pool_token, pool_usdc = address(f"pool:{mint}"), address(f"pool:{mint}:usdc")

    def transfer(
        source: str,
        destination: str,
        source_account: str,
        destination_account: str,
        the_mint: str,
        raw: int,
        places: int,
    ) -> dict[str, Any]:
        return {
            "fromTokenAccount": source_account,
            "fromUserAccount": source,
            "mint": the_mint,
            "toTokenAccount": destination_account,
            "toUserAccount": destination,
            "tokenAmount": float(Decimal(abs(raw)).scaleb(-places)),
            "tokenStandard": "Fungible",
        }

    if side == "buy":
        transfers = [
            transfer(wallet, POOL, usdc_account, pool_usdc, USDC, usdc, 6),
            transfer(POOL, wallet, pool_token, token_account, mint, tokens, decimals),
        ]
    else:
        transfers = [
            transfer(wallet, POOL, token_account, pool_token, mint, tokens, decimals),
            transfer(POOL, wallet, pool_usdc, usdc_account, USDC, usdc, 6),
        ]
    return {
        "accountData": [
            {"account": wallet, "nativeBalanceChange": -5000, "tokenBalanceChanges": []},
            {
                "account": token_account,
                "nativeBalanceChange": 0,
                "tokenBalanceChanges": [
                    {
                        "mint": mint,
                        "rawTokenAmount": {"decimals": decimals, "tokenAmount": str(tokens)},
                        "tokenAccount": token_account,
                        "userAccount": wallet,
                    }
                ],
            },
            {
                "account": usdc_account,
                "nativeBalanceChange": 0,
                "tokenBalanceChanges": [
                    {
                        "mint": USDC,
                        "rawTokenAmount": {"decimals": 6, "tokenAmount": str(usdc)},
                        "tokenAccount": usdc_account,
                        "userAccount": wallet,
                    }
                ],
            },
        ],
        "description": "",
        "events": {},
        "fee": 5000,
        "feePayer": wallet,
        "instructions": [],
        "nativeTransfers": [],
        "signature": sig,
        "slot": slot if slot is not None else 250_000_000 + timestamp % 1_000_000,
        "source": "JUPITER",
        "timestamp": timestamp,
        "tokenTransfers": transfers,
        "transactionError": None,
        "type": "SWAP",
    }


def spl_transfer(sender: str, recipient: str, mint: str, amount: str, timestamp: int, *, decimals: int = 6) -> dict:
    """`sender` sends `amount` of `mint` to `recipient`, in the shape of the real PHANTOM transfer sample."""
    raw = _raw(Decimal(amount), decimals)
    source_account, destination_account = address(f"{sender}:{mint}"), address(f"{recipient}:{mint}")
    return {
        "description": f"{sender} transferred {amount} tokens to {recipient}.",
        "type": "TRANSFER",
        "source": "PHANTOM",
        "fee": 15000,
        "feePayer": sender,
        "signature": signature(f"transfer {sender} {recipient} {mint} {amount} {timestamp}"),
        "slot": 250_000_000 + timestamp % 1_000_000,
        "timestamp": timestamp,
        "tokenTransfers": [
            {
                "fromTokenAccount": source_account,
                "toTokenAccount": destination_account,
                "fromUserAccount": sender,
                "toUserAccount": recipient,
                "tokenAmount": float(Decimal(raw).scaleb(-decimals)),
                "mint": mint,
                "tokenStandard": "Fungible",
            }
        ],
        "nativeTransfers": [],
        "accountData": [
            {"account": sender, "nativeBalanceChange": -15000, "tokenBalanceChanges": []},
            {
                "account": destination_account,
                "nativeBalanceChange": 0,
                "tokenBalanceChanges": [
                    {
                        "userAccount": recipient,
                        "tokenAccount": destination_account,
                        "rawTokenAmount": {"tokenAmount": str(raw), "decimals": decimals},
                        "mint": mint,
                    }
                ],
            },
            {
                "account": source_account,
                "nativeBalanceChange": 0,
                "tokenBalanceChanges": [
                    {
                        "userAccount": sender,
                        "tokenAccount": source_account,
                        "rawTokenAmount": {"tokenAmount": str(-raw), "decimals": decimals},
                        "mint": mint,
                    }
                ],
            },
        ],
        "transactionError": None,
        "instructions": [],
        "events": {},
    }


def sol_swap(
    wallet: str, mint: str, side: str, token_amount: str, sol_amount: str, timestamp: int, *, decimals: int = 6
) -> dict[str, Any]:
    """`wallet` buys (or sells) `token_amount` of `mint` for `sol_amount` SOL at `timestamp`: its SOL
    account pays (or receives) the lamports beside the network fee, as a Raydium trade shows it."""
    sign = 1 if side == "buy" else -1
    tokens = _raw(Decimal(token_amount), decimals) * sign
    lamports = _raw(Decimal(sol_amount), 9) * sign
    fee = 5000
    token_account = address(f"{wallet}:{mint}")
    sig = signature(f"sol {wallet}{mint}{side}{token_amount}{sol_amount}{timestamp}")
    return {
        "accountData": [
            {"account": wallet, "nativeBalanceChange": -lamports - fee, "tokenBalanceChanges": []},
            {"account": POOL, "nativeBalanceChange": lamports, "tokenBalanceChanges": []},
            {
                "account": token_account,
                "nativeBalanceChange": 0,
                "tokenBalanceChanges": [
                    {
                        "mint": mint,
                        "rawTokenAmount": {"decimals": decimals, "tokenAmount": str(tokens)},
                        "tokenAccount": token_account,
                        "userAccount": wallet,
                    }
                ],
            },
        ],
        "description": "",
        "events": {},
        "fee": fee,
        "feePayer": wallet,
        "instructions": [],
        "nativeTransfers": [{"fromUserAccount": wallet, "toUserAccount": POOL, "amount": abs(lamports)}]
        if side == "buy"
        else [{"fromUserAccount": POOL, "toUserAccount": wallet, "amount": abs(lamports)}],
        "signature": sig,
        "slot": 250_000_000 + timestamp % 1_000_000,
        "source": "RAYDIUM",
        "timestamp": timestamp,
        "tokenTransfers": [
            {
                "fromTokenAccount": address(f"pool:{mint}") if side == "buy" else token_account,
                "fromUserAccount": POOL if side == "buy" else wallet,
                "mint": mint,
                "toTokenAccount": token_account if side == "buy" else address(f"pool:{mint}"),
                "toUserAccount": wallet if side == "buy" else POOL,
                "tokenAmount": float(Decimal(abs(tokens)).scaleb(-decimals)),
                "tokenStandard": "Fungible",
            }
        ],
        "transactionError": None,
        "type": "SWAP",
    }
