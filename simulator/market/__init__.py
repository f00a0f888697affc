"""The simulated market: whale wallets, tokens, price paths, and the trades whales make in it.

Pure and seeded, no I/O: `Market(seed, now=T)` always builds the same wallets, tokens, prices and
history (block times relative to T). Everything here is plain data; `simulator.payloads` turns a
`SimTransaction` into Helius enhanced-transaction JSON and `simulator.server` serves it.

How the market behaves:

* Prices are per-minute USD paths (a mean-reverting random walk in log space, plus pumps, dumps
  and, for some meme tokens, one rug), generated a day at a time from each asset's own RNG, so a
  path is the same however far ahead it has been extended.
* Each whale has a style (sniper, degen, swing, fund) and a skill in [0, 1]. The market knows its
  own future: when a whale enters, it looks a little ahead and, with probability ~skill, picks the
  candidate token that is about to rise (~1-skill: the one about to fall); exits are planned at
  entry the same way, at the best (or worst) moments of the holding window, so skilled whales
  sell before rugs and poor ones ride them down. FIFO win rates then follow skill.
* Every swap carries its `Intent`: what `whales.ingestion.parsing.parse_swaps` must read from its payload.

Modules: `constants` (mints, decimals, venues, time units), `wallets` (the whales and their styles),
`tokens`, `prices` (price paths and their events), `transactions` (what a trade leaves on chain),
`world` (the `Market` itself: history, live trading, holdings). Import from `simulator.market`.
"""

from __future__ import annotations

from simulator.market.constants import (
    DAY_MINUTES,
    DEFAULT_SEED,
    JUPITER_VENUES,
    LAMPORTS_PER_SOL,
    MINUTE,
    SHAPES,
    SOL_DECIMALS,
    STABLE_DECIMALS,
    STYLES,
    TOKEN_ACCOUNT_RENT,
    USDC_MINT,
    USDT_MINT,
    WSOL_MINT,
)
from simulator.market.prices import PriceEvent, PricePath
from simulator.market.tokens import QUOTE_ASSETS, Token
from simulator.market.transactions import Intent, NothingToSell, SimTransaction
from simulator.market.wallets import DemoWallet, demo_wallets
from simulator.market.world import Market

__all__ = [
    "DAY_MINUTES",
    "DEFAULT_SEED",
    "DemoWallet",
    "Intent",
    "JUPITER_VENUES",
    "LAMPORTS_PER_SOL",
    "MINUTE",
    "Market",
    "NothingToSell",
    "PriceEvent",
    "PricePath",
    "QUOTE_ASSETS",
    "SHAPES",
    "SOL_DECIMALS",
    "STABLE_DECIMALS",
    "STYLES",
    "SimTransaction",
    "TOKEN_ACCOUNT_RENT",
    "Token",
    "USDC_MINT",
    "USDT_MINT",
    "WSOL_MINT",
    "demo_wallets",
]
