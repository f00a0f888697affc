"""The demo whales: seeded addresses, labels, trading styles and skill."""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulator.base58 import b58encode
from simulator.market.constants import DEFAULT_SEED


@dataclass(frozen=True)
class DemoWallet:
    """A whale the simulator trades with: what the app's `load_demo` tracks."""

    address: str
    label: str  # e.g. "Whale 017 · sniper"
    tags: tuple[str, ...]  # the style first ("sniper", "degen", "swing", "fund"), then extras
    skill: float  # 0 = reliably wrong, 1 = buys before pumps and sells before rugs

    @property
    def style(self) -> str:
        return self.tags[0]


@dataclass(frozen=True)
class _Style:
    share: float  # of all wallets
    activity: float  # relative number of entries
    hold_minutes: tuple[int, int]
    lookahead_minutes: int
    sol_size: tuple[float, float]
    usdc_size: tuple[float, float]
    usdc_share: float  # of Jupiter trades, quoted in USDC rather than SOL
    kinds: dict[str, float]  # token kind -> preference
    extra_tags: tuple[str, ...]


_STYLES: dict[str, _Style] = {
    "sniper": _Style(0.25, 3.0, (5, 180), 30, (0.1, 5.0), (10, 500), 0.05, {"pump": 0.85, "meme": 0.15},
                     ("pump.fun", "early", "bot")),
    "degen": _Style(0.30, 2.0, (20, 1440), 60, (0.1, 10.0), (10, 1000), 0.15,
                    {"pump": 0.5, "meme": 0.4, "bluechip": 0.1}, ("memecoins", "pump.fun", "raydium")),
    "swing": _Style(0.30, 1.0, (240, 4320), 90, (1.0, 50.0), (100, 5000), 0.4,
                    {"pump": 0.2, "meme": 0.4, "bluechip": 0.4}, ("memecoins", "bluechips", "jupiter")),
    "fund": _Style(0.15, 0.6, (1440, 7200), 90, (5.0, 50.0), (1000, 20000), 0.85,
                   {"meme": 0.2, "bluechip": 0.8}, ("bluechips", "usdc", "jupiter")),
}


def demo_wallets(seed: int = DEFAULT_SEED, count: int = 200) -> list[DemoWallet]:
    """The `count` whales a market with `seed` trades with; the same list every time.

    Addresses are 32 bytes from an RNG seeded by `seed` alone, base58-encoded, so they do not
    depend on the token count, the history length or the clock.
    """
    rng = random.Random(f"aura-sim:{seed}:wallets")
    styles = list(_STYLES)
    shares = [_STYLES[s].share for s in styles]
    wallets = []
    for index in range(count):
        address = b58encode(rng.randbytes(32))
        style = rng.choices(styles, shares)[0]
        skill = round(rng.betavariate(1.3, 1.3), 3)
        extras = rng.sample(_STYLES[style].extra_tags, rng.randint(0, 2))
        label = f"Whale {index + 1:03d} · {style}"
        wallets.append(DemoWallet(address, label, (style, *extras), skill))
    return wallets
