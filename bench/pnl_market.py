"""bench/pnl's synthetic market: tokens with random-walk prices, the run's `Config`, and the
swaps and transfers whales make, amounts and prices rounded exactly as the app stores them.

Imported by bench/pnl.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import NamedTuple

from whales.models import AMOUNT, PRICE, USD
from whales.solana import USDC_MINT, USDT_MINT, WSOL_MINT

DAYS = 30
HOUR = 3600
MB = 1024 * 1024
EXACT = Context(prec=1000)  # sums of exact figures stay exact
ZERO = Decimal(0)
ONE = Decimal(1)
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BYTE_TO_BASE58 = bytes.maketrans(bytes(range(256)), bytes(BASE58.encode()[i % 58] for i in range(256)))
AMOUNT_PLACES = AMOUNT["decimal_places"]
PRICE_STEP = ONE.scaleb(-PRICE["decimal_places"])
USD_STEP = ONE.scaleb(-USD["decimal_places"])
PRICE_QUOTIENT = Context(prec=28)  # whales.ingestion.parsing divides quote by token amount at this precision
WIDE = Context(prec=80)
SLOT_AT_START = 300_000_000
SOURCES = ["JUPITER", "RAYDIUM", "PUMP_FUN", "METEORA", "ORCA", "PHOENIX"]
TAGS = ["smart-money", "kol", "sniper", "insider", "fund", "bot", "degen", "whale", "early", "copytrade"]
TAG_WEIGHTS = [12, 8, 8, 4, 3, 6, 10, 6, 5, 4]
LABEL_ADJECTIVES = ["Quiet", "Early", "Fast", "Lucky", "Patient", "Big", "Old", "Night", "Solar", "Iron"]
LABEL_NOUNS = ["Whale", "Shark", "Fox", "Owl", "Bull", "Bear", "Hawk", "Wolf", "Crab", "Orca"]
SAME_TRANSACTION = 0.03  # a swap shares its transaction (and second) with the wallet's previous one
SELL_FROM_NOTHING = 0.01  # a sell of tokens we never saw bought (older history, or a transfer in)
TRANSFER_IN_FIRST = 0.5  # of those, the share where the tokens did come in by a TokenTransfer first
UNPRICED_TRANSFER = 0.05  # an incoming transfer still waiting for its market price (pending)
TRANSFER_OUT = 0.01  # after a buy, part of the bag moves to another wallet
OVERSELL = 0.02  # a sell larger than the holdings we know of
SELL_ALL = 0.38


def stored_amount(units: int, decimals: int) -> Decimal:
    """`units` of a mint with `decimals`, as an amount column holds it (AMOUNT_PLACES decimal places)."""
    return Decimal(units * 10 ** (AMOUNT_PLACES - decimals)).scaleb(-AMOUNT_PLACES)


def base58_address(rng: random.Random) -> str:
    """Base58 of 32 random bytes, as a Solana address is."""
    number = int.from_bytes(rng.randbytes(32), "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58[digit])
    return "".join(reversed(digits)).rjust(32, "1")


def random_signature(rng: random.Random) -> str:
    """88 base58 characters, the length of a transaction signature."""
    return rng.randbytes(88).translate(_BYTE_TO_BASE58).decode()


@dataclass(frozen=True)
class Market:
    """Tokens with an hourly USD price path each, and SOL/USD, over the DAYS days ending at `end`."""

    start: int
    end: int
    mints: list[str]
    symbols: list[str]
    decimals: list[int]
    log_prices: list[array]
    log_sol_usd: array
    popularity: list[float]  # cumulative weights, for rng.choices
    scales: list[int]  # 10 ** decimals
    sol_by_minute: dict[int, Decimal] = field(default_factory=dict)  # filled as asked for

    @classmethod
    def build(cls, seed: int, tokens: int, end: int) -> Market:
        rng = random.Random(f"{seed}:market")
        hours = DAYS * 24
        floor, ceiling = math.log(1e-9), math.log(1e3)
        log_prices = []
        for _ in range(tokens):
            level = rng.uniform(math.log(1e-7), math.log(2.0))
            volatility, drift = rng.uniform(0.01, 0.08), rng.gauss(-0.0005, 0.002)
            path = array("d", [level])
            for _ in range(hours):
                level = min(ceiling, max(floor, level + drift + rng.gauss(0, volatility)))
                path.append(level)
            log_prices.append(path)
        sol, log_sol = math.log(150.0), array("d")
        for _ in range(hours + 1):
            log_sol.append(sol)
            sol += rng.gauss(0, 0.008)
        popularity, total = [], 0.0
        for rank in range(tokens):
            total += 1 / (rank + 1) ** 0.8
            popularity.append(total)
        mints = [base58_address(rng) for _ in range(tokens)]
        symbols = ["".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=rng.randint(3, 6))) for _ in range(tokens)]
        decimals = [rng.choice((6, 6, 9, 9, 9, 8)) for _ in range(tokens)]
        return cls(
            start=end - DAYS * 86_400,
            end=end,
            mints=mints,
            symbols=symbols,
            decimals=decimals,
            log_prices=log_prices,
            log_sol_usd=log_sol,
            popularity=popularity,
            scales=[10**places for places in decimals],
        )

    def _at(self, path: array, moment: int) -> float:
        offset = (moment - self.start) / HOUR
        hour = min(int(offset), len(path) - 2)
        return math.exp(path[hour] + (path[hour + 1] - path[hour]) * (offset - hour))

    def price_usd(self, token: int, moment: int) -> float:
        return self._at(self.log_prices[token], moment)

    def sol_usd(self, moment: int) -> Decimal:
        """SOL/USD as the price history holds it: one point a minute, six decimals."""
        minute = moment // 60
        price = self.sol_by_minute.get(minute)
        if price is None:
            price = self.sol_by_minute[minute] = Decimal(f"{self._at(self.log_sol_usd, minute * 60):.6f}")
        return price

    def price_at(self, price: float) -> Decimal:
        """A USD price as the price history stores it."""
        return Decimal(f"{price:.12g}").quantize(PRICE_STEP, context=WIDE)

    def transfer(
        self,
        rng: random.Random,
        wallet: int,
        token: int,
        direction: str,
        units: int,
        usd_price: Decimal | None,
        at: int,
    ) -> TransferRow:
        """A token transfer of `units` (the token's smallest units) in its own transaction."""
        return TransferRow(
            wallet,
            token,
            random_signature(rng),
            direction,
            stored_amount(units, self.decimals[token]),
            usd_price,
            datetime.fromtimestamp(at, UTC),
            SLOT_AT_START + (at - self.start) * 5 // 2,
            "SYSTEM_PROGRAM",
            "webhook",
            datetime.fromtimestamp(at + 2, UTC),
        )

    def latest_price(self, token: int) -> Decimal:
        return self.price_at(math.exp(self.log_prices[token][-1]))


class SwapRow(NamedTuple):
    """One generated swap with every `whales_swap` column; wallet and token are indexes, not ids yet."""

    wallet: int
    token: int
    signature: str
    side: str
    token_amount: Decimal
    quote_mint: str
    quote_amount: Decimal
    price_in_quote: Decimal
    usd_price: Decimal
    usd_value: Decimal
    block_time: datetime
    slot: int
    source: str
    position: int
    arrived_via: str
    ingested_at: datetime


class TransferRow(NamedTuple):
    """One generated `whales_tokentransfer` row; wallet and token are indexes, not ids yet."""

    wallet: int
    token: int
    signature: str
    direction: str
    amount: Decimal
    usd_price: Decimal | None
    block_time: datetime
    slot: int
    source: str
    arrived_via: str
    ingested_at: datetime


def swaps_per_wallet(seed: int, wallets: int, swaps: int) -> list[int]:
    """How many swaps each wallet made: log-normal activity (a few bots, many occasional traders)."""
    rng = random.Random(f"{seed}:activity")
    weights = [rng.lognormvariate(0, 1.0) for _ in range(wallets)]
    total = sum(weights)
    counts = [int(weight / total * swaps) for weight in weights]
    for index in range(swaps - sum(counts)):
        counts[index % wallets] += 1
    return counts


def wallet_profile(seed: int, index: int) -> tuple[str, str, list[str]]:
    """Address, label (half of the wallets) and tags (a third) of the run's wallet number `index`."""
    rng = random.Random(f"{seed}:profile:{index}")
    address = base58_address(rng)
    label = f"{rng.choice(LABEL_ADJECTIVES)} {rng.choice(LABEL_NOUNS)} {index}" if rng.random() < 0.5 else ""
    tags = sorted(set(rng.choices(TAGS, weights=TAG_WEIGHTS, k=rng.randint(1, 3)))) if rng.random() < 0.35 else []
    return address, label, tags


def wallet_trades(market: Market, seed: int, wallet: int, count: int) -> Iterator[SwapRow | TransferRow]:
    """The wallet's `count` swaps, and a few token transfers, in block-time order, rounded as
    `whales.ingestion.ingest` stores them.

    Each wallet trades a handful of tokens (a few heavily), alternating entries, adds, partial and
    full exits; now and then it sells more than we saw it buy, receives tokens by transfer before
    selling them, or moves part of a bag out. Deterministic per (seed, wallet).
    """
    rng = random.Random(f"{seed}:wallet:{wallet}")
    draw = rng.random
    tokens_traded = min(40, len(market.mints), 2 + int(rng.lognormvariate(1.6, 0.7)))
    held: list[int] = []
    while len(held) < tokens_traded:
        token = rng.choices(range(len(market.mints)), cum_weights=market.popularity)[0]
        if token not in held:
            held.append(token)
    weights = [1 / (rank + 1) for rank in range(len(held))]
    trade_usd = rng.lognormvariate(math.log(1_500), 1.0)
    sol_share = rng.uniform(0.6, 1.0)
    usual_source = rng.choice(SOURCES)
    holdings = dict.fromkeys(held, 0)  # in the token's smallest units
    span = market.end - market.start
    times = sorted(market.start + int(draw() * span) for _ in range(count))
    chosen = rng.choices(held, weights=weights, k=count)
    signature, position, moment, in_transaction = "", 0, market.start, set()
    for index in range(count):
        token = chosen[index]
        if index and token not in in_transaction and draw() < SAME_TRANSACTION:
            position += 1  # another leg of the previous transaction: same signature, same second
        else:
            signature, position, moment, in_transaction = random_signature(rng), 0, times[index], set()
        in_transaction.add(token)
        scale = market.scales[token]
        price = market.price_usd(token, moment) * (0.995 + 0.01 * draw())
        held_units = holdings[token]
        buy = draw() >= SELL_FROM_NOTHING if held_units == 0 else draw() < 0.4
        if not buy and held_units == 0 and draw() < TRANSFER_IN_FIRST:
            held_units = max(1, int(trade_usd * rng.lognormvariate(0, 0.8) / price * scale))
            usd_price = None if draw() < UNPRICED_TRANSFER else market.price_at(price)
            yield market.transfer(rng, wallet, token, "in", held_units, usd_price, moment)
        if buy or held_units == 0:
            units = max(1, int(trade_usd * rng.lognormvariate(0, 0.8) / price * scale))
        else:
            chance = draw()
            if chance < OVERSELL:
                units = int(held_units * (1.05 + 0.55 * draw())) + 1
            elif chance < OVERSELL + SELL_ALL:
                units = held_units
            else:
                units = max(1, int(held_units * (0.1 + 0.6 * draw())))
        holdings[token] = held_units + units if buy else max(0, held_units - units)
        usd = units / scale * price
        if draw() < sol_share:
            quote_mint, usd_rate = WSOL_MINT, market.sol_usd(moment)
            quote_units, quote_scale = max(1, round(usd / float(usd_rate) * 1e9)), 9
        else:
            quote_mint = USDC_MINT if draw() < 0.85 else USDT_MINT
            quote_units, quote_scale, usd_rate = max(1, round(usd * 1e6)), 6, ONE
        token_amount = stored_amount(units, market.decimals[token])
        quote_amount = stored_amount(quote_units, quote_scale)
        price_in_quote = PRICE_QUOTIENT.divide(quote_amount, token_amount)
        chance = draw()
        if chance < 0.75:
            via, delay = "webhook", 1 + int(5 * draw())
        elif chance < 0.88:
            via, delay = "poll", 10 + int(230 * draw())
        else:
            via, delay = "backfill", 3_600 + int(3 * 86_400 * draw())
        yield SwapRow(
            wallet,
            token,
            signature,
            "buy" if buy else "sell",
            token_amount,
            quote_mint,
            quote_amount,
            price_in_quote.quantize(PRICE_STEP, context=WIDE),
            PRICE_QUOTIENT.multiply(price_in_quote, usd_rate).quantize(PRICE_STEP, context=WIDE),
            PRICE_QUOTIENT.multiply(quote_amount, usd_rate).quantize(USD_STEP, context=WIDE),
            datetime.fromtimestamp(moment, UTC),
            SLOT_AT_START + (moment - market.start) * 5 // 2,
            usual_source if draw() < 0.8 else rng.choice(SOURCES),
            position,
            via,
            datetime.fromtimestamp(moment + delay, UTC),
        )
        if buy and draw() < TRANSFER_OUT:
            moved = max(1, int(holdings[token] * (0.2 + 0.6 * draw())))
            holdings[token] -= moved
            yield market.transfer(rng, wallet, token, "out", moved, None, moment)


@dataclass(frozen=True)
class Config:
    swaps: int
    wallets: int
    leaderboard_wallets: int
    seed: int
    end: int  # unix seconds: the generated history is the DAYS days before this
    repeat: int

    @property
    def tokens(self) -> int:
        return max(20, self.wallets // 2)

    def market(self) -> Market:
        return Market.build(self.seed, self.tokens, self.end)
