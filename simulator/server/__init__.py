"""The market simulator's HTTP server: Helius, Birdeye, DexScreener, Jupiter, Telegram, Discord on one port.

`MarketSimulator(config).start()` builds the market (history first), then serves it from a
`ThreadingHTTPServer`, trades live in a background thread, and delivers Helius webhooks from
delivery threads (retrying failed deliveries), so neither HTTP clients nor webhook receivers ever
hold up the market. `POST /sim/faults` makes the next matching requests fail on purpose (429 with
Retry-After, 5xx, slow, truncated JSON); `/sim/*` is the control API tests and benchmarks use.

Every piece of market state is touched under one lock; rendered transactions are immutable, so
their JSON is built outside it and cached (zlib-compressed: 30k transactions take ~40 MB).

Modules: `simulator` (the `MarketSimulator`: lifecycle, live trading, webhook delivery, routing;
`run`), one module of request handlers per API (`helius`, `market_data` for Birdeye, DexScreener
and Jupiter, `control` for `/sim/*`, `messaging` for Telegram and Discord, which alerts reach), and
`protocol` (requests, replies, errors, faults).
Import from `simulator.server`.
"""

from __future__ import annotations

from simulator.server.control import ControlApi
from simulator.server.helius import PAGE_LIMIT_MAX, PARSE_BATCH_MAX, WEBHOOK_TYPES, HeliusApi
from simulator.server.market_data import BIRDEYE_TRENDING_MAX, DEXSCREENER_MAX_ADDRESSES, JUPITER_MAX_IDS, MarketDataApi
from simulator.server.protocol import Fault, HttpError, Route
from simulator.server.simulator import DELIVERY_WORKERS, MarketSimulator, SimulatorConfig, run

__all__ = [
    "BIRDEYE_TRENDING_MAX",
    "ControlApi",
    "DELIVERY_WORKERS",
    "DEXSCREENER_MAX_ADDRESSES",
    "Fault",
    "HeliusApi",
    "HttpError",
    "JUPITER_MAX_IDS",
    "MarketDataApi",
    "MarketSimulator",
    "PAGE_LIMIT_MAX",
    "PARSE_BATCH_MAX",
    "Route",
    "SimulatorConfig",
    "WEBHOOK_TYPES",
    "run",
]
