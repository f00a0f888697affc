"""Mints, decimals, venues, styles and time units the whole simulated market shares."""

from __future__ import annotations

DEFAULT_SEED = 42

WSOL_MINT = "So11111111111111111111111111111111111111112"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
SOL_DECIMALS = 9
STABLE_DECIMALS = 6
LAMPORTS_PER_SOL = 1_000_000_000
TOKEN_ACCOUNT_RENT = 2_039_280  # lamports to open an SPL token account (its rent-exempt minimum)

SHAPES = ("jupiter", "raydium", "pumpswap", "pumpfun")
# AMMs Jupiter routes through, by Helius `programInfo.programName`.
JUPITER_VENUES = ("RAYDIUM_CLMM", "METEORA_DLMM", "ORCA_WHIRLPOOLS", "INVARIANT")
STYLES = ("sniper", "degen", "swing", "fund")

MINUTE = 60
DAY_MINUTES = 1440
