"""The simulated tokens: real bluechip mints, generated memes and pump.fun coins, the quote assets."""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulator.base58 import b58encode
from simulator.market.constants import DAY_MINUTES, SOL_DECIMALS, STABLE_DECIMALS, USDC_MINT, USDT_MINT, WSOL_MINT


@dataclass(frozen=True)
class Token:
    """A tradeable SPL token. `kind` is "bluechip" (real mints), "meme" or "pump" (pump.fun).

    Minutes count from the market's history start. `graduation_minute` is when a pump.fun token
    left its bonding curve for PumpSwap (None: not a pump.fun token); `rug_minute` is when its
    liquidity is pulled (None: never).
    """

    mint: str
    symbol: str
    name: str
    decimals: int
    kind: str
    supply: float  # UI units in circulation
    reference_price: float  # USD, where its price walk is anchored
    launch_minute: int
    graduation_minute: int | None
    rug_minute: int | None
    hostile: bool = False
    website: str | None = None


# Real mints, checked against public token lists; prices are only the walk's anchor.
_BLUECHIPS = (
    ("DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263", "Bonk", "Bonk", 5, 8.8e13, 0.00002, "https://bonkcoin.com"),
    ("EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm", "WIF", "dogwifhat", 6, 9.99e8, 1.5, "https://dogwifcoin.org"),
    ("JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", "JUP", "Jupiter", 6, 3.0e9, 0.6, "https://jup.ag"),
    ("7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr", "POPCAT", "Popcat", 9, 9.8e8, 0.4, "https://popcatsolana.xyz"),
    ("4k3Dyjzvzp8eMZWUXbBCjEvwSkkk59S5iCNLY3QrkX6R", "RAY", "Raydium", 6, 2.7e8, 2.5, "https://raydium.io"),
    ("HZ1JovNiVvGrGNiiYvEozEVgZ58xaU3RKwX8eACQBCt3", "PYTH", "Pyth Network", 6, 5.7e9, 0.15, "https://pyth.network"),
    ("jtojtomepa8beP8AuQc6eXt5FriJwfFMwQx2v2f9mCL", "JTO", "Jito", 9, 3.3e8, 2.0, "https://jito.network"),
)
# Symbols and names come from the chain, so the app must escape them; these three try not to be.
_HOSTILE = (
    ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(document.domain)"),
    ("\u202eNOOM🚀", "Rocket 🚀\u202etxt.exe 🌕 \u2066mirror\u2069", None),
    ("{{7*7}}'\"&amp;", "An Extremely Long Token Name That Keeps Going " * 6 + "🐳" * 8, None),
)
_ADJECTIVES = ("Moon", "Based", "Turbo", "Giga", "Tiny", "Sad", "Happy", "Angry", "Baby", "Super", "Dark",
               "Golden", "Frozen", "Cosmic", "Wild", "Lazy", "Rich", "Magic", "Sleepy", "Hyper")
_NOUNS = ("Frog", "Cat", "Dog", "Penguin", "Hamster", "Goat", "Whale", "Shiba", "Otter", "Duck", "Pepe",
          "Chad", "Wojak", "Bear", "Bull", "Ape", "Panda", "Fox", "Koala", "Llama")


# SOL and the stablecoins: not traded as tokens here, but priced, charted and listed like them.
QUOTE_ASSETS = (
    Token(WSOL_MINT, "SOL", "Wrapped SOL", SOL_DECIMALS, "quote", 5.4e8, 150.0, -3_000 * DAY_MINUTES, None, None,
          website="https://solana.com/"),
    Token(USDC_MINT, "USDC", "USD Coin", STABLE_DECIMALS, "quote", 6.0e10, 1.0, -1_800 * DAY_MINUTES, None, None,
          website="https://www.circle.com/"),
    Token(USDT_MINT, "USDT", "USDT", STABLE_DECIMALS, "quote", 2.5e9, 1.0, -1_800 * DAY_MINUTES, None, None,
          website="https://tether.to/"),
)


def _build_tokens(seed: int, count: int, history_minutes: int) -> list[Token]:
    rng = random.Random(f"aura-sim:{seed}:tokens")
    tokens: list[Token] = []
    for index, (mint, symbol, name, decimals, supply, price, website) in enumerate(_BLUECHIPS[:count]):
        listed = -(400 + 97 * index) * DAY_MINUTES  # long before the history starts
        tokens.append(Token(mint, symbol, name, decimals, "bluechip", supply, price, listed, None, None,
                            website=website))
    used = {t.symbol for t in tokens}
    for index in range(count - len(tokens)):
        mint = b58encode(rng.randbytes(32))
        kind = "pump" if index < 3 or rng.random() < 0.55 else "meme"
        if index < len(_HOSTILE):
            symbol, name, website = _HOSTILE[index]
        else:
            adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
            name = f"{adjective} {noun}"
            symbol = (adjective[0] + noun).upper()[:10]
            while symbol in used:
                symbol = symbol[:9] + rng.choice("23456789XZ")
            website = f"https://{name.replace(' ', '').lower()}.fun" if rng.random() < 0.6 else None
        used.add(symbol)
        if kind == "pump":
            # pump.fun launches: most during the history, a few older ones already graduated.
            launch = rng.randint(-2 * DAY_MINUTES, int(history_minutes * 0.8))
            graduation = launch + rng.randint(60, 2 * DAY_MINUTES)
            price, supply, decimals = 10 ** rng.uniform(-5.7, -4.0), 1.0e9, 6
        else:
            launch, graduation = rng.randint(-60 * DAY_MINUTES, int(history_minutes * 0.3)), None
            price, supply, decimals = 10 ** rng.uniform(-5.0, -1.5), 10 ** rng.uniform(8.5, 10), rng.choice((6, 9))
        rug = None
        if index >= len(_HOSTILE) and rng.random() < (0.4 if kind == "pump" else 0.25):
            earliest = max(launch, 0) + 6 * 60
            rug = rng.randint(earliest, max(earliest + 1, history_minutes + 5 * DAY_MINUTES))
        tokens.append(Token(mint, symbol, name, decimals, kind, supply, price, launch, graduation, rug,
                            hostile=index < len(_HOSTILE), website=website))
    return tokens
