"""Coordinated whale episodes staged on a live market, so the demo shows token signals early.

Now and then a few whales (3–6) act on one token within minutes, as clusters do:

* **before a pump**: skilled whales buy a token whose price is about to rise, the first of them big
  (a big trade of $12k–$25k), the others $300–$3,000 each;
* **before a rug**: unskilled whales buy a token whose liquidity is about to be pulled (or, when
  none is, the one about to fall most);
* **distribution**: whales holding one token sell it within minutes, ahead of its fall.

The market knows its future (seeded price paths, planned rugs), so the staging is honest: the
prices that follow are the ones the paths always had. Deterministic for a seed and a start time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

from simulator.market import DemoWallet, Market, Token

PUMP, RUG, DISTRIBUTION = "pump", "rug", "distribution"
ORDER = (PUMP, DISTRIBUTION, RUG)
LOOKAHEAD_MINUTES = 60
RUG_WITHIN_MINUTES = (20, 240)
BIG_BUY_USD = (12_000.0, 25_000.0)
SMALL_BUY_USD = (300.0, 3_000.0)
HOLDING_WORTH_SELLING_USD = 50.0


@dataclass(order=True, frozen=True)
class PlannedTrade:
    """One trade of an episode: `wallet` buys `usd` dollars of `mint`, or sells `fraction` of its bag."""

    at: int
    seq: int
    wallet: str = field(compare=False)
    mint: str = field(compare=False)
    side: str = field(compare=False)
    usd: float = field(default=0.0, compare=False)
    fraction: float = field(default=1.0, compare=False)
    episode: str = field(default="", compare=False)


class Episodes:
    """Plans the first episode `first_after` seconds after `start`, one of each kind every
    `first_every_seconds` (jittered) after it, then one every `every_seconds`; hands out their
    trades as they fall due (`due`)."""

    def __init__(
        self,
        market: Market,
        start: float,
        *,
        seed: int = 0,
        first_after: float = 30.0,
        first_every_seconds: tuple[float, float] = (90.0, 120.0),
        every_seconds: tuple[float, float] = (300.0, 600.0),
    ) -> None:
        self.market = market
        self.rng = random.Random(f"aura-sim:{market.seed}:{seed}:episodes")
        self.first_every_seconds = first_every_seconds
        self.every_seconds = every_seconds
        self.next_at = int(start + first_after)
        self.planned: list[PlannedTrade] = []
        self.kinds = itertools.cycle(ORDER)
        self.staged: list[tuple[int, str, str]] = []  # (time, episode kind, mint), for the record
        self._seq = itertools.count()

    def due(self, now: float) -> list[PlannedTrade]:
        """Trades due by `now`, oldest first; plans the next episode when its time has come."""
        moment = int(now)
        while moment >= self.next_at:
            self._plan(self.next_at)
            # One of each kind early (a demo shows every kind within minutes), calmer after.
            early = len(self.staged) < len(ORDER)
            self.next_at += int(self.rng.uniform(*(self.first_every_seconds if early else self.every_seconds)))
        trades = []
        while self.planned and self.planned[0].at <= moment:
            trades.append(heapq.heappop(self.planned))
        return trades

    # -- planning ------------------------------------------------------------------------------------

    def _plan(self, when: int) -> None:
        for _ in range(len(ORDER)):  # a kind with nothing to stage gives way to the next
            kind = next(self.kinds)
            trades = {PUMP: self._pump, RUG: self._rug, DISTRIBUTION: self._distribution}[kind](when)
            if trades:
                for trade in trades:
                    heapq.heappush(self.planned, trade)
                self.staged.append((when, kind, trades[0].mint))
                return

    def _tradeable(self, minute: int) -> list[Token]:
        market = self.market
        return [t for t in market.tokens if market.is_listed(t, minute) and not market.is_rugged(t, minute + 30)]

    def _pump(self, when: int) -> list[PlannedTrade]:
        market, minute = self.market, self.market.minute_of(when)

        def rise(token: Token) -> float:
            path = market.paths[token.mint]
            return max(path.at(minute + step) for step in range(5, LOOKAHEAD_MINUTES + 1, 5)) / path.at(minute)

        candidates = sorted(self._tradeable(minute), key=rise, reverse=True)[:3]
        if not candidates:
            return []
        token = self.rng.choice(candidates)
        whales = sorted(market.wallets, key=lambda w: w.skill, reverse=True)[:40]
        return self._buys(when, token, self.rng.sample(whales, self._size()), PUMP, big_first=True)

    def _rug(self, when: int) -> list[PlannedTrade]:
        market, minute = self.market, self.market.minute_of(when)
        low, high = RUG_WITHIN_MINUTES
        rugging = [
            t
            for t in self._tradeable(minute)
            if t.rug_minute is not None and minute + low <= t.rug_minute <= minute + high
        ]
        if not rugging:

            def fall(token: Token) -> float:
                path = market.paths[token.mint]
                return min(path.at(minute + step) for step in range(5, LOOKAHEAD_MINUTES + 1, 5)) / path.at(minute)

            rugging = sorted(self._tradeable(minute), key=fall)[:3]
        if not rugging:
            return []
        token = self.rng.choice(rugging)
        whales = sorted(market.wallets, key=lambda w: w.skill)[:60]
        return self._buys(when, token, self.rng.sample(whales, self._size()), RUG, big_first=False)

    def _distribution(self, when: int) -> list[PlannedTrade]:
        market, minute = self.market, self.market.minute_of(when)
        holders: dict[str, list[DemoWallet]] = {}
        for token in self._tradeable(minute):
            price = market.usd_price(token.mint, when)
            for wallet in market.wallets:
                raw = market.holdings[wallet.address].get(token.mint, 0)
                if raw / 10**token.decimals * price >= HOLDING_WORTH_SELLING_USD:
                    holders.setdefault(token.mint, []).append(wallet)
        held = [(mint, wallets) for mint, wallets in holders.items() if len(wallets) >= 3]
        if not held:
            return []

        def fall(item: tuple[str, list[DemoWallet]]) -> float:
            path = market.paths[item[0]]
            return min(path.at(minute + step) for step in range(5, LOOKAHEAD_MINUTES + 1, 5)) / path.at(minute)

        mint, wallets = min(held, key=fall)
        sellers = self.rng.sample(wallets, min(len(wallets), self._size()))
        trades, moment = [], when
        for wallet in sellers:
            moment += int(self.rng.uniform(10, 30))
            trades.append(PlannedTrade(moment, next(self._seq), wallet.address, mint, "sell", 0.0, 1.0, DISTRIBUTION))
        return trades

    def _buys(
        self, when: int, token: Token, whales: list[DemoWallet], kind: str, *, big_first: bool
    ) -> list[PlannedTrade]:
        trades, moment = [], when
        for index, wallet in enumerate(whales):
            moment += int(self.rng.uniform(10, 40))
            low, high = BIG_BUY_USD if big_first and index == 0 else SMALL_BUY_USD
            usd = round(math.exp(self.rng.uniform(math.log(low), math.log(high))), 2)
            trades.append(PlannedTrade(moment, next(self._seq), wallet.address, token.mint, "buy", usd, 1.0, kind))
        return trades

    def _size(self) -> int:
        return self.rng.randint(3, 6)
