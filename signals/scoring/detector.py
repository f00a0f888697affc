"""The `Detector`: whale-cluster and big-trade signals from a stream of swaps, with bounded state."""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from signals.scoring.big_trade import big_trade_score
from signals.scoring.clusters import _cluster_verdict, _ClusterTally
from signals.scoring.core import (
    BIG_TRADE,
    BUY,
    DEFAULT_PARAMETERS,
    FIRED,
    SELL,
    SIGNALS_VERSION,
    UNKNOWN_WALLET,
    UPDATED,
    WHALE_ACCUMULATION,
    WHALE_DISTRIBUTION,
    Parameters,
    Signal,
    SignalEvent,
    SignalWallet,
    Swap,
    WalletStats,
)
from signals.scoring.numbers import _EXACT, ZERO


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
