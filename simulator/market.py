"""The simulated market: whale wallets, tokens, price paths, and the trades whales make in it.

Pure and seeded, no I/O: `Market(seed, now=T)` always builds the same wallets, tokens, prices and
history (block times relative to T). Everything here is plain data; `payloads.py` turns a
`SimTransaction` into Helius enhanced-transaction JSON and `server.py` serves it.

How the market behaves:

* Prices are per-minute USD paths (a mean-reverting random walk in log space, plus pumps, dumps
  and, for some meme tokens, one rug), generated a day at a time from each asset's own RNG, so a
  path is the same however far ahead it has been extended.
* Each whale has a style (sniper, degen, swing, fund) and a skill in [0, 1]. The market knows its
  own future: when a whale enters, it looks a little ahead and, with probability ~skill, picks the
  candidate token that is about to rise (~1-skill: the one about to fall); exits are planned at
  entry the same way, at the best (or worst) moments of the holding window, so skilled whales
  sell before rugs and poor ones ride them down. FIFO win rates then follow skill.
* Every swap carries its `Intent`: what `whales.parsing.parse_swaps` must read from its payload.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import operator
import random
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from statistics import NormalDist
from typing import TypeVar

from simulator.base58 import b58encode, derived_address

DEFAULT_SEED = 42

WSOL_MINT = "So11111111111111111111111111111111111111112"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
SOL_DECIMALS = 9
STABLE_DECIMALS = 6
LAMPORTS_PER_SOL = 1_000_000_000
TOKEN_ACCOUNT_RENT = 2_039_280  # lamports to open an SPL token account (APIS.md §5)

SHAPES = ("jupiter", "raydium", "pumpswap", "pumpfun")
# AMMs Jupiter routes through, by Helius `programInfo.programName`.
JUPITER_VENUES = ("RAYDIUM_CLMM", "METEORA_DLMM", "ORCA_WHIRLPOOLS", "INVARIANT")
STYLES = ("sniper", "degen", "swing", "fund")

MINUTE = 60
DAY_MINUTES = 1440
# Solana produces a slot every ~400 ms; anchor the slot clock so numbers look like 2025 mainnet.
_SLOT_ANCHOR_TIME = 1_750_000_000
_SLOT_ANCHOR = 345_000_000
_SLOTS_PER_SECOND = 2.5

# Whales do not sell a bag for less than this: dust proceeds would also sit below the parser's
# "this is a tip, not a price" threshold.
_MIN_SELL_LAMPORTS = 1_000_000  # 0.001 SOL
_MIN_SELL_USDC = 100_000  # 0.1 USDC
_EXIT_CANDIDATES = 10
_ENTRY_CANDIDATES = 6
# The share of extra, non-swap transactions (of all transactions) and how they split.
_NOISE_SHARE = 0.10
_NOISE_KINDS = (("sol_transfer", 0.5), ("spl_transfer", 0.3), ("failed", 0.2))
# Average transactions one entry produces in history (the buy plus its exits), measured; it turns
# the requested history size into a number of entries.
_TXS_PER_ENTRY = 2.55


# --- Wallets ----------------------------------------------------------------------------------


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


# --- Tokens -----------------------------------------------------------------------------------


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


# --- Prices -----------------------------------------------------------------------------------

# Standard normal quantiles at 65,536 evenly spaced probabilities: drawing an index from two random
# bytes is ~10x faster than random.gauss, and this runs for every minute of every asset.
_NORMAL = [NormalDist().inv_cdf((i + 0.5) / 65536) for i in range(65536)]


@lru_cache(maxsize=16)
def _scaled_normals(sigma: float) -> list[float]:
    return [sigma * z for z in _NORMAL]


@dataclass(frozen=True)
class PriceEvent:
    """A pump, dump or rug: a log-price offset ramping to `peak_log`, then easing back.

    A rug's offset stays at `peak_log` forever; pumps and dumps fade to nothing.
    """

    kind: str  # "pump" | "dump" | "rug"
    start_minute: int
    peak_minute: int
    end_minute: int
    peak_log: float
    profile: tuple[float, ...] = field(repr=False)  # offset for each minute from start

    @property
    def multiple(self) -> float:
        """Price at the peak over price before the event (e.g. 4.0 for a 4x pump, 0.01 for a rug)."""
        return math.exp(self.peak_log)


@dataclass(frozen=True)
class _PathParams:
    volatility: float  # of log price, per minute
    reversion: float  # per minute, toward log(reference price)
    pumps_per_day: float
    pump_multiple: tuple[float, float]
    dumps_per_day: float
    dump_fraction: tuple[float, float]


_PATH_PARAMS = {
    "sol": _PathParams(0.0009, 1 / (2 * DAY_MINUTES), 0.05, (1.02, 1.08), 0.05, (0.03, 0.08)),
    "stable": _PathParams(0.00004, 1 / 30, 0.0, (1, 1), 0.0, (0, 0)),
    "bluechip": _PathParams(0.0018, 1 / (4 * DAY_MINUTES), 0.15, (1.05, 1.35), 0.1, (0.05, 0.2)),
    "meme": _PathParams(0.0045, 1 / (6 * DAY_MINUTES), 0.5, (1.3, 4.0), 0.3, (0.2, 0.5)),
    "pump": _PathParams(0.0065, 1 / (4 * DAY_MINUTES), 0.7, (1.5, 10.0), 0.4, (0.25, 0.6)),
}


class PricePath:
    """Per-minute USD prices of one asset from minute 0, extended a day at a time on demand.

    Deterministic: the same RNG seed gives the same prices however the extension is chunked.
    `at(minute)` clamps negative minutes to 0 and extends the path as needed.
    """

    def __init__(self, rng: random.Random, kind: str, reference_price: float, rug_minute: int | None) -> None:
        self._rng = rng
        self._params = _PATH_PARAMS[kind]
        self._mu = math.log(reference_price)
        self._walk = self._mu
        self._rug_minute = rug_minute
        self._level = 0.0  # permanent log offset (after a rug)
        self._active: list[PriceEvent] = []
        self._logs = array("d")  # log USD price per minute; exp() on read is cheaper than on write
        self.events: list[PriceEvent] = []
        self._next_pump = self._next_arrival(0, self._params.pumps_per_day)
        self._next_dump = self._next_arrival(0, self._params.dumps_per_day)

    def at(self, minute: int) -> float:
        if minute < 0:
            minute = 0
        if minute >= len(self._logs):
            self.ensure(minute)
        return math.exp(self._logs[minute])

    def ensure(self, minute: int) -> None:
        """Extend the path so that `minute` has a price."""
        while len(self._logs) <= minute:
            self._extend_one_day()

    def __len__(self) -> int:
        """Minutes generated so far."""
        return len(self._logs)

    def _next_arrival(self, after: int, per_day: float) -> float:
        if per_day <= 0:
            return math.inf
        return after + self._rng.expovariate(per_day / DAY_MINUTES)

    def _extend_one_day(self) -> None:
        p, rng = self._params, self._rng
        start, end = len(self._logs), len(self._logs) + DAY_MINUTES
        noise = map(_scaled_normals(p.volatility).__getitem__, array("H", rng.randbytes(2 * DAY_MINUTES)))
        if p.reversion * DAY_MINUTES >= 1:
            # Reverts within the day: independent noise around the anchor.
            logs = list(map(self._mu.__add__, noise))
        else:
            # Mean reversion as a constant pull toward the anchor for the day, so the walk is a
            # C-level running sum (a per-minute Python step cost three times as much).
            pull = p.reversion * (self._mu - self._walk)
            logs = list(itertools.accumulate(map(pull.__add__, noise), operator.add, initial=self._walk))[1:]
            self._walk = logs[-1]
        while self._next_pump < end:
            self._start_event("pump", int(self._next_pump))
            self._next_pump = self._next_arrival(self._next_pump, p.pumps_per_day)
        while self._next_dump < end:
            self._start_event("dump", int(self._next_dump))
            self._next_dump = self._next_arrival(self._next_dump, p.dumps_per_day)
        if self._rug_minute is not None and start <= self._rug_minute < end:
            self._start_event("rug", self._rug_minute)
        if self._level:
            logs = list(map(self._level.__add__, logs))
        still_active = []
        for event in self._active:
            lo, hi = max(event.start_minute, start) - start, min(event.end_minute, end) - start
            if lo < hi:
                shift = start - event.start_minute
                logs[lo:hi] = map(float.__add__, logs[lo:hi], event.profile[lo + shift : hi + shift])
            if event.kind == "rug":
                # From the end of its ramp the rug's offset is permanent: fold it into the level.
                after = max(event.end_minute - start, 0)
                logs[after:] = map(event.peak_log.__add__, logs[after:])
                if event.end_minute <= end:
                    self._level += event.peak_log
                    continue
            if event.end_minute > end:
                still_active.append(event)
        self._active = still_active
        self._logs.extend(logs)

    def _start_event(self, kind: str, minute: int) -> None:
        p, rng = self._params, self._rng
        if kind == "pump":
            peak = math.log(rng.uniform(*p.pump_multiple))
            ramp, decay, fade = rng.randint(5, 60), rng.randint(30, 360), rng.randint(360, 1440)
            keep = rng.uniform(0.15, 0.6)
        elif kind == "dump":
            peak = math.log(1 - rng.uniform(*p.dump_fraction))
            ramp, decay, fade = rng.randint(3, 30), rng.randint(60, 600), rng.randint(360, 1440)
            keep = rng.uniform(0.2, 0.7)
        else:
            peak = -math.log(rng.uniform(30, 500))
            ramp, decay, fade, keep = rng.randint(1, 4), 0, 0, 1.0
        # Straight lines: up to the peak, down to `keep` of it, then fading to nothing.
        profile = _line(0.0, peak, ramp) + _line(peak, peak * keep, decay) + _line(peak * keep, 0.0, fade)
        event = PriceEvent(kind, minute, minute + ramp - 1, minute + len(profile), peak, profile)
        self.events.append(event)
        self._active.append(event)


# --- Transactions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Intent:
    """What the simulator meant a swap to be, in the parser's terms (`whales.parsing.ParsedSwap`).

    `quote_amount` is what the wallet actually paid (buy) or received (sell): launchpad, bot and
    platform fees included; the network fee and the rent of its own token accounts excluded.
    SOL is `WSOL_MINT`.
    """

    side: str
    token_mint: str
    token_amount: Decimal
    quote_mint: str
    quote_amount: Decimal


@dataclass(frozen=True, slots=True)
class SimTransaction:
    """One transaction of the simulated chain, as plain facts; `payloads` renders it as Helius JSON.

    `wallet` is the whale whose activity this is (the fee payer, except for an incoming transfer,
    which the `counterparty` pays for). Amounts are raw base units. For swaps `quote_raw` is the
    gross quote that went through the pool or curve; `extra_fee_raw` is the launchpad (pump.fun),
    trading-bot or Jupiter platform fee in the same unit, paid on top of a buy or out of a sell.
    """

    seq: int
    signature: str
    slot: int
    timestamp: int
    wallet: str
    kind: str  # "swap" | "failed" | "sol_transfer" | "spl_transfer"
    shape: str = ""  # swaps and failed swaps: one of SHAPES
    side: str = ""  # swaps: "buy" | "sell"; transfers: "out" | "in"
    token_mint: str = ""
    token_raw: int = 0
    token_decimals: int = 0
    quote_mint: str = ""
    quote_raw: int = 0
    extra_fee_raw: int = 0
    extra_fee_kind: str = ""  # "pumpfun" | "bot" | "platform"
    network_fee: int = 5000
    new_token_account: bool = False  # the buy (or incoming transfer) opens the wallet's token account
    close_token_account: bool = False  # the sell closes it and takes the rent back
    hops: int = 1
    hop_via_wallet: bool = False  # a 2-hop route passes through the wallet's own USDT account
    intermediate_raw: int = 0  # USDT between the two hops
    venue: str = ""  # the AMM a Jupiter hop runs on
    counterparty: str = ""
    counterparty_new_account: bool = False  # an outgoing SPL transfer opens the recipient's account
    salt: int = 0  # payload-only randomness (instruction data)
    live: bool = False

    @property
    def fee_payer(self) -> str:
        return self.counterparty if self.kind in ("sol_transfer", "spl_transfer") and self.side == "in" else self.wallet

    @property
    def involved(self) -> tuple[str, ...]:
        """Addresses whose history lists this transaction (and whose webhooks it triggers)."""
        return tuple(a for a in (self.wallet, self.counterparty, self.token_mint) if a)

    @property
    def intent(self) -> Intent | None:
        """The swap `wallet` made, or None (transfers, failed transactions)."""
        if self.kind != "swap":
            return None
        paid = self.quote_raw + self.extra_fee_raw if self.side == "buy" else self.quote_raw - self.extra_fee_raw
        quote_decimals = SOL_DECIMALS if self.quote_mint == WSOL_MINT else STABLE_DECIMALS
        return Intent(
            side=self.side,
            token_mint=self.token_mint,
            token_amount=_ui(self.token_raw, self.token_decimals),
            quote_mint=self.quote_mint,
            quote_amount=_ui(paid, quote_decimals),
        )


def _ui(raw: int, decimals: int) -> Decimal:
    return Decimal(raw).scaleb(-decimals)


class NothingToSell(Exception):
    """A forced sell for a wallet that holds no position worth selling."""


@dataclass(order=True)
class _PlannedExit:
    time: int
    order: int
    wallet: str = field(compare=False)
    mint: str = field(compare=False)
    fraction: float = field(compare=False)  # of the holding at that time; 1.0 sells everything


# --- The market -------------------------------------------------------------------------------


class Market:
    """Wallets, tokens, prices and every transaction of a simulated Solana market.

    The constructor generates `history_days` of history ending at `now` (unix seconds, default
    the current time), roughly `history_txs` transactions. Afterwards `live_tick()` and
    `force_trade()` append live transactions. Not thread-safe: callers serialise access.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        *,
        wallet_count: int = 200,
        token_count: int = 50,
        history_days: float = 30.0,
        history_txs: int = 30_000,
        now: float | None = None,
    ) -> None:
        if wallet_count < 1 or token_count < 1:
            raise ValueError("a market needs at least one wallet and one token")
        self.seed = seed
        self.now = int(time.time() if now is None else now)
        self.history_days = history_days
        self.start_time = (self.now - int(history_days * 86_400)) // MINUTE * MINUTE
        self.history_minutes = (self.now - self.start_time) // MINUTE
        self.wallets = demo_wallets(seed, wallet_count)
        self.wallets_by_address = {w.address: w for w in self.wallets}
        self.tokens = _build_tokens(seed, token_count, self.history_minutes)
        self.tokens_by_mint = {t.mint: t for t in self.tokens}
        self.assets = {t.mint: t for t in (*QUOTE_ASSETS, *self.tokens)}  # everything with a price
        self.paths: dict[str, PricePath] = {
            WSOL_MINT: PricePath(random.Random(f"aura-sim:{seed}:path:SOL"), "sol", 150.0, None),
            USDC_MINT: PricePath(random.Random(f"aura-sim:{seed}:path:USDC"), "stable", 1.0, None),
            USDT_MINT: PricePath(random.Random(f"aura-sim:{seed}:path:USDT"), "stable", 1.0, None),
        }
        for token in self.tokens:
            rng = random.Random(f"aura-sim:{seed}:path:{token.mint}")
            self.paths[token.mint] = PricePath(rng, token.kind, token.reference_price, token.rug_minute)
        self.exchanges = [derived_address("exchange hot wallet", str(i)) for i in range(4)]
        self.transactions: list[SimTransaction] = []
        self.by_signature: dict[str, SimTransaction] = {}
        self._by_address: dict[str, list[int]] = {}
        self.holdings: dict[str, dict[str, int]] = {w.address: {} for w in self.wallets}  # wallet: mint: raw
        self._token_accounts: set[tuple[str, str]] = set()
        self._exits: list[_PlannedExit] = []
        self._order = itertools.count()
        self._last_slot = 0
        self._tradeable_hour = -1
        self._tradeable_cache: dict[tuple | None, list[Token]] = {}
        self._tradeable_weights: dict[tuple | None, list[float]] = {}
        self._rng = random.Random(f"aura-sim:{seed}:trades")
        activity = [_STYLES[w.style].activity * self._rng.lognormvariate(0, 0.5) for w in self.wallets]
        self._cum_activity = list(itertools.accumulate(activity))
        self._history_txs = history_txs
        self._generate_history()
        self.history_count = len(self.transactions)

    # -- prices ---------------------------------------------------------------------------------

    def minute_of(self, unix: float) -> int:
        return int(unix - self.start_time) // MINUTE

    def usd_price(self, mint: str, unix: float) -> float:
        """USD price of `mint` at `unix` (constant within a minute); KeyError for unknown mints."""
        return self.paths[mint].at(self.minute_of(unix))

    def price_events(self, mint: str, until: float | None = None) -> list[PriceEvent]:
        """Pumps, dumps and rugs of `mint` that started before `until` (default: now)."""
        limit = self.minute_of(self.now if until is None else until)
        path = self.paths[mint]
        path.ensure(limit)
        return [e for e in path.events if e.start_minute <= limit]

    def slot_at(self, unix: float) -> int:
        """The slot of a block produced at `unix` (a slot every 400 ms)."""
        return _SLOT_ANCHOR + int((unix - _SLOT_ANCHOR_TIME) * _SLOTS_PER_SECOND)

    def is_rugged(self, token: Token, minute: int) -> bool:
        return token.rug_minute is not None and minute >= token.rug_minute

    def is_listed(self, token: Token, minute: int) -> bool:
        """Launched by `minute`: before that the token has no trades and no price history."""
        return minute >= token.launch_minute

    # -- reading the chain -----------------------------------------------------------------------

    def history_of(self, address: str, *, before: str | None = None, limit: int = 100) -> list[SimTransaction]:
        """Up to `limit` transactions involving `address`, newest first, older than `before`.

        `before` is any known signature (it need not involve `address`): the page starts below
        it. KeyError when `before` is unknown. An unknown address has no history.
        """
        seqs = self._by_address.get(address, [])
        end = len(seqs)
        if before is not None:
            end = bisect.bisect_left(seqs, self.by_signature[before].seq)
        return [self.transactions[s] for s in reversed(seqs[max(0, end - limit) : end])]

    def history_seqs(self, address: str) -> Sequence[int]:
        """Positions in `transactions` of every transaction involving `address`, oldest first."""
        return self._by_address.get(address, ())

    # -- live trading -------------------------------------------------------------------------------

    def live_tick(self, now: float) -> list[SimTransaction]:
        """One live swap at `now` (a due planned exit, or a new entry), sometimes with noise.

        Returns the new transactions, oldest first (possibly none if nothing could trade).
        """
        self.now = max(self.now, int(now))
        made: list[SimTransaction] = []
        when = self.now
        if self._exits and self._exits[0].time <= when and self._rng.random() < 0.6:
            while self._exits and self._exits[0].time <= when:
                planned = heapq.heappop(self._exits)
                tx = self._exit(when, self.wallets_by_address[planned.wallet], planned.mint, planned.fraction,
                                live=True)
                if tx is not None:
                    made.append(tx)
                    break
        if not made:
            tx = self._enter(when, self._pick_wallet(), live=True)
            if tx is not None:
                made.append(tx)
        if self._rng.random() < _NOISE_SHARE:
            tx = self._noise(when, self._pick_wallet(), live=True)
            if tx is not None:
                made.append(tx)
        return made

    def force_trade(
        self,
        now: float,
        *,
        wallet: str | None = None,
        shape: str | None = None,
        side: str | None = None,
        failed: bool = False,
    ) -> SimTransaction:
        """Make `wallet` (default: a random whale) trade right now, as `shape` and `side` if given.

        Raises KeyError for an unknown wallet, ValueError for a bad shape or side, and
        NothingToSell when a sell is asked of a wallet without a position worth selling.
        """
        if shape is not None and shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
        if side not in (None, "buy", "sell"):
            raise ValueError("side must be buy or sell")
        self.now = max(self.now, int(now))
        whale = self.wallets_by_address[wallet] if wallet else self._pick_wallet()
        if failed:
            return self._failed(self.now, whale, shape=shape, live=True)
        held = self._sellable(whale, self.now)
        if side is None:
            side = "sell" if held and self._rng.random() < 0.5 else "buy"
        if side == "sell":
            if not held:
                raise NothingToSell(f"{whale.address} holds nothing worth selling")
            fraction = 1.0 if self._rng.random() < 0.5 else self._rng.uniform(0.3, 0.7)
            tx = self._exit(self.now, whale, self._rng.choice(held), fraction, shape=shape, live=True)
            assert tx is not None  # _sellable checked the proceeds
            return tx
        tx = self._enter(self.now, whale, shape=shape, forced=True, live=True)
        assert tx is not None  # forced entries fall back to any listed token
        return tx

    # -- history ----------------------------------------------------------------------------------

    def _generate_history(self) -> None:
        rng = self._rng
        span = self.now - self.start_time
        entries = max(1, round(self._history_txs * (1 - _NOISE_SHARE) / _TXS_PER_ENTRY))
        noise = round(self._history_txs * _NOISE_SHARE)
        schedule = sorted(
            [(self.start_time + rng.random() * span, True) for _ in range(entries)]
            + [(self.start_time + rng.random() * span, False) for _ in range(noise)]
        )
        for when, is_entry in schedule:
            moment = int(when)
            self._run_due_exits(moment)
            if is_entry:
                self._enter(moment, self._pick_wallet())
            else:
                self._noise(moment, self._pick_wallet())
        self._run_due_exits(self.now - 1)

    def _run_due_exits(self, until: int) -> None:
        while self._exits and self._exits[0].time <= until:
            planned = heapq.heappop(self._exits)
            self._exit(planned.time, self.wallets_by_address[planned.wallet], planned.mint, planned.fraction)

    def _pick_wallet(self) -> DemoWallet:
        return self._rng.choices(self.wallets, cum_weights=self._cum_activity)[0]

    # -- trades -----------------------------------------------------------------------------------

    def _enter(
        self, when: int, whale: DemoWallet, *, shape: str | None = None, forced: bool = False, live: bool = False
    ) -> SimTransaction | None:
        rng, style = self._rng, _STYLES[whale.style]
        minute = self.minute_of(when)
        token = self._choose_token(whale, minute, shape, forced)
        if token is None:
            return None
        shape = shape or self._choose_shape(token, minute)
        quote_mint = USDC_MINT if shape == "jupiter" and rng.random() < style.usdc_share else WSOL_MINT
        token_usd, sol_usd = self.usd_price(token.mint, when), self.usd_price(WSOL_MINT, when)
        slippage = rng.uniform(0.002, 0.012)
        if quote_mint == WSOL_MINT:
            size = _log_uniform(rng, *style.sol_size)
            if rng.random() < 0.5:
                size = max(0.01, round(size, 2 if size < 10 else 0))
            quote_raw = int(size * LAMPORTS_PER_SOL)
            quote_usd = size * sol_usd
        else:
            size = _log_uniform(rng, *style.usdc_size)
            if rng.random() < 0.5:
                size = max(1.0, round(size, -1 if size > 100 else 0))
            quote_raw = int(size * 10**STABLE_DECIMALS)
            quote_usd = size * self.usd_price(USDC_MINT, when)
        token_raw = int(quote_usd / token_usd * (1 - slippage) * 10**token.decimals)
        if token_raw < 1:
            return None
        extra_fee, fee_kind = self._extra_fee(shape, "buy", quote_raw)
        key = (whale.address, token.mint)
        tx = self._record(
            when, whale.address, "swap", live=live, shape=shape, side="buy",
            token_mint=token.mint, token_raw=token_raw, token_decimals=token.decimals,
            quote_mint=quote_mint, quote_raw=quote_raw, extra_fee_raw=extra_fee, extra_fee_kind=fee_kind,
            new_token_account=key not in self._token_accounts, **self._route(shape, quote_raw, quote_mint, when),
        )
        self._add_holding(whale.address, token.mint, token_raw)
        self._token_accounts.add(key)
        self._plan_exits(whale, token, when)
        return tx

    def _exit(
        self, when: int, whale: DemoWallet, mint: str, fraction: float, *, shape: str | None = None,
        live: bool = False,
    ) -> SimTransaction | None:
        rng, style = self._rng, _STYLES[whale.style]
        key = (whale.address, mint)
        held = self.holdings[whale.address].get(mint, 0)
        if held <= 0:
            return None
        token = self.tokens_by_mint[mint]
        minute = self.minute_of(when)
        token_raw = held if fraction >= 1 else min(held, max(1, int(held * fraction)))
        shape = shape or self._choose_shape(token, minute)
        quote_mint = USDC_MINT if shape == "jupiter" and rng.random() < style.usdc_share else WSOL_MINT
        value_usd = token_raw / 10**token.decimals * self.usd_price(mint, when) * (1 - rng.uniform(0.002, 0.012))
        if quote_mint == WSOL_MINT:
            quote_raw = int(value_usd / self.usd_price(WSOL_MINT, when) * LAMPORTS_PER_SOL)
            minimum = _MIN_SELL_LAMPORTS
        else:
            quote_raw = int(value_usd / self.usd_price(USDC_MINT, when) * 10**STABLE_DECIMALS)
            minimum = _MIN_SELL_USDC
        extra_fee, fee_kind = self._extra_fee(shape, "sell", quote_raw)
        if quote_raw - extra_fee < minimum:
            return None  # a dead bag: not worth the network fee, the whale keeps holding it
        closing = token_raw == held and rng.random() < 0.5
        tx = self._record(
            when, whale.address, "swap", live=live, shape=shape, side="sell",
            token_mint=mint, token_raw=token_raw, token_decimals=token.decimals,
            quote_mint=quote_mint, quote_raw=quote_raw, extra_fee_raw=extra_fee, extra_fee_kind=fee_kind,
            close_token_account=closing, **self._route(shape, quote_raw, quote_mint, when),
        )
        self._add_holding(whale.address, mint, -token_raw)
        if closing:
            self._token_accounts.discard(key)
        return tx

    def _sellable(self, whale: DemoWallet, when: int) -> list[str]:
        """Mints `whale` holds whose sale would fetch more than dust."""
        # A forced sell may sell 30% of the holding, less slippage and fees: keep a wide margin.
        floor_usd = max(4 * _MIN_SELL_USDC / 10**STABLE_DECIMALS,
                        4 * _MIN_SELL_LAMPORTS / LAMPORTS_PER_SOL * self.usd_price(WSOL_MINT, when))
        sellable = []
        for mint, raw in sorted(self.holdings[whale.address].items()):
            token = self.tokens_by_mint[mint]
            value = raw / 10**token.decimals * self.usd_price(mint, when)
            if value > floor_usd:
                sellable.append(mint)
        return sellable

    def _choose_token(self, whale: DemoWallet, minute: int, shape: str | None, forced: bool) -> Token | None:
        """A token for `whale` to buy at `minute`: the skilled pick what is about to rise."""
        rng, style = self._rng, _STYLES[whale.style]
        kinds = dict(style.kinds)
        if shape in ("pumpfun", "pumpswap"):
            kinds = {"pump": 1.0}
        eligible, cum_weights = self._tradeable(minute, kinds)
        if not eligible and forced:
            eligible, cum_weights = self.tokens, list(range(1, len(self.tokens) + 1))
        if not eligible:
            return None
        candidates = list({id(t): t for t in rng.choices(eligible, cum_weights=cum_weights, k=_ENTRY_CANDIDATES)}
                          .values())
        horizon = style.lookahead_minutes
        steps = (max(1, horizon // 4), horizon // 2, horizon)

        def outlook(token: Token) -> float:
            path = self.paths[token.mint]
            return max(path.at(minute + s) for s in steps) / path.at(minute)

        return _by_skill(rng, sorted(candidates, key=outlook), whale.skill)

    def _tradeable(self, minute: int, kinds: dict[str, float]) -> tuple[list[Token], list[float]]:
        """Tokens listed and not rugged at `minute` that a whale preferring `kinds` would buy, with
        their cumulative weights; all tradeable tokens when none of those kinds is (a small market).

        Cached per hour and preference: this runs for every entry.
        """
        hour = minute // 60
        if self._tradeable_hour != hour:
            self._tradeable_hour = hour
            self._tradeable_cache = {None: [
                t for t in self.tokens if self.is_listed(t, minute) and not self.is_rugged(t, (hour + 1) * 60)
            ]}
        key = tuple(sorted(kinds.items()))
        if key not in self._tradeable_cache:
            listed = self._tradeable_cache[None]
            eligible = [t for t in listed if kinds.get(t.kind, 0) > 0] or listed
            self._tradeable_cache[key] = eligible
            self._tradeable_weights[key] = list(itertools.accumulate(kinds.get(t.kind, 0.1) for t in eligible))
        return self._tradeable_cache[key], self._tradeable_weights[key]

    def _choose_shape(self, token: Token, minute: int) -> str:
        rng = self._rng
        if token.kind == "pump":
            if token.graduation_minute is not None and minute < token.graduation_minute:
                return "pumpfun"
            return rng.choices(("pumpswap", "jupiter", "raydium"), (0.6, 0.3, 0.1))[0]
        if token.kind == "meme":
            return rng.choice(("raydium", "jupiter"))
        return rng.choices(("jupiter", "raydium"), (0.85, 0.15))[0]

    def _extra_fee(self, shape: str, side: str, quote_raw: int) -> tuple[int, str]:
        rng = self._rng
        if shape == "pumpfun":
            return quote_raw // 100, "pumpfun"
        if shape == "pumpswap" and rng.random() < 0.35:
            return quote_raw // 100, "bot"
        if shape == "jupiter" and side == "sell" and rng.random() < 0.25:
            return quote_raw * rng.randint(20, 100) // 10_000, "platform"
        return 0, ""

    def _route(self, shape: str, quote_raw: int, quote_mint: str, when: int) -> dict:
        """Jupiter routing: one hop, or two via USDT (through Jupiter's accounts or the wallet's)."""
        rng = self._rng
        if shape != "jupiter":
            return {}
        venue = rng.choice(JUPITER_VENUES)
        if rng.random() >= 0.2:
            return {"venue": venue}
        quote_usd = quote_raw / LAMPORTS_PER_SOL * self.usd_price(WSOL_MINT, when) if quote_mint == WSOL_MINT \
            else quote_raw / 10**STABLE_DECIMALS
        intermediate = int(quote_usd / self.usd_price(USDT_MINT, when) * (1 - rng.uniform(0.0005, 0.003)) * 10**6)
        return {"venue": venue, "hops": 2, "hop_via_wallet": rng.random() < 0.3,
                "intermediate_raw": max(1, intermediate)}

    def _plan_exits(self, whale: DemoWallet, token: Token, when: int) -> None:
        """Schedule 1-3 sells within the style's holding window, timed by skill."""
        rng, style = self._rng, _STYLES[whale.style]
        low, high = style.hold_minutes
        path = self.paths[token.mint]
        minute = self.minute_of(when)
        offsets = {rng.randint(low, high) for _ in range(_EXIT_CANDIDATES)}
        remaining = sorted((path.at(minute + off), off) for off in offsets)  # worst moment first
        roll = rng.random()
        count = 1 if roll < 0.5 else 2 if roll < 0.8 else 3
        chosen = []
        for _ in range(min(count, len(remaining))):
            pick = _by_skill(rng, remaining, whale.skill)
            remaining.remove(pick)
            chosen.append(pick[1])
        chosen.sort()
        for index, offset in enumerate(chosen):
            fraction = 1.0 if index == len(chosen) - 1 else rng.uniform(0.3, 0.6)
            moment = when + offset * MINUTE + rng.randint(0, 59)
            heapq.heappush(self._exits, _PlannedExit(moment, next(self._order), whale.address, token.mint, fraction))

    # -- noise ------------------------------------------------------------------------------------

    def _noise(self, when: int, whale: DemoWallet, *, live: bool = False) -> SimTransaction | None:
        kind = self._rng.choices([k for k, _ in _NOISE_KINDS], [w for _, w in _NOISE_KINDS])[0]
        if kind == "failed":
            return self._failed(when, whale, live=live)
        if kind == "sol_transfer":
            return self._sol_transfer(when, whale, live=live)
        return self._spl_transfer(when, whale, live=live)

    def _failed(self, when: int, whale: DemoWallet, *, shape: str | None = None, live: bool = False) -> SimTransaction:
        """A swap that failed on chain (slippage): only the network fee moved."""
        rng = self._rng
        minute = self.minute_of(when)
        listed = [t for t in self.tokens if self.is_listed(t, minute)] or self.tokens
        token = rng.choice(listed)
        return self._record(when, whale.address, "failed", live=live, shape=shape or self._choose_shape(token, minute),
                            side=rng.choice(("buy", "sell")), token_mint=token.mint, token_decimals=token.decimals)

    def _counterparty(self, whale: DemoWallet, *, whales: bool = True) -> str:
        """Another whale (if `whales`), an exchange, or a fresh address."""
        rng = self._rng
        roll = rng.random()
        if whales and roll < 0.2 and len(self.wallets) > 1:
            other = rng.choice(self.wallets)
            if other.address != whale.address:
                return other.address
        if roll < 0.4:
            return rng.choice(self.exchanges)
        return b58encode(rng.randbytes(32))

    def _sol_transfer(self, when: int, whale: DemoWallet, *, live: bool = False) -> SimTransaction:
        rng = self._rng
        lamports = int(_log_uniform(rng, 0.05, 200.0) * LAMPORTS_PER_SOL)
        if rng.random() < 0.5:
            lamports = max(LAMPORTS_PER_SOL // 100, lamports // 10**7 * 10**7)
        return self._record(when, whale.address, "sol_transfer", live=live, side=rng.choice(("out", "in")),
                            quote_mint=WSOL_MINT, quote_raw=lamports, counterparty=self._counterparty(whale))

    def _spl_transfer(self, when: int, whale: DemoWallet, *, live: bool = False) -> SimTransaction | None:
        rng = self._rng
        minute = self.minute_of(when)
        held = sorted(m for m, raw in self.holdings[whale.address].items() if raw > 1)
        if held and rng.random() < 0.6:
            counterparty = self._counterparty(whale)
            mint = rng.choice(held)
            raw = max(1, int(self.holdings[whale.address][mint] * rng.uniform(0.1, 0.5)))
            recipient_key = (counterparty, mint)
            opens = recipient_key not in self._token_accounts if counterparty in self.wallets_by_address \
                else rng.random() < 0.5
            tx = self._record(when, whale.address, "spl_transfer", live=live, side="out", token_mint=mint,
                              token_raw=raw, token_decimals=self.tokens_by_mint[mint].decimals,
                              counterparty=counterparty, counterparty_new_account=opens)
            self._add_holding(whale.address, mint, -raw)
            if counterparty in self.wallets_by_address:
                self._add_holding(counterparty, mint, raw)
                self._token_accounts.add(recipient_key)
            return tx
        listed = [t for t in self.tokens if self.is_listed(t, minute) and not self.is_rugged(t, minute)]
        if not listed:
            return None
        token = rng.choice(listed)
        worth = _log_uniform(rng, 5.0, 500.0)
        raw = int(worth / self.usd_price(token.mint, when) * 10**token.decimals)
        if raw < 1:
            return None
        key = (whale.address, token.mint)
        # Only strangers and exchanges send tokens in: a whale sender would have to hold them.
        tx = self._record(when, whale.address, "spl_transfer", live=live, side="in", token_mint=token.mint,
                          token_raw=raw, token_decimals=token.decimals,
                          counterparty=self._counterparty(whale, whales=False),
                          new_token_account=key not in self._token_accounts)
        self._add_holding(whale.address, token.mint, raw)
        self._token_accounts.add(key)
        return tx

    # -- recording --------------------------------------------------------------------------------

    def _add_holding(self, wallet: str, mint: str, raw: int) -> None:
        held = self.holdings[wallet].get(mint, 0) + raw
        if held > 0:
            self.holdings[wallet][mint] = held
        else:
            self.holdings[wallet].pop(mint, None)

    def _record(self, when: int, wallet: str, kind: str, *, live: bool, **facts) -> SimTransaction:
        rng = self._rng
        slot = max(self._last_slot, self.slot_at(when))
        self._last_slot = slot
        tx = SimTransaction(
            seq=len(self.transactions),
            signature=b58encode(rng.randbytes(64)),
            slot=slot,
            timestamp=when,
            wallet=wallet,
            kind=kind,
            network_fee=_network_fee(rng),
            salt=rng.getrandbits(48),
            live=live,
            **facts,
        )
        self.transactions.append(tx)
        self.by_signature[tx.signature] = tx
        for address in dict.fromkeys(tx.involved):
            self._by_address.setdefault(address, []).append(tx.seq)
        return tx


def _line(start: float, end: float, steps: int) -> tuple[float, ...]:
    """`steps` values moving evenly from `start` (excluded) to `end` (included)."""
    if steps <= 0:
        return ()
    return tuple(itertools.accumulate(itertools.repeat((end - start) / steps, steps), initial=start))[1:]


_T = TypeVar("_T")


def _by_skill(rng: random.Random, ranked: Sequence[_T], skill: float) -> _T:
    """From `ranked` (worst first): the best with probability 0.8·skill, the worst with
    0.8·(1-skill), otherwise any. A 0.5 whale is a coin flip; a 0.9 one is nearly always right."""
    roll = rng.random()
    if roll < 0.8 * skill:
        return ranked[-1]
    if roll < 0.8:
        return ranked[0]
    return rng.choice(ranked)


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _network_fee(rng: random.Random) -> int:
    """5,000 lamports base plus a priority fee: mostly small, sometimes a bidding war."""
    roll = rng.random()
    if roll < 0.5:
        return rng.randint(5_000, 20_000)
    if roll < 0.85:
        return rng.randint(20_000, 100_000)
    return rng.randint(100_000, 250_000)

