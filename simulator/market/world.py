"""The `Market`: wallets, tokens, prices and every transaction, from seeded history to live trades."""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import time
from collections.abc import Sequence
from typing import TypeVar

from simulator.base58 import b58encode, derived_address
from simulator.market.constants import (
    DEFAULT_SEED,
    JUPITER_VENUES,
    LAMPORTS_PER_SOL,
    MINUTE,
    SHAPES,
    STABLE_DECIMALS,
    USDC_MINT,
    USDT_MINT,
    WSOL_MINT,
)
from simulator.market.prices import PriceEvent, PricePath
from simulator.market.tokens import QUOTE_ASSETS, Token, _build_tokens
from simulator.market.transactions import NothingToSell, SimTransaction, _PlannedExit
from simulator.market.wallets import _STYLES, DemoWallet, demo_wallets

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

    def trade_token(
        self, now: float, wallet: str, mint: str, side: str, *, usd: float = 0.0, fraction: float = 1.0
    ) -> SimTransaction | None:
        """Make `wallet` buy `usd` dollars of `mint`, or sell `fraction` of its holding, right now (as a
        staged episode asks; `simulator.episodes`). None when there is nothing worth selling, or the
        token is not listed (or rugged) now. Raises KeyError for an unknown wallet or mint."""
        self.now = max(self.now, int(now))
        when, whale, token = self.now, self.wallets_by_address[wallet], self.tokens_by_mint[mint]
        minute = self.minute_of(when)
        if side == "sell":
            return self._exit(when, whale, mint, fraction, live=True)
        if side != "buy" or usd <= 0:
            raise ValueError("a staged trade is a buy of a positive USD amount, or a sell")
        if not self.is_listed(token, minute) or self.is_rugged(token, minute):
            return None
        rng, style = self._rng, _STYLES[whale.style]
        shape = self._choose_shape(token, minute)
        quote_mint = USDC_MINT if shape == "jupiter" and rng.random() < style.usdc_share else WSOL_MINT
        if quote_mint == WSOL_MINT:
            quote_raw = int(usd / self.usd_price(WSOL_MINT, when) * LAMPORTS_PER_SOL)
        else:
            quote_raw = int(usd / self.usd_price(USDC_MINT, when) * 10**STABLE_DECIMALS)
        token_raw = int(usd / self.usd_price(mint, when) * (1 - rng.uniform(0.002, 0.012)) * 10**token.decimals)
        if token_raw < 1 or quote_raw < 1:
            return None
        extra_fee, fee_kind = self._extra_fee(shape, "buy", quote_raw)
        key = (whale.address, mint)
        tx = self._record(
            when, whale.address, "swap", live=True, shape=shape, side="buy",
            token_mint=mint, token_raw=token_raw, token_decimals=token.decimals,
            quote_mint=quote_mint, quote_raw=quote_raw, extra_fee_raw=extra_fee, extra_fee_kind=fee_kind,
            new_token_account=key not in self._token_accounts, **self._route(shape, quote_raw, quote_mint, when),
        )
        self._add_holding(whale.address, mint, token_raw)
        self._token_accounts.add(key)
        self._plan_exits(whale, token, when)
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
