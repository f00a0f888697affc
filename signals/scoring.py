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
"""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

from whales.books.pnl import MIN_CYCLES_TO_RANK, WinRate

SIGNALS_VERSION = "v1"

WHALE_ACCUMULATION = "whale_accumulation"
WHALE_DISTRIBUTION = "whale_distribution"
BIG_TRADE = "big_trade"
MOMENTUM = "momentum"
NEW_LISTING = "new_listing"
KINDS = (WHALE_ACCUMULATION, WHALE_DISTRIBUTION, BIG_TRADE, MOMENTUM, NEW_LISTING)
SWAP_KINDS = (WHALE_ACCUMULATION, WHALE_DISTRIBUTION, BIG_TRADE)  # the Detector's kinds

BUY = "buy"
SELL = "sell"
SIDES = (BUY, SELL)
UP = "up"
DOWN = "down"
FIRED = "fired"
UPDATED = "updated"

HOUR = 3600
DAY = 86400

ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
# Sums and differences of swap amounts are exact under this context (inputs have far fewer digits),
# so adding a swap to a window and taking it out again leaves exactly what was there.
_EXACT = Context(prec=1000, traps=[InvalidOperation, DivisionByZero, Overflow])
_RATIOS = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_SHOWN_RATIO = Decimal("0.0001")

# --- Score tables (part of SIGNALS.md v1: changing one is a new version) ---------------------------

CLUSTER_WALLET_POINTS_EACH = 10
CLUSTER_WALLET_POINTS_MAX = 50
CLUSTER_NET_USD_POINTS = ((Decimal(1_000), 5), (Decimal(10_000), 10), (Decimal(50_000), 15), (Decimal(100_000), 20))
CLUSTER_QUALITY_POINTS_MAX = 30
BIG_TRADE_SIZE_POINTS = ((Decimal(1), 40), (Decimal("2.5"), 50), (Decimal(5), 60), (Decimal(10), 70), (Decimal(25), 80))
BIG_TRADE_QUALITY_POINTS_MAX = 20
MOMENTUM_PRICE_1H_FULL_PERCENT, MOMENTUM_PRICE_1H_MAX = Decimal(20), 20
MOMENTUM_PRICE_24H_FULL_PERCENT, MOMENTUM_PRICE_24H_MAX = Decimal(50), 15
MOMENTUM_VOLUME_FULL_RATIO, MOMENTUM_VOLUME_MAX = Decimal(4), 20
MOMENTUM_LIQUIDITY_POINTS = ((Decimal(10_000), 5), (Decimal(50_000), 10), (Decimal(250_000), 15))
MOMENTUM_HOLDERS_FULL_PERCENT, MOMENTUM_HOLDERS_MAX = Decimal(10), 10
MOMENTUM_NET_FLOW_POINTS = ((Decimal(1_000), 5), (Decimal(10_000), 10), (Decimal(50_000), 15), (Decimal(100_000), 20))
LISTING_SAFETY_POINTS = 40
LISTING_LIQUIDITY_POINTS = ((Decimal(1), 10), (Decimal(5), 20), (Decimal(25), 30))  # multiples of the floor
LISTING_SPREAD_POINTS_MAX = 30


class InvalidSwap(ValueError):
    """A `Swap` field is out of its domain (unknown side, negative or non-finite usd, non-integer time)."""


# --- Parameters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    """The knobs the app fills from settings; the defaults are SIGNALS.md v1's.

    Raises ValueError on construction for a value out of its domain.
    """

    window_seconds: int = 1800  # cluster window: swaps with T − window ≤ t ≤ T count at T
    min_wallets: int = 3  # distinct net-buying (net-selling) wallets for a cluster signal
    cooldown_seconds: int = 6 * HOUR  # one active signal per (token, kind) this long after it fired
    big_trade_usd: Decimal = Decimal(10_000)
    big_trade_growth_seconds: int = 1800  # same wallet, token, side within this of fired_at: it grows
    min_cycles_for_quality: int = MIN_CYCLES_TO_RANK  # a wallet's win rate counts in a score from here
    momentum_publish_score: int = 25
    momentum_max_input_age_seconds: int = HOUR
    safety_max_top10_share: Decimal = Decimal("0.3")  # of the supply, 0–1
    safety_min_liquidity_usd: Decimal = Decimal(10_000)
    safety_max_input_age_seconds: int = DAY
    hit_threshold: Decimal = Decimal("0.05")  # a 5 % move the signalled way is a hit
    outcome_price_gap_seconds: int = 600  # the price "at +1 h" is the last one at most this before it

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type == "int":
                if type(value) is not int or value < 0 or (value == 0 and item.name != "momentum_publish_score"):
                    raise ValueError(f"{item.name} must be a positive integer, got {value!r}")
            elif not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{item.name} must be a finite Decimal ≥ 0, got {value!r}")
        if self.momentum_publish_score > 100:
            raise ValueError(f"momentum_publish_score must be 0–100, got {self.momentum_publish_score}")
        if self.safety_max_top10_share > 1:
            raise ValueError(f"safety_max_top10_share must be 0–1, got {self.safety_max_top10_share}")


DEFAULT_PARAMETERS = Parameters()


# --- Swaps and wallets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Swap:
    """One tracked wallet's swap of one token: `usd` is its value in USD (≥ 0), `side` "buy" or "sell".

    `id` is unique per swap (the app's swap id; the CLI's index in the file): a swap seen twice is
    counted once.
    """

    id: int | str
    t: int
    wallet: str
    token: str
    side: str
    usd: Decimal

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise InvalidSwap(f'side must be "buy" or "sell", got {self.side!r}')
        if type(self.t) is not int:
            raise InvalidSwap(f"t must be an integer (unix seconds), got {self.t!r}")
        usd = self.usd
        if not isinstance(usd, Decimal) or not usd.is_finite() or usd < 0:
            raise InvalidSwap(f"usd must be a finite Decimal ≥ 0, got {usd!r}")
        if not isinstance(self.wallet, str) or not self.wallet or not isinstance(self.token, str) or not self.token:
            raise InvalidSwap("wallet and token must be non-empty strings")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "t": self.t,
            "wallet": self.wallet,
            "token": self.token,
            "side": self.side,
            "usd": decimal_text(self.usd),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Swap:
        return cls(data["id"], data["t"], data["wallet"], data["token"], data["side"], Decimal(data["usd"]))


@dataclass(frozen=True, slots=True)
class WalletStats:
    """A tracked wallet's win rate (0–1, None when it has nothing rated) over `cycles` rated cycles."""

    win_rate: Decimal | None
    cycles: int | None

    def quality(self, min_cycles: int) -> Decimal:
        """The win rate when it rests on at least `min_cycles` cycles, else 0: an unproven wallet adds nothing."""
        return _quality(self.win_rate, self.cycles, min_cycles)


UNKNOWN_WALLET = WalletStats(None, None)


# --- Signals and events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignalWallet:
    """A wallet in a signal, as it was when it entered the signal (`joined_at`).

    `usd`: for a cluster, the wallet's net USD on the token over the window ending at `joined_at`
    (negative for a net seller); for a big trade, the USD of all the trades grown into it.
    `win_rate`/`cycles`: the wallet's record at that moment (None: unknown).
    """

    wallet: str
    joined_at: int
    usd: Decimal
    win_rate: Decimal | None = None
    cycles: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "wallet": self.wallet,
            "joined_at": self.joined_at,
            "usd": decimal_text(self.usd),
            "win_rate": None if self.win_rate is None else decimal_text(self.win_rate),
            "cycles": self.cycles,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignalWallet:
        win_rate = data.get("win_rate")
        return cls(
            data["wallet"],
            data["joined_at"],
            Decimal(data["usd"]),
            None if win_rate is None else Decimal(win_rate),
            data.get("cycles"),
        )


@dataclass(slots=True)
class Signal:
    """One signal: what fired, when, on what evidence, how strong (`score` 0–100) and why (`reasons`).

    `side`: "buy"/"sell" for whale and big-trade signals (accumulation is buying), None for market
    kinds. `wallets` in the order they entered (address order within one moment). `swap_ids`: the
    swaps grown into a big trade (empty for other kinds). `updated_at`: the last time evidence
    changed it (`fired_at` until then). A signal is identified by `key`.

    Snapshots (`copy()`, the signals of events) share the reason dicts, which are never changed
    once made: read them, store them, do not edit them in place.
    """

    kind: str
    token: str
    fired_at: int
    updated_at: int
    side: str | None = None
    wallets: dict[str, SignalWallet] = field(default_factory=dict)
    swap_ids: list[int | str] = field(default_factory=list)
    score: int = 0
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        """(kind, token, wallet, side, fired_at): unique among all signals; wallet and side are "" except
        for a big trade, whose wallet and side are part of what it is about."""
        if self.kind == BIG_TRADE:
            return (self.kind, self.token, next(iter(self.wallets), ""), self.side or "", self.fired_at)
        return (self.kind, self.token, "", "", self.fired_at)

    @property
    def direction(self) -> str:
        return direction_of(self.kind, self.side)

    def wallet_addresses(self) -> list[str]:
        return sorted(self.wallets)

    def copy(self) -> Signal:
        return Signal(
            self.kind,
            self.token,
            self.fired_at,
            self.updated_at,
            self.side,
            dict(self.wallets),
            list(self.swap_ids),
            self.score,
            list(self.reasons),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SIGNALS_VERSION,
            "kind": self.kind,
            "token": self.token,
            "side": self.side,
            "fired_at": self.fired_at,
            "updated_at": self.updated_at,
            "wallets": [member.to_dict() for member in self.wallets.values()],
            "swap_ids": list(self.swap_ids),
            "score": self.score,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signal:
        members = [SignalWallet.from_dict(item) for item in data.get("wallets", ())]
        return cls(
            kind=data["kind"],
            token=data["token"],
            fired_at=data["fired_at"],
            updated_at=data.get("updated_at", data["fired_at"]),
            side=data.get("side"),
            wallets={member.wallet: member for member in members},
            swap_ids=list(data.get("swap_ids", ())),
            score=data.get("score", 0),
            reasons=list(data.get("reasons", ())),
        )


@dataclass(frozen=True, slots=True)
class SignalEvent:
    """`action` "fired" (a new signal) or "updated" (wallets joined it, or a big trade grew), and a
    snapshot of the whole signal after the change."""

    action: str
    signal: Signal

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "signal": self.signal.to_dict()}


def direction_of(kind: str, side: str | None = None) -> str:
    """Which way a signal says the price should go: "up" or "down"."""
    if kind == WHALE_DISTRIBUTION or (kind == BIG_TRADE and side == SELL):
        return DOWN
    if kind == BIG_TRADE and side != BUY:
        raise ValueError(f'a big trade needs its side ("buy" or "sell"), got {side!r}')
    if kind not in KINDS:
        raise ValueError(f"unknown signal kind {kind!r}")
    return UP


# --- Detector: whale clusters and big trades ------------------------------------------------------


class _TokenWindow:
    """The swaps of one token over its last window, and each wallet's net USD over them.

    `buyers`/`sellers`: the wallets whose net is > 0 / < 0, kept as swaps enter and leave, so a
    swap costs O(1) besides the swaps that fall out of the window.
    """

    __slots__ = ("swaps", "ids", "nets", "buyers", "sellers", "latest")

    def __init__(self) -> None:
        self.swaps: deque[Swap] = deque()
        self.ids: set[int | str] = set()
        self.nets: dict[str, Decimal] = {}
        self.buyers: set[str] = set()
        self.sellers: set[str] = set()
        self.latest = 0

    def load(self, swaps: list[Swap], window_seconds: int) -> None:
        """Fill an empty window at once from a token's swaps in time order (the context of a rebuild):
        the same state as taking them one by one, without the per-swap upkeep."""
        if not swaps:
            return
        self.latest = latest = swaps[-1].t
        start = latest - window_seconds
        nets = self.nets
        ids = self.ids
        for swap in swaps:
            if swap.t < start or swap.id in ids:
                continue
            ids.add(swap.id)
            self.swaps.append(swap)
            wallet = swap.wallet
            nets[wallet] = _EXACT.add(nets.get(wallet, ZERO), swap.usd if swap.side == BUY else -swap.usd)
        for wallet, net in list(nets.items()):
            if net > 0:
                self.buyers.add(wallet)
            elif net < 0:
                self.sellers.add(wallet)
            else:
                del nets[wallet]

    def take(self, swap: Swap, window_seconds: int) -> None:
        """Add a swap. One at or after `latest` moves the window on; an earlier one (a late arrival)
        is slotted in by time and the window stays where it is."""
        if not self.swaps or swap.t >= self.latest:
            self.latest = swap.t
            self.swaps.append(swap)
            self._shift(swap, 1)
            start = swap.t - window_seconds
            swaps = self.swaps
            while swaps[0].t < start:
                self._shift(swaps.popleft(), -1)
        else:
            position = len(self.swaps)
            while position and self.swaps[position - 1].t > swap.t:
                position -= 1
            self.swaps.insert(position, swap)
            self._shift(swap, 1)

    def _shift(self, swap: Swap, sign: int) -> None:
        wallet = swap.wallet
        if sign > 0:
            self.ids.add(swap.id)
        else:
            self.ids.discard(swap.id)
        delta = swap.usd if (swap.side == BUY) == (sign > 0) else -swap.usd
        net = _EXACT.add(self.nets.get(wallet, ZERO), delta)
        if net > 0:
            self.nets[wallet] = net
            self.buyers.add(wallet)
            self.sellers.discard(wallet)
        elif net < 0:
            self.nets[wallet] = net
            self.sellers.add(wallet)
            self.buyers.discard(wallet)
        else:
            self.nets.pop(wallet, None)
            self.buyers.discard(wallet)
            self.sellers.discard(wallet)


@dataclass(frozen=True, slots=True)
class ContextBounds:
    """What the app loads to resume a `Detector` for a batch whose earliest swap is at `start`.

    Swaps of the batch's tokens with t ≥ `swaps_since` (not those of the batch itself), cluster
    signals fired at or after `clusters_fired_since`, big trades fired at or after `big_trades_fired_since`.
    """

    swaps_since: int
    clusters_fired_since: int
    big_trades_fired_since: int


def context_bounds(batch: Iterable[Swap], params: Parameters = DEFAULT_PARAMETERS) -> ContextBounds | None:
    """The context a batch needs (see `Detector`); None for an empty batch."""
    start = min((swap.t for swap in batch), default=None)
    if start is None:
        return None
    return ContextBounds(
        start - params.window_seconds,
        start - params.cooldown_seconds + 1,
        start - params.big_trade_growth_seconds,
    )


class Detector:
    """Whale-cluster and big-trade signals from a stream of swaps (SIGNALS.md §2–§4).

    Build it empty and feed it every swap (one long-lived detector), or rebuild it for each batch
    from what the database holds, which is how the app uses it from its worker:

        bounds = context_bounds(batch, params)
        detector = Detector(params, active=<signals of the batch's tokens fired since the bounds>,
                            recent_swaps=<swaps of those tokens since bounds.swaps_since, batch excluded>)
        events = detector.process(batch, wallets=<WalletStats of the batch's wallets>)

    `recent_swaps` are context: they fill the windows and are not judged again. `process` judges
    each swap once, in time order (ties in the given order), and returns what fired or was updated.
    A swap whose id the detector already holds is a duplicate and changes nothing; a swap more than
    a window older than the latest swap taken (`clock`) is history and is ignored. Signals of the
    market kinds are ignored here (see `settle`).

    The state is bounded: each token's window holds its swaps of the last `window_seconds` and is
    dropped once the clock is two windows past its latest swap; a signal is dropped once nothing
    that can still arrive could join it or grow it.
    """

    def __init__(
        self,
        params: Parameters = DEFAULT_PARAMETERS,
        *,
        active: Iterable[Signal] = (),
        recent_swaps: Iterable[Swap] = (),
        clock: int | None = None,
    ) -> None:
        self.params = params
        self.clock: int | None = None  # the latest swap time taken; set after the context is in
        self._windows: OrderedDict[str, _TokenWindow] = OrderedDict()  # least recently touched first
        self._clusters: dict[tuple[str, str], Signal] = {}  # (token, kind) → the active cluster signal
        self._tallies: dict[tuple[str, str], _ClusterTally] = {}  # made at a cluster's first change here
        self._big_trades: dict[tuple[str, str, str], Signal] = {}  # (token, wallet, side) → active big trade
        self._expiries: list[tuple[int, int, str, tuple[str, ...]]] = []  # heap: (drop at, seq, table, key)
        self._sequence = 0
        for signal in active:
            self._hold(signal.copy())  # the caller's objects are never changed
        by_token: dict[str, list[Swap]] = {}
        for swap in sorted(recent_swaps, key=_swap_time):
            by_token.setdefault(swap.token, []).append(swap)
        for token, swaps in sorted(by_token.items(), key=lambda item: item[1][-1].t):
            self._windows[token] = window = _TokenWindow()
            window.load(swaps, params.window_seconds)
            if self.clock is None or window.latest > self.clock:
                self.clock = window.latest
        if clock is not None and (self.clock is None or clock > self.clock):
            self.clock = clock
        self._prune()

    # --- Feeding ---

    def process(self, swaps: Iterable[Swap], wallets: Mapping[str, WalletStats] | None = None) -> list[SignalEvent]:
        """Judge `swaps` in time order (ties in the given order); the events in the order they happened.

        `wallets`: the record (win rate, cycles) of the swaps' wallets now, for the reasons; a wallet
        missing from it is shown as unknown.
        """
        events: list[SignalEvent] = []
        for swap in sorted(swaps, key=_swap_time):
            events += self.process_swap(swap, wallets)
        return events

    def process_swap(self, swap: Swap, wallets: Mapping[str, WalletStats] | None = None) -> list[SignalEvent]:
        """Judge one swap: at most one event per kind (accumulation, distribution, big trade, in that order)."""
        if not self._take(swap):
            return []
        stats = wallets if wallets is not None else {}
        window = self._windows[swap.token]
        events: list[SignalEvent] = []
        if len(window.buyers) >= self.params.min_wallets:
            self._judge_cluster(WHALE_ACCUMULATION, swap.token, window, window.buyers, stats, events)
        if len(window.sellers) >= self.params.min_wallets:
            self._judge_cluster(WHALE_DISTRIBUTION, swap.token, window, window.sellers, stats, events)
        if swap.usd >= self.params.big_trade_usd:
            self._judge_big_trade(swap, stats, events)
        self._prune()
        return events

    # --- State ---

    def active_signals(self) -> list[Signal]:
        """Snapshots of the signals the detector still holds (may still be joined or grown), by firing time."""
        held = [*self._clusters.values(), *self._big_trades.values()]
        return [signal.copy() for signal in sorted(held, key=lambda signal: signal.fired_at)]

    def recent_swaps(self) -> list[Swap]:
        return [swap for window in self._windows.values() for swap in window.swaps]

    def held_swap_count(self) -> int:
        return sum(len(window.swaps) for window in self._windows.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready state; `Detector.from_dict(state, params)` resumes exactly here."""
        return {
            "version": SIGNALS_VERSION,
            "clock": self.clock,
            "active": [signal.to_dict() for signal in self.active_signals()],
            "swaps": [swap.to_dict() for swap in self.recent_swaps()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], params: Parameters = DEFAULT_PARAMETERS) -> Detector:
        if data.get("version") != SIGNALS_VERSION:
            raise ValueError(f"detector state is version {data.get('version')!r}, this is {SIGNALS_VERSION}")
        return cls(
            params,
            active=[Signal.from_dict(item) for item in data["active"]],
            recent_swaps=[Swap.from_dict(item) for item in data["swaps"]],
            clock=data["clock"],
        )

    # --- Internals ---

    def _take(self, swap: Swap) -> bool:
        """Put a swap in its token's window; False when it is a duplicate or history."""
        window_seconds = self.params.window_seconds
        clock = self.clock
        if clock is not None and swap.t < clock - window_seconds:
            return False
        window = self._windows.get(swap.token)
        if window is None:
            window = self._windows[swap.token] = _TokenWindow()
        elif swap.id in window.ids:
            return False
        else:
            self._windows.move_to_end(swap.token)
        window.take(swap, window_seconds)
        if clock is None or swap.t > clock:
            self.clock = swap.t
        return True

    def _judge_cluster(
        self,
        kind: str,
        token: str,
        window: _TokenWindow,
        members: set[str],
        stats: Mapping[str, WalletStats],
        events: list[SignalEvent],
    ) -> None:
        now = window.latest
        active = self._clusters.get((token, kind))
        if active is not None and now < active.fired_at + self.params.cooldown_seconds:
            if now < active.fired_at:
                return  # context older than the signal the app handed in: it is already counted
            joining = sorted(members.difference(active.wallets))
            if not joining:
                return
            key = (token, kind)
            tally = self._tallies.get(key)
            if tally is None:
                tally = self._tallies[key] = _ClusterTally.of(active, self.params, reuse_reasons=True)
            tally.add(self._enter(active, joining, window, now, stats), self.params)
            active.updated_at = now
            active.score, active.reasons = _cluster_verdict(active, tally, self.params)
            events.append(SignalEvent(UPDATED, active.copy()))
            return
        signal = Signal(kind, token, now, now, BUY if kind == WHALE_ACCUMULATION else SELL)
        tally = _ClusterTally()
        tally.add(self._enter(signal, sorted(members), window, now, stats), self.params)
        signal.score, signal.reasons = _cluster_verdict(signal, tally, self.params)
        self._hold(signal)
        self._tallies[(token, kind)] = tally
        events.append(SignalEvent(FIRED, signal.copy()))

    @staticmethod
    def _enter(
        signal: Signal, wallets: list[str], window: _TokenWindow, now: int, stats: Mapping[str, WalletStats]
    ) -> list[SignalWallet]:
        entered = []
        for wallet in wallets:
            record = stats.get(wallet, UNKNOWN_WALLET)
            member = SignalWallet(wallet, now, window.nets[wallet], record.win_rate, record.cycles)
            signal.wallets[wallet] = member
            entered.append(member)
        return entered

    def _judge_big_trade(self, swap: Swap, stats: Mapping[str, WalletStats], events: list[SignalEvent]) -> None:
        key = (swap.token, swap.wallet, swap.side)
        active = self._big_trades.get(key)
        if active is not None and abs(swap.t - active.fired_at) <= self.params.big_trade_growth_seconds:
            if swap.id in active.swap_ids:
                return
            member = active.wallets[swap.wallet]
            active.wallets[swap.wallet] = replace(member, usd=_EXACT.add(member.usd, swap.usd))
            active.swap_ids.append(swap.id)
            active.updated_at = max(active.updated_at, swap.t)
            active.score, active.reasons = big_trade_score(active, self.params)
            events.append(SignalEvent(UPDATED, active.copy()))
            return
        record = stats.get(swap.wallet, UNKNOWN_WALLET)
        member = SignalWallet(swap.wallet, swap.t, swap.usd, record.win_rate, record.cycles)
        signal = Signal(BIG_TRADE, swap.token, swap.t, swap.t, swap.side, {swap.wallet: member}, [swap.id])
        signal.score, signal.reasons = big_trade_score(signal, self.params)
        self._hold(signal)
        events.append(SignalEvent(FIRED, signal.copy()))

    def _hold(self, signal: Signal) -> None:
        """Keep an active signal until no swap that can still arrive could change it."""
        if signal.kind == BIG_TRADE:
            key: tuple[str, ...] = (signal.token, next(iter(signal.wallets)), signal.side or "")
            table, held = "big", self._big_trades
        elif signal.kind in (WHALE_ACCUMULATION, WHALE_DISTRIBUTION):
            key = (signal.token, signal.kind)
            table, held = "cluster", self._clusters
        else:
            return
        current = held.get(key)  # type: ignore[call-overload]
        if current is not None and current.fired_at > signal.fired_at:
            return
        held[key] = signal  # type: ignore[index]
        self._tallies.pop(key, None)  # type: ignore[arg-type]
        self._sequence += 1
        heapq.heappush(self._expiries, (_drop_time(signal, self.params), self._sequence, table, key))

    def _prune(self) -> None:
        clock = self.clock
        if clock is None:
            return
        stale_before = clock - 2 * self.params.window_seconds
        windows = self._windows
        while windows:
            token, window = next(iter(windows.items()))
            if window.latest >= stale_before:
                break
            del windows[token]
        expiries = self._expiries
        while expiries and expiries[0][0] <= clock:
            drop_at, _, table, key = heapq.heappop(expiries)
            held: dict = self._big_trades if table == "big" else self._clusters
            signal = held.get(key)
            if signal is not None and _drop_time(signal, self.params) == drop_at:
                del held[key]
                self._tallies.pop(key, None)


def _drop_time(signal: Signal, params: Parameters) -> int:
    """When the clock has reached this, every swap still taken is at or after clock − window, which
    is past the end of the signal's cooldown (cluster) or growth window (big trade)."""
    if signal.kind == BIG_TRADE:
        return signal.fired_at + params.big_trade_growth_seconds + params.window_seconds + 1
    return signal.fired_at + params.cooldown_seconds + params.window_seconds


def _swap_time(swap: Swap) -> int:
    return swap.t


# --- Scores of the swap kinds ---------------------------------------------------------------------


class _ClusterTally:
    """Running sums of a cluster signal's wallets, so a join costs what joins, not the whole signal.

    `wallet_reasons` are the signal's `wallet` reasons in order; they never change once made, so
    successive snapshots share them.
    """

    __slots__ = ("net", "flow", "quality", "wallet_reasons")

    def __init__(self) -> None:
        self.net = ZERO
        self.flow = ZERO
        self.quality = ZERO
        self.wallet_reasons: list[dict[str, Any]] = []

    @classmethod
    def of(cls, signal: Signal, params: Parameters, reuse_reasons: bool = False) -> _ClusterTally:
        """The tally of a signal's wallets; with `reuse_reasons` (a signal handed in from storage), the
        sums and wallet reasons its reasons already hold are taken as they are when they have the v1
        layout, so resuming a signal of hundreds of wallets costs little."""
        tally = cls()
        members = list(signal.wallets.values())
        count, reasons = len(members), signal.reasons
        if (
            reuse_reasons
            and len(reasons) == count + 4
            and reasons[0].get("reason") == "cluster"
            and reasons[0].get("wallets") == count
            and reasons[count + 2].get("component") == "net_usd"
        ):
            # The v1 layout (§4): the sums are in the reasons; only the quality sum is worked out again.
            tally.net = Decimal(reasons[0]["net_usd"])
            tally.flow = Decimal(reasons[count + 2]["value"])
            min_cycles = params.min_cycles_for_quality
            for member in members:
                if member.win_rate is not None and member.cycles is not None and member.cycles >= min_cycles:
                    tally.quality = _EXACT.add(tally.quality, member.win_rate)
            tally.wallet_reasons = reasons[1 : count + 1]
        else:
            tally.add(members, params)
        return tally

    def add(self, members: Iterable[SignalWallet], params: Parameters) -> None:
        min_cycles = params.min_cycles_for_quality
        for member in members:
            self.net = _EXACT.add(self.net, member.usd)
            self.flow = _EXACT.add(self.flow, abs(member.usd))
            self.quality = _EXACT.add(self.quality, _quality(member.win_rate, member.cycles, min_cycles))
            self.wallet_reasons.append(_wallet_reason(member, "net_usd"))


def cluster_score(signal: Signal, params: Parameters = DEFAULT_PARAMETERS) -> tuple[int, list[dict[str, Any]]]:
    """Score and reasons of a whale-accumulation or whale-distribution signal (SIGNALS.md §2).

    wallets: 10 points a wallet, at most 50 · net USD (Σ |net| of its wallets): 5/10/15/20 points from
    $1k/$10k/$50k/$100k · wallet quality: 30 × the mean over its wallets of their win rate, counted
    only for wallets with at least `min_cycles_for_quality` rated cycles (0 for the others).
    """
    return _cluster_verdict(signal, _ClusterTally.of(signal, params), params)


def _cluster_verdict(signal: Signal, tally: _ClusterTally, params: Parameters) -> tuple[int, list[dict[str, Any]]]:
    count = len(tally.wallet_reasons)
    mean_quality = _RATIOS.divide(tally.quality, Decimal(count)) if count else ZERO
    wallet_points = min(CLUSTER_WALLET_POINTS_MAX, CLUSTER_WALLET_POINTS_EACH * count)
    flow_points = _tier_points(tally.flow, CLUSTER_NET_USD_POINTS)
    quality_points = _round_points(CLUSTER_QUALITY_POINTS_MAX * mean_quality)
    reasons: list[dict[str, Any]] = [
        {
            "reason": "cluster",
            "side": signal.side,
            "wallets": count,
            "min_wallets": params.min_wallets,
            "window_seconds": params.window_seconds,
            "cooldown_seconds": params.cooldown_seconds,
            "net_usd": decimal_text(tally.net),
        },
        *tally.wallet_reasons,
        _score_reason("wallets", count, wallet_points, CLUSTER_WALLET_POINTS_MAX),
        _score_reason("net_usd", decimal_text(tally.flow), flow_points, CLUSTER_NET_USD_POINTS[-1][1]),
        _score_reason(
            "wallet_quality",
            _shown(mean_quality),
            quality_points,
            CLUSTER_QUALITY_POINTS_MAX,
            min_cycles=params.min_cycles_for_quality,
        ),
    ]
    return wallet_points + flow_points + quality_points, reasons


def big_trade_score(signal: Signal, params: Parameters = DEFAULT_PARAMETERS) -> tuple[int, list[dict[str, Any]]]:
    """Score and reasons of a big trade (SIGNALS.md §3).

    size: 40/50/60/70/80 points at 1×/2.5×/5×/10×/25× the threshold (its total USD, growth included) ·
    wallet quality: 20 × the wallet's win rate, counted only with `min_cycles_for_quality` rated cycles.
    """
    member = next(iter(signal.wallets.values()))
    multiple = _RATIOS.divide(member.usd, params.big_trade_usd) if params.big_trade_usd else Decimal(25)
    size_points = _tier_points(multiple, BIG_TRADE_SIZE_POINTS)
    quality = _quality(member.win_rate, member.cycles, params.min_cycles_for_quality)
    quality_points = _round_points(BIG_TRADE_QUALITY_POINTS_MAX * quality)
    reasons: list[dict[str, Any]] = [
        {
            "reason": "big_trade",
            "side": signal.side,
            "usd": decimal_text(member.usd),
            "swaps": len(signal.swap_ids),
            "threshold_usd": decimal_text(params.big_trade_usd),
            "growth_window_seconds": params.big_trade_growth_seconds,
            "last_at": signal.updated_at,
        },
        _wallet_reason(member, "usd"),
        _score_reason("size", _shown(multiple), size_points, BIG_TRADE_SIZE_POINTS[-1][1], unit="x_threshold"),
        _score_reason(
            "wallet_quality",
            _shown(quality),
            quality_points,
            BIG_TRADE_QUALITY_POINTS_MAX,
            min_cycles=params.min_cycles_for_quality,
        ),
    ]
    return size_points + quality_points, reasons


def _quality(win_rate: Decimal | None, cycles: int | None, min_cycles: int) -> Decimal:
    """A wallet's win rate when it rests on at least `min_cycles` rated cycles, else 0: an unproven
    wallet adds nothing to a score."""
    if win_rate is None or cycles is None or cycles < min_cycles:
        return ZERO
    return win_rate


def _wallet_reason(member: SignalWallet, amount_name: str) -> dict[str, Any]:
    return {
        "reason": "wallet",
        "wallet": member.wallet,
        amount_name: decimal_text(member.usd),
        "joined_at": member.joined_at,
        "win_rate": None if member.win_rate is None else decimal_text(member.win_rate),
        "cycles": member.cycles,
    }


def _score_reason(component: str, value: Any, points: int, max_points: int, **extra: Any) -> dict[str, Any]:
    return {
        "reason": "score",
        "component": component,
        "value": value,
        "points": points,
        "max_points": max_points,
        **extra,
    }


# --- Market kinds: momentum and new listings ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observed:
    """One input and how old it is (seconds since the provider measured it, as of the assessment)."""

    value: Any
    age_seconds: int

    def __post_init__(self) -> None:
        if type(self.age_seconds) is not int or self.age_seconds < 0:
            raise ValueError(f"age_seconds must be an integer ≥ 0, got {self.age_seconds!r}")


@dataclass(frozen=True, slots=True)
class MarketInputs:
    """A token's market data for `score_momentum`; None = not available. Values are Decimals.

    Price changes and holder growth are percents (Birdeye's `priceChange1hPercent`: 12.5 = +12.5 %);
    volumes, liquidity and the tracked wallets' net flow (buys − sells over the last hour) in USD.
    """

    token: str
    at: int
    price_change_1h_percent: Observed | None = None
    price_change_24h_percent: Observed | None = None
    volume_1h_usd: Observed | None = None
    volume_24h_usd: Observed | None = None
    liquidity_usd: Observed | None = None
    holder_growth_24h_percent: Observed | None = None
    tracked_net_flow_usd: Observed | None = None


@dataclass(frozen=True, slots=True)
class Promotion:
    """A DexScreener boost: paid promotion, shown in the reasons, worth no points."""

    amount: Decimal
    total_amount: Decimal
    age_seconds: int


@dataclass(frozen=True, slots=True)
class TokenSecurity:
    """Safety inputs of a token; None = unknown (the check fails).

    `mint_authority`/`freeze_authority`: Observed(address) while one exists, Observed(None) when
    renounced. `top10_holder_share`: of the supply, 0–1 (Birdeye's `top10HolderPercent` is this
    fraction despite its name).
    """

    mint_authority: Observed | None = None
    freeze_authority: Observed | None = None
    top10_holder_share: Observed | None = None
    liquidity_usd: Observed | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """A market kind's verdict on a token at `at`: `publish` says whether it makes a signal."""

    kind: str
    token: str
    at: int
    publish: bool
    score: int
    reasons: list[dict[str, Any]]

    def signal(self) -> Signal | None:
        """The signal to publish, or None."""
        if not self.publish:
            return None
        return Signal(self.kind, self.token, self.at, self.at, None, {}, [], self.score, list(self.reasons))


def score_momentum(
    inputs: MarketInputs, params: Parameters = DEFAULT_PARAMETERS, promotion: Promotion | None = None
) -> Assessment:
    """Momentum 0–100 from six components (SIGNALS.md §5); published at ≥ `momentum_publish_score`.

    A missing input, or one older than `momentum_max_input_age_seconds`, scores 0 and says so.
    """
    max_age = params.momentum_max_input_age_seconds
    reasons: list[dict[str, Any]] = []

    def component(name: str, observed: Observed | None, max_points: int, points_of: Any, unit: str) -> int:
        status = _input_status(observed, max_age)
        points = points_of(observed.value) if observed is not None and status == "ok" else 0
        reasons.append(
            _score_reason(
                name,
                None if observed is None else decimal_text(observed.value),
                points,
                max_points,
                unit=unit,
                age_seconds=None if observed is None else observed.age_seconds,
                status=status,
            )
        )
        return points

    total = component(
        "price_change_1h",
        inputs.price_change_1h_percent,
        MOMENTUM_PRICE_1H_MAX,
        lambda value: _linear_points(value, MOMENTUM_PRICE_1H_FULL_PERCENT, MOMENTUM_PRICE_1H_MAX),
        "percent",
    )
    total += component(
        "price_change_24h",
        inputs.price_change_24h_percent,
        MOMENTUM_PRICE_24H_MAX,
        lambda value: _linear_points(value, MOMENTUM_PRICE_24H_FULL_PERCENT, MOMENTUM_PRICE_24H_MAX),
        "percent",
    )
    total += _volume_acceleration(inputs, max_age, reasons)
    total += component(
        "liquidity",
        inputs.liquidity_usd,
        MOMENTUM_LIQUIDITY_POINTS[-1][1],
        lambda value: _tier_points(value, MOMENTUM_LIQUIDITY_POINTS),
        "usd",
    )
    total += component(
        "holder_growth_24h",
        inputs.holder_growth_24h_percent,
        MOMENTUM_HOLDERS_MAX,
        lambda value: _linear_points(value, MOMENTUM_HOLDERS_FULL_PERCENT, MOMENTUM_HOLDERS_MAX),
        "percent",
    )
    total += component(
        "tracked_net_flow",
        inputs.tracked_net_flow_usd,
        MOMENTUM_NET_FLOW_POINTS[-1][1],
        lambda value: _tier_points(value, MOMENTUM_NET_FLOW_POINTS),
        "usd",
    )
    reasons.append(
        {"reason": "threshold", "publish_score": params.momentum_publish_score, "max_input_age_seconds": max_age}
    )
    if promotion is not None:
        reasons.append(_promotion_reason(promotion))
    return Assessment(MOMENTUM, inputs.token, inputs.at, total >= params.momentum_publish_score, total, reasons)


def _volume_acceleration(inputs: MarketInputs, max_age: int, reasons: list[dict[str, Any]]) -> int:
    """20 × clamp((v1h ÷ (v24h ÷ 24) − 1) ÷ 3, 0, 1): nothing at the day's hourly average, full at 4×."""
    last_hour, last_day = inputs.volume_1h_usd, inputs.volume_24h_usd
    if last_hour is None or last_day is None:
        status, age, ratio = "missing", None, None
    else:
        age = max(last_hour.age_seconds, last_day.age_seconds)
        status = "stale" if age > max_age else "ok"
        hourly = _RATIOS.divide(last_day.value, Decimal(24))
        ratio = _RATIOS.divide(last_hour.value, hourly) if hourly > 0 else ZERO
    points = 0
    if status == "ok" and ratio is not None:
        points = _linear_points(ratio - 1, MOMENTUM_VOLUME_FULL_RATIO - 1, MOMENTUM_VOLUME_MAX)
    reasons.append(
        _score_reason(
            "volume_acceleration",
            None if ratio is None else _shown(ratio),
            points,
            MOMENTUM_VOLUME_MAX,
            unit="x_hourly_average",
            volume_1h_usd=None if last_hour is None else decimal_text(last_hour.value),
            volume_24h_usd=None if last_day is None else decimal_text(last_day.value),
            age_seconds=age,
            status=status,
        )
    )
    return points


def check_safety(security: TokenSecurity, params: Parameters = DEFAULT_PARAMETERS) -> tuple[bool, list[dict[str, Any]]]:
    """(passed, one result per check): no mint authority, no freeze authority, top-10 holders' share
    ≤ `safety_max_top10_share`, liquidity ≥ `safety_min_liquidity_usd`. Unknown or older than
    `safety_max_input_age_seconds` fails: a token is kept only when it is known to be safe."""
    max_age = params.safety_max_input_age_seconds
    checks = []
    for name, observed, rule, threshold in (
        ("mint_authority", security.mint_authority, "absent", None),
        ("freeze_authority", security.freeze_authority, "absent", None),
        ("top10_holder_share", security.top10_holder_share, "at_most", params.safety_max_top10_share),
        ("liquidity", security.liquidity_usd, "at_least", params.safety_min_liquidity_usd),
    ):
        status = _input_status(observed, max_age)
        value = None if observed is None else observed.value
        if status != "ok" or observed is None:
            passed = False
        elif rule == "absent":
            passed = value is None
        elif value is None:
            passed = False
        else:
            passed = value <= threshold if rule == "at_most" else value >= threshold
        checks.append(
            {
                "reason": "safety",
                "check": name,
                "passed": passed,
                "value": value if value is None or isinstance(value, str) else decimal_text(value),
                "rule": rule,
                "threshold": None if threshold is None else decimal_text(threshold),
                "age_seconds": None if observed is None else observed.age_seconds,
                "status": status,
            }
        )
    return all(check["passed"] for check in checks), checks


def assess_new_listing(
    token: str,
    listed_at: int,
    at: int,
    security: TokenSecurity,
    params: Parameters = DEFAULT_PARAMETERS,
    *,
    source: str = "birdeye_new_listing",
    promotion: Promotion | None = None,
) -> Assessment:
    """A new listing is published only when every safety check passes (SIGNALS.md §6).

    Score of a published one: 40 for passing · liquidity 10/20/30 at 1×/5×/25× the floor · holder
    spread 30 × (1 − top-10 share ÷ the maximum share). A boost is listed as paid promotion, 0 points.
    A failed listing has score 0 and keeps its check results (for the token page).
    """
    passed, checks = check_safety(security, params)
    reasons: list[dict[str, Any]] = [
        {"reason": "listing", "source": source, "listed_at": listed_at, "age_seconds": at - listed_at},
        *checks,
    ]
    score = 0
    if passed:
        assert security.liquidity_usd is not None and security.top10_holder_share is not None
        floor = params.safety_min_liquidity_usd
        multiple = _RATIOS.divide(security.liquidity_usd.value, floor) if floor else Decimal(25)
        liquidity_points = _tier_points(multiple, LISTING_LIQUIDITY_POINTS)
        share, most = security.top10_holder_share.value, params.safety_max_top10_share
        spread = _RATIOS.subtract(_ONE, _RATIOS.divide(share, most)) if most else ZERO
        spread_points = _linear_points(spread, _ONE, LISTING_SPREAD_POINTS_MAX)
        score = LISTING_SAFETY_POINTS + liquidity_points + spread_points
        reasons += [
            _score_reason("safety", "passed", LISTING_SAFETY_POINTS, LISTING_SAFETY_POINTS),
            _score_reason(
                "liquidity", _shown(multiple), liquidity_points, LISTING_LIQUIDITY_POINTS[-1][1], unit="x_floor"
            ),
            _score_reason("holder_spread", _shown(spread), spread_points, LISTING_SPREAD_POINTS_MAX),
        ]
    if promotion is not None:
        reasons.append(_promotion_reason(promotion))
    return Assessment(NEW_LISTING, token, at, passed, score, reasons)


def settle(active: Signal | None, candidate: Signal, params: Parameters = DEFAULT_PARAMETERS) -> SignalEvent | None:
    """One active signal per (token, kind) for the market kinds.

    No active signal, or `candidate` at least `cooldown_seconds` after it fired: "fired". Within the
    cooldown, a different score updates the active one (score and reasons replaced, `fired_at`
    kept): "updated". The same score, or older evidence: None.
    """
    if active is None or candidate.fired_at >= active.fired_at + params.cooldown_seconds:
        return SignalEvent(FIRED, candidate.copy())
    if candidate.fired_at < active.updated_at or candidate.score == active.score:
        return None
    updated = active.copy()
    updated.score, updated.reasons, updated.updated_at = candidate.score, list(candidate.reasons), candidate.fired_at
    return SignalEvent(UPDATED, updated)


def _promotion_reason(promotion: Promotion) -> dict[str, Any]:
    return {
        "reason": "paid_promotion",
        "source": "dexscreener_boost",
        "amount": decimal_text(promotion.amount),
        "total_amount": decimal_text(promotion.total_amount),
        "age_seconds": promotion.age_seconds,
        "points": 0,
    }


def _input_status(observed: Observed | None, max_age: int) -> str:
    if observed is None:
        return "missing"
    return "stale" if observed.age_seconds > max_age else "ok"


# --- Outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the price did after a signal (SIGNALS.md §7). None: not known (yet).

    `return_*`: price return (price ÷ price at firing − 1). `signal_return_*`: the same signed the
    signalled way (a 10 % fall after a distribution signal is +0.1). `max_drawdown`: the largest fall
    from a running peak (starting at the firing price) over the prices up to +24 h, 0–1.
    """

    kind: str
    direction: str
    fired_at: int
    price_at_firing: Decimal
    price_1h: Decimal | None
    price_24h: Decimal | None
    return_1h: Decimal | None
    return_24h: Decimal | None
    max_drawdown: Decimal | None
    hit_1h: bool | None
    hit_24h: bool | None

    @property
    def signal_return_1h(self) -> Decimal | None:
        return _signed(self.return_1h, self.direction)

    @property
    def signal_return_24h(self) -> Decimal | None:
        return _signed(self.return_24h, self.direction)

    def to_dict(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else decimal_text(value)

        return {
            "kind": self.kind,
            "direction": self.direction,
            "fired_at": self.fired_at,
            "price_at_firing": text(self.price_at_firing),
            "price_1h": text(self.price_1h),
            "price_24h": text(self.price_24h),
            "return_1h": text(self.return_1h),
            "return_24h": text(self.return_24h),
            "max_drawdown": text(self.max_drawdown),
            "hit_1h": self.hit_1h,
            "hit_24h": self.hit_24h,
        }


def outcome(
    kind: str,
    fired_at: int,
    price_at_firing: Decimal,
    prices: Iterable[tuple[int, Decimal]],
    *,
    side: str | None = None,
    params: Parameters = DEFAULT_PARAMETERS,
) -> Outcome:
    """Price at +1 h and +24 h, returns, max drawdown and hits of one signal.

    `prices`: (t, price) pairs, any order. The price at a mark is the last one at or before it, and
    no more than `outcome_price_gap_seconds` before it; otherwise it is None (not known yet, or a
    gap). A hit is a return of at least `hit_threshold` the signalled way (up, or down for
    distribution and big sells).
    """
    if not isinstance(price_at_firing, Decimal) or not price_at_firing.is_finite() or price_at_firing <= 0:
        raise ValueError(f"price at firing must be a positive finite Decimal, got {price_at_firing!r}")
    direction = direction_of(kind, side)
    path = sorted((t, price) for t, price in prices if fired_at <= t <= fired_at + DAY)
    price_1h = _price_at(path, fired_at + HOUR, params.outcome_price_gap_seconds)
    price_24h = _price_at(path, fired_at + DAY, params.outcome_price_gap_seconds)
    return_1h, return_24h = _return(price_1h, price_at_firing), _return(price_24h, price_at_firing)
    return Outcome(
        kind,
        direction,
        fired_at,
        price_at_firing,
        price_1h,
        price_24h,
        return_1h,
        return_24h,
        _max_drawdown(price_at_firing, [price for t, price in path if t > fired_at]),
        _hit(return_1h, direction, params.hit_threshold),
        _hit(return_24h, direction, params.hit_threshold),
    )


def _price_at(path: list[tuple[int, Decimal]], mark: int, gap: int) -> Decimal | None:
    found = None
    for t, price in path:
        if t > mark:
            break
        found = (t, price)
    if found is None or mark - found[0] > gap:
        return None
    return found[1]


def _return(price: Decimal | None, start: Decimal) -> Decimal | None:
    return None if price is None else _RATIOS.subtract(_RATIOS.divide(price, start), _ONE)


def _max_drawdown(start: Decimal, later: list[Decimal]) -> Decimal | None:
    if not later:
        return None
    peak, worst = start, ZERO
    for price in later:
        if price > peak:
            peak = price
        elif peak > 0:
            worst = max(worst, _RATIOS.divide(peak - price, peak))
    return worst


def _hit(value: Decimal | None, direction: str, threshold: Decimal) -> bool | None:
    if value is None:
        return None
    return value >= threshold if direction == UP else value <= -threshold


def _signed(value: Decimal | None, direction: str) -> Decimal | None:
    if value is None:
        return None
    return value if direction == UP else -value


@dataclass(frozen=True, slots=True)
class KindScore:
    """How one kind of signal did: hit rates at +1 h and +24 h (with n and Wilson 95 %) and the
    median return the signalled way, over the outcomes that have a price at that mark."""

    kind: str
    signals: int
    hits_1h: WinRate
    hits_24h: WinRate
    median_return_1h: Decimal | None
    median_return_24h: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        def rate(value: WinRate) -> dict[str, Any]:
            return {
                "hits": value.wins,
                "n": value.n,
                "rate": _text(value.rate),
                "low": _text(value.low),
                "high": _text(value.high),
            }

        return {
            "kind": self.kind,
            "signals": self.signals,
            "hits_1h": rate(self.hits_1h),
            "hits_24h": rate(self.hits_24h),
            "median_return_1h": _text(self.median_return_1h),
            "median_return_24h": _text(self.median_return_24h),
        }


def scoreboard(outcomes: Iterable[Outcome], since: int | None = None, until: int | None = None) -> dict[str, KindScore]:
    """Per kind (every kind, in KINDS order), over the signals fired in since < fired_at ≤ until."""
    by_kind: dict[str, list[Outcome]] = {kind: [] for kind in KINDS}
    for item in outcomes:
        if (since is None or item.fired_at > since) and (until is None or item.fired_at <= until):
            by_kind[item.kind].append(item)
    board = {}
    for kind, items in by_kind.items():
        hits_1h = [item.hit_1h for item in items if item.hit_1h is not None]
        hits_24h = [item.hit_24h for item in items if item.hit_24h is not None]
        board[kind] = KindScore(
            kind,
            len(items),
            WinRate.of(sum(hits_1h), len(hits_1h)),
            WinRate.of(sum(hits_24h), len(hits_24h)),
            median([value for item in items if (value := item.signal_return_1h) is not None]),
            median([value for item in items if (value := item.signal_return_24h) is not None]),
        )
    return board


def median(values: list[Decimal]) -> Decimal | None:
    """The middle value, or the mean of the two middle ones; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return _RATIOS.divide(_RATIOS.add(ordered[middle - 1], ordered[middle]), Decimal(2))


# --- Numbers --------------------------------------------------------------------------------------


def decimal_text(value: Decimal | int) -> str:
    """`value` as a plain decimal string, no exponent, no trailing zeros: Decimal("1.50E+4") → "15000"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _shown(value: Decimal) -> str:
    """A ratio as shown in reasons: 4 decimal places (the points are worked out from the exact value)."""
    return decimal_text(value.quantize(_SHOWN_RATIO, rounding=ROUND_HALF_EVEN, context=_RATIOS))


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for value in values:
        total = _EXACT.add(total, value)
    return total


def _round_points(value: Decimal) -> int:
    """Points are whole: half up (12.5 → 13)."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP, context=_RATIOS))


def _linear_points(value: Decimal, full: Decimal, max_points: int) -> int:
    """max_points × clamp(value ÷ full, 0, 1), rounded half up."""
    share = min(_ONE, max(ZERO, _RATIOS.divide(value, full)))
    return _round_points(_RATIOS.multiply(Decimal(max_points), share))


def _tier_points(value: Decimal, tiers: tuple[tuple[Decimal, int], ...]) -> int:
    """The points of the highest tier whose threshold `value` reaches (0 below the first)."""
    points = 0
    for threshold, tier_points in tiers:
        if value >= threshold:
            points = tier_points
    return points
