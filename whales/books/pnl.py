"""FIFO lots, realized and unrealized P&L, position cycles and win rates, as METRICS.md v1 defines them.

Pure: `Trade`s in, `TokenBook` state and events out, no Django. One `TokenBook` is the whole state of
one (wallet, token); applying a trade touches only that book, and `to_dict()`/`from_dict()` let the
app store a book between trades. A full `replay()` of the same trades in the same order gives the
same books and the same events, number for number, so the app may recompute from its stored trades
at any time (and must, when a trade arrives that sorts before the last one applied: `OutOfOrder`).

Arithmetic is `Decimal` and exact: sums, differences and products are computed without rounding.
The one rounding is the share of a cost (or of a sell's proceeds) that goes with part of a lot (or
with the matched part of an oversell), which is a quotient: it is cut to `SHARE_QUANTUM` (toward
zero) and the rest stays with the lot, so cost is never created or lost (Σ lot costs at purchase = Σ costs matched
by disposals + cost of the open lots, exactly).

A wallet is not a concept here: the app keeps one set of books per wallet (a `Ledger`, or its own
rows of `TokenBook.to_dict()`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Any, TypeVar

METRICS_VERSION = "v1"

BUY = "buy"
SELL = "sell"
TRANSFER_IN = "transfer_in"
TRANSFER_OUT = "transfer_out"
ACQUISITIONS = frozenset({BUY, TRANSFER_IN})
DISPOSALS = frozenset({SELL, TRANSFER_OUT})
SIDES = ACQUISITIONS | DISPOSALS

# A cycle closes when holdings fall to this fraction of the cycle's peak holdings (or to nothing).
DUST_FRACTION = Decimal("0.001")
MIN_CYCLES_TO_RANK = 5
DEAD_BAG_AGE_DAYS = 7
DEAD_BAG_LOSS = Decimal("-0.5")  # unrealized P&L / cost basis strictly below this is a dead bag
DAY = 86400
WINDOWS: dict[str, int | None] = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "all": None}
Z_95 = Decimal("1.96")

# Far below any quote unit (a lamport is 1E-9 SOL, a USDC unit 1E-6), far above float noise.
SHARE_QUANTUM = Decimal("1E-18")

ZERO = Decimal(0)
_ONE = Decimal(1)
# Sums, differences and products of trade numbers never reach 1,000 digits, so under this context
# they are exact. Nothing is divided under it (an inexact quotient would be worked out to 1,000
# digits); quotients go through _DIVISION and are then cut to SHARE_QUANTUM.
_EXACT = Context(
    prec=1000,
    rounding=ROUND_HALF_EVEN,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_DIVISION = Context(prec=40, rounding=ROUND_DOWN)
_RATES = Context(prec=28, rounding=ROUND_HALF_EVEN)

TradeKey = int | str  # the CLI's input index or the app's swap id; must survive JSON unchanged
Time = int | Decimal  # unix seconds
Position = tuple[Time, int, int]


# --- Machinery ------------------------------------------------------------------------------------

_Frozen = TypeVar("_Frozen", bound=type)


def _writes_slots_directly(cls: _Frozen) -> _Frozen:
    """Give a frozen slots dataclass an `__init__` that writes its slots through their descriptors.

    The `__init__` dataclasses generate for frozen classes sets each field through
    `object.__setattr__`, about 0.3 µs a field here, so building a trade and its events cost more
    than the FIFO matching itself (the budget for a replay is ~20 µs a trade, all in). Behaviour is
    unchanged: same signature and defaults, `__post_init__` still runs, assignment still raises
    FrozenInstanceError.
    """
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen slots dataclass")
    namespace: dict[str, Any] = {}
    arguments, body = [], []
    for item in fields(cls):
        if item.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{item.name} has a default factory")
        namespace[f"_set_{item.name}"] = getattr(cls, item.name).__set__
        if item.default is MISSING:
            arguments.append(item.name)
        else:
            namespace[f"_default_{item.name}"] = item.default
            arguments.append(f"{item.name}=_default_{item.name}")
        body.append(f"    _set_{item.name}(self, {item.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    exec(f"def __init__(self, {', '.join(arguments)}):\n" + "\n".join(body), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


class InvalidTrade(ValueError):
    """A `Trade` field is out of its domain (unknown side, amount ≤ 0, negative price or fee, NaN)."""


class OutOfOrder(ValueError):
    """The trade sorts before the last trade applied to the book; replay the book from scratch."""


# --- Input ----------------------------------------------------------------------------------------


@_writes_slots_directly
@dataclass(frozen=True, slots=True)
class Trade:
    """One change of a wallet's holdings of one token.

    `price` is quote (USD, or the CLI's quote) per token; for a `transfer_in` it is the market price
    at receipt, and for a `transfer_out` it is ignored. `fee` is in quote: on an acquisition it adds
    to the lot's cost, on a sell it comes off the proceeds, on a `transfer_out` it is ignored
    (moving tokens is not trading). `order` is the position inside the transaction (tiebreak).
    Raises InvalidTrade on construction when a field is out of its domain.
    """

    key: TradeKey
    time: Time
    side: str
    token: str
    amount: Decimal
    price: Decimal
    fee: Decimal
    order: int = 0

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise InvalidTrade(f"side must be one of {sorted(SIDES)}, got {self.side!r}")
        amount, price, fee = self.amount, self.price, self.fee
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise InvalidTrade(f"amount must be a positive finite Decimal, got {amount!r}")
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            raise InvalidTrade(f"price must be a finite Decimal ≥ 0, got {price!r}")
        if not isinstance(fee, Decimal) or not fee.is_finite() or fee < 0:
            raise InvalidTrade(f"fee must be a finite Decimal ≥ 0, got {fee!r}")
        time = self.time
        if not (type(time) is int or (isinstance(time, Decimal) and time.is_finite())):
            raise InvalidTrade(f"time must be an int or a finite Decimal, got {time!r}")


def sort_key(trade: Trade) -> Position:
    """Block time, then acquisitions before disposals at the same time, then position in the transaction.

    Equal keys are left in input order by a stable sort. The app should append its own tiebreak
    that follows arrival order (`(sort_key(t), t.key)` with increasing swap ids), so a full replay
    applies same-second trades in the order incremental application saw them.
    """
    return (trade.time, 0 if trade.side in ACQUISITIONS else 1, trade.order)


# --- Events ---------------------------------------------------------------------------------------


@_writes_slots_directly
@dataclass(frozen=True, slots=True)
class CycleOpened:
    """An acquisition lifted the token's holdings out of dust: a new position cycle begins."""

    token: str
    key: TradeKey
    time: Time


@_writes_slots_directly
@dataclass(frozen=True, slots=True)
class SellRealized:
    """A sell, matched FIFO against open lots.

    `amount` is the whole sell; `missing_amount` the part no lot covered. `proceeds` and
    `cost_basis` are those of the matched part only (the fee is shared pro rata between matched and
    missing parts), and `realized_pnl = proceeds - cost_basis`. `matched` lists (buy key, amount)
    per lot in FIFO order; its amounts add up to `amount - missing_amount`.
    """

    key: TradeKey
    token: str
    time: Time
    amount: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    realized_pnl: Decimal
    missing_amount: Decimal
    matched: tuple[tuple[TradeKey, Decimal], ...]

    @property
    def matched_amount(self) -> Decimal:
        """The part of the sell that lots covered (what the sell-level win rate rates)."""
        return _EXACT.subtract(self.amount, self.missing_amount)


@_writes_slots_directly
@dataclass(frozen=True, slots=True)
class TransferredOut:
    """Tokens left the wallet without a sale: lots removed FIFO at cost, nothing realized."""

    key: TradeKey
    token: str
    time: Time
    amount: Decimal
    cost_basis: Decimal
    missing_amount: Decimal
    matched: tuple[tuple[TradeKey, Decimal], ...]


@_writes_slots_directly
@dataclass(frozen=True, slots=True)
class CycleClosed:
    """A position cycle (round trip) ended: holdings fell back to dust.

    `realized_pnl` is the sum over the cycle's sells. `complete` is False when the cycle had an
    oversell or a transfer out: its P&L then does not describe the whole position, and win rates
    leave it out.
    """

    token: str
    opened_key: TradeKey
    closed_key: TradeKey
    opened_time: Time
    closed_time: Time
    realized_pnl: Decimal
    complete: bool


Event = CycleOpened | SellRealized | TransferredOut | CycleClosed


# --- State of one (wallet, token) -----------------------------------------------------------------


@dataclass(slots=True)
class Lot:
    """What is left of one acquisition: `amount` > 0 tokens that cost `cost` in total."""

    key: TradeKey
    amount: Decimal
    cost: Decimal
    time: Time
    transferred: bool = False  # came in by transfer: `cost` is the market value at receipt


@dataclass(slots=True)
class OpenCycle:
    """The position cycle in progress: largest holdings so far, P&L realized so far."""

    opened_key: TradeKey
    opened_time: Time
    peak: Decimal
    realized_pnl: Decimal = ZERO
    complete: bool = True


@dataclass(slots=True)
class TokenBook:
    """Everything the engine knows about one (wallet, token).

    `holdings` and `cost_basis` always equal the sums over `lots`. `realized_pnl` and
    `missing_amount` are lifetime totals; `incomplete` is set for good by the first disposal that
    exceeded holdings. `cycle` is None while the position is flat (or dust). `last_position` is the
    `sort_key` of the last trade applied (None before the first).
    """

    token: str
    dust_fraction: Decimal = DUST_FRACTION
    lots: deque[Lot] = field(default_factory=deque)
    holdings: Decimal = ZERO
    cost_basis: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    missing_amount: Decimal = ZERO
    incomplete: bool = False
    cycle: OpenCycle | None = None
    last_position: Position | None = None

    def __post_init__(self) -> None:
        _check_dust_fraction(self.dust_fraction)

    def apply(self, trade: Trade, *, check_order: bool = True) -> list[Event]:
        """Apply one trade of this token; return the events it caused, in order.

        Raises OutOfOrder (and changes nothing) when `check_order` is set and the trade sorts
        before the last one applied; ValueError when the trade is of another token. Never fails on
        a disposal larger than holdings: see `SellRealized.missing_amount`.
        """
        events: list[Event] = []
        with localcontext(_EXACT):
            self._apply(trade, check_order, events)
        return events

    def _apply(self, trade: Trade, check_order: bool, events: list[Event]) -> None:
        """`apply` under the exact context, appending to `events` (the replay's hot path)."""
        if trade.token != self.token:
            raise ValueError(f"trade {trade.key!r} is for {trade.token!r}, this book is for {self.token!r}")
        side = trade.side
        acquisition = side in ACQUISITIONS
        position = (trade.time, 0 if acquisition else 1, trade.order)
        if check_order and self.last_position is not None and position < self.last_position:
            raise OutOfOrder(f"trade {trade.key!r} sorts before the last trade applied to {self.token!r}")
        self.last_position = position
        if acquisition:
            self._acquire(trade)
            if self.cycle is None:
                self.cycle = OpenCycle(trade.key, trade.time, self.holdings)
                events.append(CycleOpened(self.token, trade.key, trade.time))
            elif self.holdings > self.cycle.peak:
                self.cycle.peak = self.holdings
            return
        matched, matched_amount, cost, missing = self._take(trade.amount)
        cycle = self.cycle
        if missing:
            self.missing_amount += missing
            self.incomplete = True
            if cycle is not None:
                cycle.complete = False
        if side == SELL:
            proceeds = trade.amount * trade.price - trade.fee
            if missing:
                proceeds = _share(proceeds, matched_amount, trade.amount) if matched_amount else ZERO
            realized = proceeds - cost
            self.realized_pnl += realized
            if cycle is not None:
                cycle.realized_pnl += realized
            events.append(
                SellRealized(
                    trade.key, self.token, trade.time, trade.amount, proceeds, cost, realized, missing, matched
                )
            )
        else:
            if cycle is not None:
                cycle.complete = False
            events.append(TransferredOut(trade.key, self.token, trade.time, trade.amount, cost, missing, matched))
        if cycle is not None and (not self.lots or self.holdings <= cycle.peak * self.dust_fraction):
            self.cycle = None
            events.append(
                CycleClosed(
                    self.token,
                    cycle.opened_key,
                    trade.key,
                    cycle.opened_time,
                    trade.time,
                    cycle.realized_pnl,
                    cycle.complete,
                )
            )

    def _acquire(self, trade: Trade) -> None:
        cost = trade.amount * trade.price + trade.fee
        self.lots.append(Lot(trade.key, trade.amount, cost, trade.time, trade.side == TRANSFER_IN))
        self.holdings += trade.amount
        self.cost_basis += cost

    def _take(self, amount: Decimal) -> tuple[tuple[tuple[TradeKey, Decimal], ...], Decimal, Decimal, Decimal]:
        """Remove up to `amount` FIFO: (matched per lot, amount matched, their cost, amount missing)."""
        lots = self.lots
        remaining = amount
        cost = ZERO
        matched: list[tuple[TradeKey, Decimal]] = []
        while lots:
            lot = lots[0]
            if lot.amount <= remaining:
                lots.popleft()
                cost += lot.cost
                matched.append((lot.key, lot.amount))
                remaining -= lot.amount
                if not remaining:
                    break
            else:
                share = _share(lot.cost, remaining, lot.amount)
                lot.amount -= remaining
                lot.cost -= share
                cost += share
                matched.append((lot.key, remaining))
                remaining = ZERO
                break
        taken = amount - remaining
        if lots:
            self.holdings -= taken
            self.cost_basis -= cost
        else:
            # Exactly zero already; resetting drops the exponent a long history accumulates (0E-18).
            self.holdings = ZERO
            self.cost_basis = ZERO
        return tuple(matched), taken, cost, remaining

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state: Decimals as strings, times as int or string, keys as given."""
        cycle = self.cycle
        return {
            "version": METRICS_VERSION,
            "token": self.token,
            "dust_fraction": str(self.dust_fraction),
            "lots": [
                {
                    "key": lot.key,
                    "amount": str(lot.amount),
                    "cost": str(lot.cost),
                    "time": _time_to_json(lot.time),
                    "transferred": lot.transferred,
                }
                for lot in self.lots
            ],
            "holdings": str(self.holdings),
            "cost_basis": str(self.cost_basis),
            "realized_pnl": str(self.realized_pnl),
            "missing_amount": str(self.missing_amount),
            "incomplete": self.incomplete,
            "cycle": None
            if cycle is None
            else {
                "opened_key": cycle.opened_key,
                "opened_time": _time_to_json(cycle.opened_time),
                "peak": str(cycle.peak),
                "realized_pnl": str(cycle.realized_pnl),
                "complete": cycle.complete,
            },
            "last_position": None
            if self.last_position is None
            else [_time_to_json(self.last_position[0]), self.last_position[1], self.last_position[2]],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenBook:
        """The book `to_dict()` described; ValueError when `data` is of another metrics version."""
        if data.get("version") != METRICS_VERSION:
            raise ValueError(f"book state version {data.get('version')!r}, expected {METRICS_VERSION!r}")
        cycle = data["cycle"]
        last = data["last_position"]
        return cls(
            token=data["token"],
            dust_fraction=Decimal(data["dust_fraction"]),
            lots=deque(
                Lot(
                    lot["key"],
                    Decimal(lot["amount"]),
                    Decimal(lot["cost"]),
                    _time_from_json(lot["time"]),
                    lot["transferred"],
                )
                for lot in data["lots"]
            ),
            holdings=Decimal(data["holdings"]),
            cost_basis=Decimal(data["cost_basis"]),
            realized_pnl=Decimal(data["realized_pnl"]),
            missing_amount=Decimal(data["missing_amount"]),
            incomplete=data["incomplete"],
            cycle=None
            if cycle is None
            else OpenCycle(
                cycle["opened_key"],
                _time_from_json(cycle["opened_time"]),
                Decimal(cycle["peak"]),
                Decimal(cycle["realized_pnl"]),
                cycle["complete"],
            ),
            last_position=None if last is None else (_time_from_json(last[0]), last[1], last[2]),
        )


def _check_dust_fraction(value: Decimal) -> None:
    if not (isinstance(value, Decimal) and value.is_finite() and 0 <= value < 1):
        raise ValueError(f"dust_fraction must be a Decimal in [0, 1), got {value!r}")


def _share(value: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """`value * part / whole` (part < whole) cut to SHARE_QUANTUM, under the exact context.

    Rounded toward zero, so a share is never larger than its whole: a lot's remaining cost can not
    go below zero, even for a lot that cost less than SHARE_QUANTUM.
    """
    return _DIVISION.divide(value * part, whole).quantize(SHARE_QUANTUM, rounding=ROUND_DOWN)


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for value in values:
        total = _EXACT.add(total, value)
    return total


def _time_to_json(time: Time) -> int | str:
    return time if type(time) is int else str(time)


def _time_from_json(value: int | str) -> Time:
    return Decimal(value) if isinstance(value, str) else value


# --- Many tokens ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Ledger:
    """One wallet's books by token, and every event in the order trades were applied."""

    books: dict[str, TokenBook] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    dust_fraction: Decimal = DUST_FRACTION

    def __post_init__(self) -> None:
        _check_dust_fraction(self.dust_fraction)

    def book(self, token: str) -> TokenBook:
        """The token's book, created empty on first use."""
        book = self.books.get(token)
        if book is None:
            book = self.books[token] = TokenBook(token, self.dust_fraction)
        return book

    def apply(self, trade: Trade, *, check_order: bool = True) -> list[Event]:
        """`TokenBook.apply` on the trade's token; the events are also kept in `events`."""
        events = self.book(trade.token).apply(trade, check_order=check_order)
        self.events.extend(events)
        return events

    @property
    def realized_pnl(self) -> Decimal:
        """Σ realized P&L over all tokens."""
        return _exact_sum(book.realized_pnl for book in self.books.values())

    def sells(self) -> list[SellRealized]:
        return [event for event in self.events if type(event) is SellRealized]

    def closed_cycles(self) -> list[CycleClosed]:
        return [event for event in self.events if type(event) is CycleClosed]


def replay(trades: Iterable[Trade], *, dust_fraction: Decimal = DUST_FRACTION, check_order: bool = True) -> Ledger:
    """Apply `trades` in the given order (sort them with `sort_key` first) to an empty ledger.

    With `check_order` a trade that sorts before the previous trade of its token raises OutOfOrder;
    the CLI turns the check off because its contract is "in the given order".
    """
    ledger = Ledger(dust_fraction=dust_fraction)
    books = ledger.books
    events = ledger.events
    with localcontext(_EXACT):
        for trade in trades:
            book = books.get(trade.token)
            if book is None:
                book = books[trade.token] = TokenBook(trade.token, dust_fraction)
            book._apply(trade, check_order, events)
    return ledger


# --- Open positions -------------------------------------------------------------------------------


def unrealized(book: TokenBook, price: Decimal | None) -> Decimal | None:
    """Σ over open lots of (amount × price − cost); None when the price is unknown."""
    if price is None:
        return None
    return _EXACT.subtract(_EXACT.multiply(book.holdings, price), book.cost_basis)


def average_cost(book: TokenBook) -> Decimal | None:
    """Cost basis per token held (28 significant digits); None when nothing is held."""
    if not book.holdings:
        return None
    return _RATES.divide(book.cost_basis, book.holdings)


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """An open cycle valued now; `unrealized_pnl` is None when there is no current price."""

    token: str
    opened_time: Time
    cost_basis: Decimal
    unrealized_pnl: Decimal | None
    complete: bool


def open_position(book: TokenBook, price: Decimal | None) -> OpenPosition | None:
    """The book's open cycle valued at `price`; None when the position is flat (or dust)."""
    if book.cycle is None:
        return None
    return OpenPosition(
        book.token, book.cycle.opened_time, book.cost_basis, unrealized(book, price), book.cycle.complete
    )


def is_dead_bag(
    position: OpenPosition, now: Time, *, age_days: int = DEAD_BAG_AGE_DAYS, loss: Decimal = DEAD_BAG_LOSS
) -> bool:
    """Open more than `age_days`, priced, complete, and unrealized P&L / cost basis below `loss`."""
    if position.unrealized_pnl is None or not position.complete or position.cost_basis <= 0:
        return False
    if now - position.opened_time <= age_days * DAY:
        return False
    return position.unrealized_pnl < _EXACT.multiply(loss, position.cost_basis)


# --- Win rates and windows ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WinRate:
    """`wins` of `n`; `rate`, `low` and `high` (Wilson 95 %) are None when n == 0, never 0 %."""

    wins: int
    n: int
    rate: Decimal | None
    low: Decimal | None
    high: Decimal | None

    @classmethod
    def of(cls, wins: int, n: int, z: Decimal = Z_95) -> WinRate:
        interval = wilson_interval(wins, n, z)
        if interval is None:
            return cls(wins, n, None, None, None)
        return cls(wins, n, _RATES.divide(Decimal(wins), Decimal(n)), *interval)


def wilson_interval(wins: int, n: int, z: Decimal = Z_95) -> tuple[Decimal, Decimal] | None:
    """Wilson score interval for wins/n (28 significant digits); None when n == 0."""
    if not 0 <= wins <= n:
        raise ValueError(f"wins must be in [0, n], got {wins} of {n}")
    if n == 0:
        return None
    with localcontext(_RATES):
        z = Decimal(z)
        trials = Decimal(n)
        p = Decimal(wins) / trials
        z2 = z * z
        denominator = 1 + z2 / trials
        centre = (p + z2 / (2 * trials)) / denominator
        half = z / denominator * (p * (1 - p) / trials + z2 / (4 * trials * trials)).sqrt()
        # At 0 and n the bound is 0 and 1 exactly; computed, it would be off in the 28th digit.
        low = ZERO if wins == 0 else max(ZERO, centre - half)
        high = _ONE if wins == n else min(_ONE, centre + half)
    return low, high


def is_rankable(win_rate: WinRate, minimum: int = MIN_CYCLES_TO_RANK) -> bool:
    """A wallet ranks by win rate only on at least `minimum` closed cycles with complete cost basis."""
    return win_rate.n >= minimum


def in_window(time: Time, since: Time | None = None, until: Time | None = None) -> bool:
    """After `since` (exclusive) and up to `until` (inclusive); None leaves that side open."""
    return (since is None or time > since) and (until is None or time <= until)


def window_bounds(window: str, now: Time) -> tuple[Time | None, Time]:
    """(since, until) of a named window of WINDOWS ending at `now`; KeyError for an unknown name."""
    seconds = WINDOWS[window]
    return (None if seconds is None else now - seconds), now


def realized_pnl_in_window(
    sells: Iterable[SellRealized], since: Time | None = None, until: Time | None = None
) -> Decimal:
    """Σ realized P&L of the sells made in the window (a sell belongs to the window it happens in)."""
    return _exact_sum(sell.realized_pnl for sell in sells if in_window(sell.time, since, until))


def cycle_win_rate(
    closed_cycles: Iterable[CycleClosed], since: Time | None = None, until: Time | None = None
) -> WinRate:
    """Cycles closed in the window with P&L > 0, of those closed in it with complete cost basis.

    A cycle belongs to the window its close falls in, wherever it opened. Breakeven is not a win.
    """
    wins = n = 0
    for cycle in closed_cycles:
        if cycle.complete and in_window(cycle.closed_time, since, until):
            n += 1
            wins += cycle.realized_pnl > 0
    return WinRate.of(wins, n)


def sell_win_rate(sells: Iterable[SellRealized], since: Time | None = None, until: Time | None = None) -> WinRate:
    """Sells in the window with realized P&L > 0, of those with a matched part.

    Secondary and inflated by scaling out: a losing position sold in slices often counts several
    winning sells before the losing one.
    """
    wins = n = 0
    for sell in sells:
        if sell.matched_amount > 0 and in_window(sell.time, since, until):
            n += 1
            wins += sell.realized_pnl > 0
    return WinRate.of(wins, n)


def dead_bag_adjusted_win_rate(
    closed_cycles: Iterable[CycleClosed],
    open_positions: Iterable[OpenPosition],
    now: Time,
    since: Time | None = None,
    *,
    age_days: int = DEAD_BAG_AGE_DAYS,
    loss: Decimal = DEAD_BAG_LOSS,
) -> WinRate:
    """`cycle_win_rate` over (since, now], with each dead bag held at `now` added as a loss.

    Dead bags are judged as of `now` and count in every window: a bag still held is a loss the
    wallet is carrying today, whenever it was bought.
    """
    cycles = cycle_win_rate(closed_cycles, since, now)
    dead = sum(1 for position in open_positions if is_dead_bag(position, now, age_days=age_days, loss=loss))
    return WinRate.of(cycles.wins, cycles.n + dead)


@dataclass(frozen=True, slots=True)
class WindowMetrics:
    """One window's figures for a wallet: realized P&L and the three win rates."""

    window: str
    realized_pnl: Decimal
    cycles: WinRate
    sells: WinRate
    dead_bag_adjusted: WinRate


def window_metrics(
    sells: Iterable[SellRealized],
    closed_cycles: Iterable[CycleClosed],
    open_positions: Iterable[OpenPosition],
    now: Time,
) -> dict[str, WindowMetrics]:
    """`WindowMetrics` for each of WINDOWS, as of `now`."""
    sells, closed_cycles, open_positions = list(sells), list(closed_cycles), list(open_positions)
    metrics = {}
    for window in WINDOWS:
        since, until = window_bounds(window, now)
        metrics[window] = WindowMetrics(
            window,
            realized_pnl_in_window(sells, since, until),
            cycle_win_rate(closed_cycles, since, until),
            sell_win_rate(sells, since, until),
            dead_bag_adjusted_win_rate(closed_cycles, open_positions, now, since),
        )
    return metrics
