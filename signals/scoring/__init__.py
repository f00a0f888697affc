"""Token signals, as SIGNALS.md v1 defines them: plain data in, signals, scores and reasons out.

Pure: no Django, no database, no clock. The app persists what this module returns.

* `Detector` turns tracked wallets' swaps into `whale_accumulation`, `whale_distribution` and
  `big_trade` signals, swap by swap or in batches, and says what happened as `SignalEvent`s ("fired"
  or "updated", each with a snapshot of the whole signal). Its state is the active signals and the
  swaps of the last window per token; it is pruned as time moves on, so its size follows the
  market's recent activity, never its history. `to_dict()`/`from_dict()` store it, and the
  constructor rebuilds it from rows (active signals + recent swaps), which is how the app resumes
  it for each batch.
* `score_momentum` scores a token's market data 0–100 from documented components;
  `assess_new_listing` runs the safety checks on a newly listed token. Both return an `Assessment`;
  `settle` keeps one active signal per (token, kind) for them.
* `outcome` measures what the price did after a signal; `scoreboard` sums outcomes per kind.

Amounts are `Decimal`, times are unix seconds (`int`). Reasons are lists of JSON-ready dicts
(decimals as plain strings), so they can be stored and shown as they are.

One module per rule: `core` (kinds, parameters, swaps, signals), `detector` (the swap stream),
`clusters` (accumulation/distribution scores), `big_trade`, `market` (what the market kinds share,
`settle`), `momentum`, `listing` (safety checks, new listings), `outcomes` (outcomes, scoreboard),
`numbers` (decimal helpers). Import from `signals.scoring`: every public name is here.
"""

from __future__ import annotations

from signals.scoring.big_trade import (
    BIG_TRADE_QUALITY_POINTS_MAX,
    BIG_TRADE_SIZE_POINTS,
    big_trade_score,
)
from signals.scoring.clusters import (
    CLUSTER_NET_USD_POINTS,
    CLUSTER_QUALITY_POINTS_MAX,
    CLUSTER_WALLET_POINTS_EACH,
    CLUSTER_WALLET_POINTS_MAX,
    cluster_score,
)
from signals.scoring.core import (
    BIG_TRADE,
    BUY,
    DAY,
    DEFAULT_PARAMETERS,
    DOWN,
    FIRED,
    HOUR,
    KINDS,
    MOMENTUM,
    NEW_LISTING,
    SELL,
    SIDES,
    SIGNALS_VERSION,
    SWAP_KINDS,
    UNKNOWN_WALLET,
    UP,
    UPDATED,
    WHALE_ACCUMULATION,
    WHALE_DISTRIBUTION,
    InvalidSwap,
    Parameters,
    Signal,
    SignalEvent,
    SignalWallet,
    Swap,
    WalletStats,
    direction_of,
)
from signals.scoring.detector import (
    ContextBounds,
    Detector,
    context_bounds,
)
from signals.scoring.listing import (
    LISTING_LIQUIDITY_POINTS,
    LISTING_SAFETY_POINTS,
    LISTING_SPREAD_POINTS_MAX,
    TokenSecurity,
    assess_new_listing,
    check_safety,
)
from signals.scoring.market import (
    Assessment,
    Observed,
    Promotion,
    settle,
)
from signals.scoring.momentum import (
    MOMENTUM_HOLDERS_FULL_PERCENT,
    MOMENTUM_HOLDERS_MAX,
    MOMENTUM_LIQUIDITY_POINTS,
    MOMENTUM_NET_FLOW_POINTS,
    MOMENTUM_PRICE_1H_FULL_PERCENT,
    MOMENTUM_PRICE_1H_MAX,
    MOMENTUM_PRICE_24H_FULL_PERCENT,
    MOMENTUM_PRICE_24H_MAX,
    MOMENTUM_VOLUME_FULL_RATIO,
    MOMENTUM_VOLUME_MAX,
    MarketInputs,
    score_momentum,
)
from signals.scoring.numbers import (
    ZERO,
    decimal_text,
)
from signals.scoring.outcomes import (
    KindScore,
    Outcome,
    median,
    outcome,
    scoreboard,
)

__all__ = [
    "Assessment",
    "BIG_TRADE",
    "BIG_TRADE_QUALITY_POINTS_MAX",
    "BIG_TRADE_SIZE_POINTS",
    "BUY",
    "CLUSTER_NET_USD_POINTS",
    "CLUSTER_QUALITY_POINTS_MAX",
    "CLUSTER_WALLET_POINTS_EACH",
    "CLUSTER_WALLET_POINTS_MAX",
    "ContextBounds",
    "DAY",
    "DEFAULT_PARAMETERS",
    "DOWN",
    "Detector",
    "FIRED",
    "HOUR",
    "InvalidSwap",
    "KINDS",
    "KindScore",
    "LISTING_LIQUIDITY_POINTS",
    "LISTING_SAFETY_POINTS",
    "LISTING_SPREAD_POINTS_MAX",
    "MOMENTUM",
    "MOMENTUM_HOLDERS_FULL_PERCENT",
    "MOMENTUM_HOLDERS_MAX",
    "MOMENTUM_LIQUIDITY_POINTS",
    "MOMENTUM_NET_FLOW_POINTS",
    "MOMENTUM_PRICE_1H_FULL_PERCENT",
    "MOMENTUM_PRICE_1H_MAX",
    "MOMENTUM_PRICE_24H_FULL_PERCENT",
    "MOMENTUM_PRICE_24H_MAX",
    "MOMENTUM_VOLUME_FULL_RATIO",
    "MOMENTUM_VOLUME_MAX",
    "MarketInputs",
    "NEW_LISTING",
    "Observed",
    "Outcome",
    "Parameters",
    "Promotion",
    "SELL",
    "SIDES",
    "SIGNALS_VERSION",
    "SWAP_KINDS",
    "Signal",
    "SignalEvent",
    "SignalWallet",
    "Swap",
    "TokenSecurity",
    "UNKNOWN_WALLET",
    "UP",
    "UPDATED",
    "WHALE_ACCUMULATION",
    "WHALE_DISTRIBUTION",
    "WalletStats",
    "ZERO",
    "assess_new_listing",
    "big_trade_score",
    "check_safety",
    "cluster_score",
    "context_bounds",
    "decimal_text",
    "direction_of",
    "median",
    "outcome",
    "score_momentum",
    "scoreboard",
    "settle",
]
