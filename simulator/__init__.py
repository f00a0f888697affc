"""AURA's market simulator: a local stand-in for Helius, Birdeye, DexScreener and Jupiter.

Pure Python, no Django. `market` holds the seeded world (whales, tokens, prices, trades),
`payloads` renders it in the vendors' exact JSON shapes, `server` serves it over HTTP with live
trading, webhook delivery and fault injection. `python manage.py simulate_market` runs it.
"""

from simulator.market import DEFAULT_SEED, DemoWallet, demo_wallets

__all__ = ["DEFAULT_SEED", "DemoWallet", "demo_wallets"]
