"""The vendors' JSON, built from the market: Helius enhanced transactions, Birdeye, DexScreener, Jupiter.

Pure functions of a `Market` and a `SimTransaction`: `helius` renders transactions as Helius
enhanced-transaction JSON, `market_data` renders prices and market statistics in Birdeye's,
DexScreener's and Jupiter's shapes. Import from `simulator.payloads`.
"""

from __future__ import annotations

from simulator.payloads import listings
from simulator.payloads.helius import (
    ATA_PROGRAM,
    BOT_FEE_WALLET,
    COMPUTE_BUDGET,
    JUPITER_AUTHORITY,
    JUPITER_EVENT_AUTHORITY,
    JUPITER_V6,
    PUMP_AMM_PROGRAM,
    PUMP_FUN_FEE_RECIPIENT,
    PUMP_FUN_PROGRAM,
    RAYDIUM_AMM_V4,
    RAYDIUM_AUTHORITY,
    SERUM_PROGRAM,
    SYSTEM_PROGRAM,
    SYSVAR_RENT,
    TOKEN_PROGRAM,
    Json,
    enhanced_transaction,
    token_account,
    type_and_source,
)
from simulator.payloads.market_data import BIRDEYE_INTERVALS, HISTORY_PRICE_MAX_ITEMS, MarketData

__all__ = [
    "listings",
    "ATA_PROGRAM",
    "BIRDEYE_INTERVALS",
    "BOT_FEE_WALLET",
    "COMPUTE_BUDGET",
    "HISTORY_PRICE_MAX_ITEMS",
    "JUPITER_AUTHORITY",
    "JUPITER_EVENT_AUTHORITY",
    "JUPITER_V6",
    "Json",
    "MarketData",
    "PUMP_AMM_PROGRAM",
    "PUMP_FUN_FEE_RECIPIENT",
    "PUMP_FUN_PROGRAM",
    "RAYDIUM_AMM_V4",
    "RAYDIUM_AUTHORITY",
    "SERUM_PROGRAM",
    "SYSTEM_PROGRAM",
    "SYSVAR_RENT",
    "TOKEN_PROGRAM",
    "enhanced_transaction",
    "token_account",
    "type_and_source",
]
