"""The reads the pages and the API share, so both show the same rows in the same order."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import CharField, Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet
from django.db.models import Window as WindowFunction
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from aura.prepared import Bind, BindAny, Prepared
from whales.models import (
    QUOTE_ASSETS,
    Position,
    PositionCycle,
    Realization,
    Swap,
    Token,
    TrackedWallet,
    WalletStats,
    Window,
    short_address,
)
from whales.rows import SWAP_ROW_FIELDS

TOKEN_HOLDERS_LIMIT = 100
PRICE_STALE_AFTER = timedelta(minutes=10)
FEED_PAGE_SIZE = 50
LEADERBOARD_PAGE_SIZE = 50
DEFAULT_WINDOW = Window.WEEK
MATCHING_TOKENS = 8

# Leaderboard columns: URL name → stats field. Win rate sorts ranked wallets (≥ MIN_CYCLES_TO_RANK
# closed cycles) first, so a lucky 1-for-1 never tops it.
SORTS = {
    "wallet": "wallet__label",
    "total": "total_pnl",
    "realized": "realized_pnl",
    "unrealized": "unrealized_pnl",
    "roi": "roi",
    "win_rate": "win_rate",
    "sell_win_rate": "sell_win_rate",
    "cycles": "cycles",
    "volume": "volume_usd",
    "swaps": "swap_count",
    "last_active": "last_active",
}
DEFAULT_SORT = "total"
# Columns that can be empty (no capital, nothing closed, never active): empties go last either way.
NULLABLE_SORTS = {"roi", "win_rate", "sell_win_rate", "last_active"}


class RowsByIdPaginator(Paginator):
    """Reads a page's ids first, then those rows with their joins: an offset deep into the leaderboard
    then skips bare index entries instead of joined rows (page 100 of 10,000 wallets: 87 → ~15 ms).

    With `count_with_ids`, the ids query also counts the matching rows (a window count), so a page
    with rows needs no count query of its own. That pays for a search, whose filter joins the wallets
    and would otherwise be evaluated twice (~8 ms each at 10,000 wallets); without a filter, counting
    the bare index is cheaper than counting in the ordered read, which then stops after one page."""

    def __init__(self, *args: Any, count_with_ids: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_with_ids = count_with_ids

    def page(self, number: int | str) -> Page:
        number, ids = self.page_ids(number)
        rows = {row.id: row for row in self.object_list.filter(id__in=ids).order_by()}
        return self._get_page([rows[row_id] for row_id in ids], number, self)

    def page_ids(self, number: int | str) -> tuple[int, list[int]]:
        """The page's number (checked as Paginator.validate_number checks it) and its rows' ids, in order."""
        if self.count_with_ids and (isinstance(number, int) or str(number).isdigit()) and int(number) >= 1:
            bottom = (int(number) - 1) * self.per_page
            counted = self.object_list.annotate(matching=WindowFunction(Count("*"))).values_list("id", "matching")
            rows = list(counted[bottom : bottom + self.per_page])
            if rows or not bottom:
                self.count = rows[0][1] if rows else 0  # Paginator.count is a cached_property: its value now
                return self.validate_number(number), [row_id for row_id, _ in rows]
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return number, list(self.object_list.values_list("id", flat=True)[bottom : bottom + self.per_page])


@dataclass
class LeaderboardQuery:
    window: str
    sort: str
    descending: bool
    tag: str
    min_cycles: int
    search: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> LeaderboardQuery:
        get = request.GET
        window = get.get("window") if get.get("window") in Window.values else DEFAULT_WINDOW
        sort = get.get("sort") if get.get("sort") in SORTS else DEFAULT_SORT
        min_cycles = get.get("min_cycles", "")
        return cls(
            window=window,
            sort=sort,
            descending=get.get("dir", "asc" if sort == "wallet" else "desc") != "asc",
            tag=get.get("tag", "").strip()[:40],
            min_cycles=int(min_cycles) if min_cycles.isdigit() else 0,
            search=get.get("q", "").strip()[:60],
        )

    def params(self, **changes: object) -> str:
        values = {
            "window": self.window,
            "sort": self.sort,
            "dir": "desc" if self.descending else "asc",
            "tag": self.tag,
            "min_cycles": self.min_cycles or "",
            "q": self.search,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def sort_link(self, column: str) -> str:
        """The query that sorts by `column`: toggles direction when it already is the sort."""
        if column == self.sort:
            return self.params(dir="asc" if self.descending else "desc", page="")
        return self.params(sort=column, dir="asc" if column == "wallet" else "desc", page="")

    def sort_links(self) -> dict[str, str]:
        return {column: self.sort_link(column) for column in SORTS}

    def matching_tokens(self) -> list[Token]:
        """Tokens whose symbol is the search (or starts with it, when none is exactly it)."""
        if not self.search:
            return []
        exact = list(Token.objects.filter(symbol__iexact=self.search)[:MATCHING_TOKENS])
        return exact or list(Token.objects.filter(symbol__istartswith=self.search)[:MATCHING_TOKENS])

    def stats(
        self, rows: QuerySet[WalletStats] | None = None, tokens: list[Token] | None = None
    ) -> QuerySet[WalletStats]:
        """The window's rows of active wallets (of `rows` when given), filtered and in the asked order.
        The search matches a label, the start of an address, or a token (`tokens`) the wallet traded."""
        if rows is None:
            rows = WalletStats.objects.all()
        rows = rows.filter(window=self.window, wallet_active=True).select_related("wallet")
        if self.tag:
            rows = rows.filter(wallet__tags__contains=[self.tag])
        if self.min_cycles:
            rows = rows.filter(cycles__gte=self.min_cycles)
        if self.search:
            matches = Q(wallet__label__icontains=self.search) | Q(wallet__address__startswith=self.search)
            if tokens:
                traded = Position.objects.filter(wallet_id=OuterRef("wallet_id"), token__in=tokens)
                matches |= Q(Exists(traded))
            rows = rows.filter(matches)
        return self.ordered(rows)

    def ordered(self, rows: QuerySet[WalletStats]) -> QuerySet[WalletStats]:
        """`rows` in the asked order, the wallet's id breaking ties."""
        field = F(SORTS[self.sort])
        nulls_last = True if self.sort in NULLABLE_SORTS else None  # as the indexes have it (models.WalletStats)
        order = field.desc(nulls_last=nulls_last) if self.descending else field.asc(nulls_last=nulls_last)
        first = ["-rankable"] if self.sort == "win_rate" else []
        return rows.order_by(*first, order, "wallet_id")


def _positive_usd(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() and 0 < value < 10**12 else None


@dataclass(frozen=True)
class FeedFilter:
    """What a reader narrowed a swap feed to: a side, a minimum USD value, a token by symbol or mint."""

    side: str = ""
    min_usd: Decimal | None = None
    symbol: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> FeedFilter:
        """Read from a query string; what does not parse is ignored (a feed is never empty by typo)."""
        side = query.get("side", "")
        return cls(
            side=side if side in ("buy", "sell") else "",
            min_usd=_positive_usd(query.get("min_usd", "")),
            symbol=query.get("symbol", "").strip()[:64],
        )

    def params(self) -> dict[str, str]:
        values = {"side": self.side, "min_usd": str(self.min_usd or ""), "symbol": self.symbol}
        return {name: value for name, value in values.items() if value}

    def apply(self, swaps: QuerySet[Swap]) -> QuerySet[Swap]:
        if self.side:
            swaps = swaps.filter(side=self.side)
        if self.min_usd is not None:
            swaps = swaps.filter(usd_value__gte=self.min_usd)
        if self.symbol:
            swaps = swaps.filter(Q(token__symbol__iexact=self.symbol) | Q(token__mint=self.symbol))
        return swaps


def swap_feed(
    wallet: TrackedWallet | None = None,
    token: Token | None = None,
    followed_by: AbstractBaseUser | None = None,
    narrowed: FeedFilter | None = None,
) -> QuerySet[Swap]:
    """Swaps newest first (by block time, then arrival), optionally of one wallet, one token, or the
    wallets a user follows, and `narrowed` by side, size or token symbol."""
    swaps = Swap.objects.select_related("wallet", "token").order_by("-block_time", "-id")
    if wallet is not None:
        swaps = swaps.filter(wallet=wallet)
    if token is not None:
        swaps = swaps.filter(token=token)
    if followed_by is not None:
        swaps = swaps.filter(wallet__followers__user=followed_by)
    if narrowed is not None:
        swaps = narrowed.apply(swaps)
    return swaps


@dataclass(frozen=True)
class FeedWallet:
    address: str
    label: str

    def __str__(self) -> str:
        return self.label or short_address(self.address)


@dataclass(frozen=True)
class FeedToken:
    mint: str
    symbol: str
    name: str

    @property
    def display_symbol(self) -> str:
        return self.symbol or short_address(self.mint)


@dataclass(frozen=True)
class FeedSwap:
    """A swap as a feed's row shows it (whales.rows.swap_row): plain values, since a page's 50 swaps
    with their wallets and tokens as model instances cost more to build than their rows to write."""

    id: int
    signature: str
    side: str
    token_amount: Decimal
    quote_mint: str
    quote_amount: Decimal
    usd_value: Decimal | None
    block_time: datetime
    slot: int
    source: str
    wallet: FeedWallet
    token: FeedToken

    @property
    def quote_asset(self) -> str:
        return QUOTE_ASSETS.get(self.quote_mint, "?")


def _feed_swap(row: tuple) -> FeedSwap:
    """A feed's row of `SWAP_ROW_FIELDS` values."""
    return FeedSwap(*row[:10], wallet=FeedWallet(*row[10:12]), token=FeedToken(*row[12:]))


def feed_swaps(swaps: QuerySet[Swap], limit: int = FEED_PAGE_SIZE) -> list[FeedSwap]:
    """The first `limit` of `swaps` (a swap_feed) as FeedSwap values."""
    return [_feed_swap(row) for row in swaps.values_list(*SWAP_ROW_FIELDS)[:limit]]


_RECENT_SWAPS = Prepared(
    lambda of: (
        swap_feed()
        .filter(**({of: Bind(of, IntegerField())} if of else {}))
        .values_list(*SWAP_ROW_FIELDS)[:FEED_PAGE_SIZE]
    )
)


def recent_swaps(wallet: TrackedWallet | None = None, token: Token | None = None) -> list[FeedSwap]:
    """`feed_swaps(swap_feed(wallet=…))`, or of one token, or of every wallet: a page's first rows."""
    if wallet is not None:
        return [_feed_swap(row) for row in _RECENT_SWAPS.rows("wallet_id", wallet_id=wallet.id)]
    if token is not None:
        return [_feed_swap(row) for row in _RECENT_SWAPS.rows("token_id", token_id=token.id)]
    return [_feed_swap(row) for row in _RECENT_SWAPS.rows("")]


def _wallet_id() -> Bind:
    return Bind("wallet", IntegerField())


def _any_wallet_id() -> BindAny:
    return BindAny("wallet_id", "wallets")


def _by_wallet(rows: list, wallet_ids: Iterable[int]) -> dict[int, list]:
    grouped: dict[int, list] = {wallet_id: [] for wallet_id in wallet_ids}
    for row in rows:
        grouped[row.wallet_id].append(row)
    return grouped


_OPEN_POSITIONS = Prepared(
    lambda: (
        Position.objects.filter(wallet_id=_wallet_id(), holdings__gt=0)
        .select_related("token")
        .order_by(F("cost_basis").desc(nulls_last=True))
    )
)


def open_positions(wallet: TrackedWallet) -> list[Position]:
    """What the wallet holds, biggest cost basis first."""
    return _OPEN_POSITIONS.rows(wallet=wallet.id)


# What a wallet page's position row shows (`rows.position_row`), and its token's. The FIFO book is left
# in the database: a busy position's is tens of KB of JSON, and the row shows only how many lots it has.
POSITION_ROW_FIELDS = (
    "id",
    "wallet_id",
    "holdings",
    "cost_basis",
    "incomplete",
    "opened_at",
    "unrealized_pnl",
    "pending_trades",
    "token__mint",
    "token__symbol",
    "token__name",
    "token__price_usd",
    "token__price_source",
    "token__price_updated_at",
)

_OPEN_POSITIONS_OF = Prepared(
    lambda: (
        Position.objects.filter(_any_wallet_id(), holdings__gt=0)
        .select_related("token")
        .only(*POSITION_ROW_FIELDS)
        .annotate(
            lot_count=Coalesce(
                Func(KeyTransform("lots", "book"), function="jsonb_array_length", output_field=IntegerField()), 0
            )
        )
        .order_by("wallet_id", F("cost_basis").desc(nulls_last=True))
    )
)


def open_positions_of(wallet_ids: Collection[int]) -> dict[int, list[Position]]:
    """`open_positions` of each of these wallets (wallet id → its list), in one query: the fields of
    POSITION_ROW_FIELDS and `lot_count`, the book unread."""
    return _by_wallet(_OPEN_POSITIONS_OF.rows(wallets=list(wallet_ids)), wallet_ids)


_TRACKED_WALLET = Prepared(lambda: TrackedWallet.objects.filter(address=Bind("address", CharField()))[:1])


def tracked_wallet(address: str) -> TrackedWallet | None:
    return _TRACKED_WALLET.first(address=address)


_ANY_SELL = Prepared(lambda: Realization.objects.filter(wallet_id=_wallet_id()).values_list("id", flat=True)[:1])


def has_sells(wallet: TrackedWallet) -> bool:
    """Whether the wallet has realized anything (its page then charts realized P&L)."""
    return bool(_ANY_SELL.rows(wallet=wallet.id))


def closed_cycles(wallet: TrackedWallet) -> QuerySet[PositionCycle]:
    """The wallet's round trips, latest close first."""
    return (
        PositionCycle.objects.filter(wallet=wallet)
        .exclude(closed_at=None)
        .select_related("token")
        .order_by("-closed_at", "-id")
    )


_CLOSED_CYCLE_COUNT = Prepared(
    lambda: (
        PositionCycle.objects.filter(wallet_id=_wallet_id())
        .exclude(closed_at=None)
        .order_by()
        .values_list(Func(function="COUNT", template="COUNT(*)", output_field=IntegerField()), flat=True)
    )
)
_CLOSED_CYCLES = Prepared(
    lambda start, stop: (
        PositionCycle.objects.filter(wallet_id=_wallet_id())
        .exclude(closed_at=None)
        .select_related("token")
        .order_by("-closed_at", "-id")[start:stop]
    )
)


class ClosedCycles:
    """`closed_cycles(wallet)` as a Paginator's list: its count and its slices, each a prepared query."""

    def __init__(self, wallet: TrackedWallet) -> None:
        self.wallet = wallet

    def count(self) -> int:
        return _CLOSED_CYCLE_COUNT.first(wallet=self.wallet.id)

    def __getitem__(self, page: slice) -> list[PositionCycle]:
        return _CLOSED_CYCLES.rows(page.start, page.stop, wallet=self.wallet.id)


# The token page's holder tables: column → order (net flow is USD bought minus USD sold).
HOLDER_SORTS = {
    "wallet": "wallet__label",
    "holdings": "holdings",
    "cost": "cost_basis",
    "unrealized": "unrealized_pnl",
    "realized": "realized_pnl",
    "flow": "net_flow",
    "last_trade": "last_trade_at",
}


@dataclass(frozen=True)
class HolderWallet:
    address: str
    label: str

    def __str__(self) -> str:
        return self.label or short_address(self.address)


@dataclass(frozen=True)
class Holder:
    """A tracked wallet's position in a token as the token page's holder tables show it: plain values,
    as the busiest tokens list up to 2 × TOKEN_HOLDERS_LIMIT of them (model instances of each
    position and its wallet cost more than the rest of the page's rows together)."""

    holdings: Decimal
    cost_basis: Decimal
    unrealized_pnl: Decimal | None
    realized_pnl: Decimal
    net_flow: Decimal
    last_trade_at: datetime | None
    wallet: HolderWallet


def token_positions(token: Token, *, holding: bool, sort: str, descending: bool) -> list[Holder]:
    """Tracked wallets' positions in `token`: those holding some (`holding`), or those that bought
    and hold none now (sold out), in the asked order (`HOLDER_SORTS`), at most TOKEN_HOLDERS_LIMIT."""
    shown = _TOKEN_POSITIONS.rows(holding, sort, descending, token=token.id)
    return [Holder(*values[:6], wallet=HolderWallet(*values[6:])) for values in shown]


def _token_positions(holding: bool, sort: str, descending: bool) -> QuerySet[Position]:
    rows = Position.objects.filter(token_id=Bind("token", IntegerField()))
    rows = rows.annotate(net_flow=F("bought_usd") - F("sold_usd"))
    rows = rows.filter(holdings__gt=0) if holding else rows.filter(holdings=0, bought_usd__gt=0)
    field = F(HOLDER_SORTS[sort])
    order = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
    # What the holder tables show, no more: the busiest tokens have hundreds of rows (and long FIFO books).
    return rows.order_by(order, "wallet_id").values_list(
        "holdings",
        "cost_basis",
        "unrealized_pnl",
        "realized_pnl",
        "net_flow",
        "last_trade_at",
        "wallet__address",
        "wallet__label",
    )[:TOKEN_HOLDERS_LIMIT]


_TOKEN_POSITIONS = Prepared(_token_positions)
_TOKEN = Prepared(lambda: Token.objects.filter(mint=Bind("mint", CharField()))[:1])


def token_by_mint(mint: str) -> Token | None:
    return _TOKEN.first(mint=mint)


def token_holders(token: Token) -> QuerySet[Position]:
    """Tracked wallets that hold `token` or have bought it, biggest holdings first."""
    return (
        Position.objects.filter(token=token)
        .filter(Q(holdings__gt=0) | Q(bought_usd__gt=0))
        .select_related("wallet")
        .order_by(F("holdings").desc(), "-bought_usd", "wallet_id")[:TOKEN_HOLDERS_LIMIT]
    )


_WAITING_FOR_A_PRICE_OF = Prepared(
    lambda: (
        Position.objects.filter(_any_wallet_id(), holdings=0, pending_trades__gt=0)
        .select_related("token")
        .only("id", "wallet_id", "pending_trades", "token__mint", "token__symbol", "token__name")
        .order_by("wallet_id")
    )
)


def positions_waiting_for_a_price_of(wallet_ids: Collection[int]) -> dict[int, list[Position]]:
    """Tokens each of these wallets traded whose trades all wait for a USD price, not open in its books
    yet (wallet id → its list), in one query."""
    return _by_wallet(_WAITING_FOR_A_PRICE_OF.rows(wallets=list(wallet_ids)), wallet_ids)


TAGS_CACHE_KEY = "whales:wallet-tags"


def wallet_tags() -> list[str]:
    """Every tag of a tracked wallet, A to Z. Cached (the query reads every wallet); a saved or deleted
    wallet clears it (WhalesConfig.ready)."""
    tags = cache.get(TAGS_CACHE_KEY)
    if tags is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT unnest(tags) FROM {TrackedWallet._meta.db_table} ORDER BY 1")
            tags = [tag for (tag,) in cursor.fetchall()]
        cache.set(TAGS_CACHE_KEY, tags, timeout=None)
    return tags


def forget_wallet_tags(**kwargs: object) -> None:
    """A post_save / post_delete receiver of TrackedWallet: the tag list is read again next time."""
    fields = kwargs.get("update_fields")
    if fields is None or "tags" in fields:
        cache.delete(TAGS_CACHE_KEY)


_WALLET_STATS = Prepared(lambda: WalletStats.objects.filter(wallet_id=_wallet_id()))


def stats_by_window(wallet: TrackedWallet) -> list[tuple[Window, WalletStats | None]]:
    """The wallet's stats in every window, in window order; None for a window not computed yet."""
    return _in_window_order(wallet, _WALLET_STATS.rows(wallet=wallet.id))


_WALLET_STATS_OF = Prepared(lambda: WalletStats.objects.filter(_any_wallet_id()))


def stats_by_window_of(wallets: Collection[TrackedWallet]) -> dict[int, list[tuple[Window, WalletStats | None]]]:
    """`stats_by_window` of each of these wallets (wallet id → its windows), in one query."""
    rows = _by_wallet(_WALLET_STATS_OF.rows(wallets=[wallet.id for wallet in wallets]), [w.id for w in wallets])
    return {wallet.id: _in_window_order(wallet, rows[wallet.id]) for wallet in wallets}


def _in_window_order(wallet: TrackedWallet, rows: list[WalletStats]) -> list[tuple[Window, WalletStats | None]]:
    by_window = {s.window: s for s in rows}
    for stats in by_window.values():
        stats.wallet = wallet  # its pending states read the wallet: no query per window
    return [(w, by_window.get(w.value)) for w in Window]
