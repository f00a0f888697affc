"""The read API (v1) over the leaderboard, tracked wallets, swaps and tokens: thin DRF views over stored rows.

Amounts and money are decimal strings at the scale they are stored with (a lot's amount and cost at
that of the position's, an average cost at that of prices), times ISO 8601 in UTC. Token symbols and
names come from the chain and go out verbatim: JSON needs no escaping, and a client that puts them
into HTML escapes them.
"""

from __future__ import annotations

from typing import Any

import ujson
from django.contrib.postgres.fields import ArrayField
from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, CharField, Count, Func, IntegerField, QuerySet, Subquery, TextField, Value
from django.db.models import Window as WindowFunction
from django.db.models.functions import Cast
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from aura.api_conditional import ConditionalGetMixin
from aura.pagination import StrictCursorPagination, StrictPageNumberPagination
from aura.prepared import Bind, Prepared
from whales import selectors
from whales.api_leaderboard import LeaderboardParamsSerializer
from whales.models import (
    AMOUNT,
    PNL,
    PRICE,
    QUOTE_ASSETS,
    USD,
    Position,
    PositionCycle,
    Side,
    Swap,
    Token,
    TrackedWallet,
    WalletStats,
    Window,
)
from whales.selectors import (
    FEED_PAGE_SIZE,
    LEADERBOARD_PAGE_SIZE,
    LeaderboardQuery,
)
from whales.solana import InvalidAddress, validate_solana_address


class InvalidAddressError(exceptions.APIException):
    """An address in the URL that is no Solana address: 400, with the validator's words as `detail`."""

    status_code = 400
    default_code = "invalid_address"
    default_detail = "Not a Solana address."


def tracked_wallet_or_404(address: str) -> TrackedWallet:
    """The tracked wallet at `address`. Raises InvalidAddressError (400) when it is no Solana address,
    NotFound (404) when no tracked wallet has it."""
    try:
        validate_solana_address(address)
    except InvalidAddress as error:
        raise InvalidAddressError(str(error)) from None
    wallet = TrackedWallet.objects.filter(address=address).first()
    if wallet is None:
        raise exceptions.NotFound("No tracked wallet has this address.")
    return wallet


class AddressField(serializers.CharField):
    """A Solana address, refused with the validator's reason. Whitespace is refused, not trimmed
    (whales.solana: an address with a stray space is usually something else pasted)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(trim_whitespace=False, max_length=100, **kwargs)

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        try:
            return validate_solana_address(value)
        except InvalidAddress as error:
            raise serializers.ValidationError(str(error), code="invalid_address") from None


# --- serializers -------------------------------------------------------------------------------------


class WalletRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackedWallet
        fields = ["address", "label", "tags"]


class WalletBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackedWallet
        fields = ["address", "label"]


class TokenBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Token
        fields = ["mint", "symbol"]


class PricedTokenSerializer(serializers.ModelSerializer):
    price_stale = serializers.SerializerMethodField(help_text="no price, or one older than 10 minutes")

    class Meta:
        model = Token
        fields = ["mint", "symbol", "name", "decimals", "price_usd", "price_updated_at", "price_stale"]

    def get_price_stale(self, token: Token) -> bool:
        return token.price_is_stale(timezone.now(), selectors.PRICE_STALE_AFTER)


def _rate(source: str) -> serializers.DecimalField:
    return serializers.DecimalField(source=source, max_digits=7, decimal_places=6, allow_null=True, read_only=True)


class WinRateSerializer(serializers.Serializer):
    """Cycle win rate: `wins` of `n` closed cycles, Wilson 95 % interval `low`–`high`; rates null when n is 0."""

    rate = _rate("win_rate")
    low = _rate("win_rate_low")
    high = _rate("win_rate_high")
    wins = serializers.IntegerField(source="cycle_wins", read_only=True)
    n = serializers.IntegerField(source="cycles", read_only=True)
    rankable = serializers.BooleanField(read_only=True, help_text="enough closed cycles to rank by win rate")


class SellWinRateSerializer(serializers.Serializer):
    """Share of sells that realized a profit (inflated by scaling out)."""

    rate = _rate("sell_win_rate")
    low = _rate("sell_win_rate_low")
    high = _rate("sell_win_rate_high")
    wins = serializers.IntegerField(source="sell_wins", read_only=True)
    n = serializers.IntegerField(source="sells", read_only=True)


class AdjustedWinRateSerializer(serializers.Serializer):
    """The cycle win rate with every dead bag counted as a loss (METRICS.md)."""

    rate = _rate("adjusted_win_rate")
    low = _rate("adjusted_win_rate_low")
    high = _rate("adjusted_win_rate_high")
    wins = serializers.IntegerField(source="cycle_wins", read_only=True)
    n = serializers.SerializerMethodField()

    def get_n(self, stats: WalletStats) -> int:
        return stats.cycles + stats.dead_bags


class WalletStatsSerializer(serializers.ModelSerializer):
    """A wallet's figures over one window."""

    win_rate = WinRateSerializer(source="*", read_only=True)
    sell_win_rate = SellWinRateSerializer(source="*", read_only=True)
    adjusted_win_rate = AdjustedWinRateSerializer(source="*", read_only=True)

    class Meta:
        model = WalletStats
        fields = [
            "window",
            "realized_pnl",
            "unrealized_pnl",
            "total_pnl",
            "roi",
            "volume_usd",
            "swap_count",
            "cycles",
            "cycle_wins",
            "win_rate",
            "sell_win_rate",
            "adjusted_win_rate",
            "dead_bags",
            "incomplete",
            "pending_trades",
            "last_active",
        ]
        read_only_fields = fields


class LeaderboardRowSerializer(WalletStatsSerializer):
    wallet = WalletRefSerializer(read_only=True)

    class Meta(WalletStatsSerializer.Meta):
        fields = ["wallet", *WalletStatsSerializer.Meta.fields]
        read_only_fields = fields


# "24h" is no Python name, so the per-window fields are declared from Window's values.
StatsByWindowSerializer = type(
    "StatsByWindowSerializer",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "A wallet's figures keyed by window; null for a window not computed yet.",
        **{window: WalletStatsSerializer(read_only=True, allow_null=True) for window in Window.values},
    },
)


class LotSerializer(serializers.Serializer):
    """An open FIFO lot: its amount and USD cost, at the scale of the position's holdings and cost basis."""

    acquired_at = serializers.DateTimeField(source="time", read_only=True)
    amount = serializers.DecimalField(**AMOUNT, read_only=True)
    cost = serializers.DecimalField(**PNL, read_only=True)
    transferred = serializers.BooleanField(read_only=True, help_text="came in by transfer: cost is value on receipt")


class PositionSerializer(serializers.ModelSerializer):
    token = PricedTokenSerializer(read_only=True)
    # Room for a tiny holding bought dear; the scale is the one prices are stored with.
    average_cost = serializers.DecimalField(
        max_digits=PNL["max_digits"] + PRICE["decimal_places"],
        decimal_places=PRICE["decimal_places"],
        allow_null=True,
        read_only=True,
        help_text="USD per token held",
    )
    lots = LotSerializer(many=True, read_only=True)

    class Meta:
        model = Position
        fields = [
            "token",
            "holdings",
            "average_cost",
            "cost_basis",
            "unrealized_pnl",
            "opened_at",
            "incomplete",
            "lots",
        ]
        read_only_fields = fields


class WalletDetailSerializer(serializers.ModelSerializer):
    backfill_progress = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="percent of the backfill window covered; null before it starts"
    )
    stats = serializers.SerializerMethodField()
    open_positions = serializers.SerializerMethodField()

    class Meta:
        model = TrackedWallet
        fields = [
            "address",
            "label",
            "tags",
            "is_active",
            "last_swap_at",
            "backfill_state",
            "backfill_progress",
            "stats",
            "open_positions",
        ]
        read_only_fields = fields

    @extend_schema_field(StatsByWindowSerializer)
    def get_stats(self, wallet: TrackedWallet) -> dict:
        windows = selectors.stats_by_window(wallet)
        return StatsByWindowSerializer({window.value: stats for window, stats in windows}).data

    @extend_schema_field(PositionSerializer(many=True))
    def get_open_positions(self, wallet: TrackedWallet) -> list:
        return PositionSerializer(selectors.open_positions(wallet), many=True).data


class CycleSerializer(serializers.ModelSerializer):
    token = TokenBriefSerializer(read_only=True)

    class Meta:
        model = PositionCycle
        fields = ["id", "token", "opened_at", "closed_at", "realized_pnl", "complete"]
        read_only_fields = fields


class SwapSerializer(serializers.ModelSerializer):
    wallet = WalletBriefSerializer(read_only=True)
    token = TokenBriefSerializer(read_only=True)
    quote_asset = serializers.CharField(read_only=True, help_text="SOL, USDC or USDT")

    class Meta:
        model = Swap
        fields = [
            "id",
            "signature",
            "wallet",
            "token",
            "side",
            "token_amount",
            "quote_asset",
            "quote_amount",
            "price_in_quote",
            "usd_value",
            "usd_price",
            "block_time",
            "source",
            "arrived_via",
            "ingested_at",
        ]
        read_only_fields = fields


class HolderSerializer(serializers.ModelSerializer):
    """A tracked wallet's position in one token."""

    address = serializers.CharField(source="wallet.address", read_only=True)
    label = serializers.CharField(source="wallet.label", read_only=True)
    net_flow_usd = serializers.DecimalField(
        **USD, read_only=True, help_text="USD put into the token net of what was taken out"
    )

    class Meta:
        model = Position
        fields = ["address", "label", "holdings", "cost_basis", "unrealized_pnl", "realized_pnl", "net_flow_usd"]
        read_only_fields = fields


class TokenDetailSerializer(PricedTokenSerializer):
    holders = serializers.SerializerMethodField()

    class Meta(PricedTokenSerializer.Meta):
        fields = [
            "mint",
            "symbol",
            "name",
            "decimals",
            "logo_url",
            "price_usd",
            "price_source",
            "price_updated_at",
            "price_stale",
            "holders",
        ]
        read_only_fields = fields

    @extend_schema_field(HolderSerializer(many=True))
    def get_holders(self, token: Token) -> list:
        return HolderSerializer(selectors.token_holders(token), many=True).data


class SwapFilterSerializer(serializers.Serializer):
    """The swaps list's query parameters."""

    wallet = AddressField(required=False, help_text="address of a tracked wallet")
    token = serializers.CharField(required=False, max_length=100, help_text="mint of a token")
    side = serializers.ChoiceField(choices=Side.choices, required=False)
    following = serializers.BooleanField(required=False, help_text="only wallets the requesting user follows")


# --- lean rows ---------------------------------------------------------------------------------------
# The leaderboard and the swaps list are the API's hot reads: their rows are built from `values()` as
# plain dicts in the serializers' field order (those serializers above stay the documented schema, and
# a test holds these rows to them byte for byte). Money, amounts and times are read as the text the
# JSON carries (STATS_TEXT, SWAP_TEXT), so no row builds a Decimal or a datetime only to write it back.


class TimeText(Func):
    """A time as DRF writes it, written by PostgreSQL: ISO 8601 in UTC with "Z", microseconds only
    when there are some (Python's isoformat)."""

    template = (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'"
    )
    output_field = TextField()


# A numeric's text is its digits at the column's scale: what format(value, "f") writes of the Decimal
# psycopg would make of it, and what DRF writes of a stored DECIMAL (no quantize needed).
STATS_DECIMALS = (
    "realized_pnl",
    "unrealized_pnl",
    "total_pnl",
    "roi",
    "volume_usd",
    "win_rate",
    "win_rate_low",
    "win_rate_high",
    "sell_win_rate",
    "sell_win_rate_low",
    "sell_win_rate_high",
    "adjusted_win_rate",
    "adjusted_win_rate_low",
    "adjusted_win_rate_high",
)
STATS_TEXT = {
    **{f"{name}_text": Cast(name, TextField()) for name in STATS_DECIMALS},
    "last_active_text": TimeText("last_active"),
}
STATS_VALUES = (
    "window",
    "swap_count",
    "cycles",
    "cycle_wins",
    "rankable",
    "sells",
    "sell_wins",
    "dead_bags",
    "incomplete",
    "pending_trades",
    *STATS_TEXT,
)
LEADERBOARD_VALUES = ("id", "wallet__address", "wallet__label", "wallet__tags", *STATS_VALUES)


def _rate(row: dict[str, Any], name: str, wins: int, n: int) -> dict[str, Any]:
    """A win rate with its Wilson bounds, as WinRateSerializer writes it."""
    return {
        "rate": row[f"{name}_text"],
        "low": row[f"{name}_low_text"],
        "high": row[f"{name}_high_text"],
        "wins": wins,
        "n": n,
    }


def stats_row(row: dict[str, Any]) -> dict[str, Any]:
    """A WalletStats `values(*STATS_VALUES)` row (with STATS_TEXT) as WalletStatsSerializer writes it."""
    return {
        "window": row["window"],
        "realized_pnl": row["realized_pnl_text"],
        "unrealized_pnl": row["unrealized_pnl_text"],
        "total_pnl": row["total_pnl_text"],
        "roi": row["roi_text"],
        "volume_usd": row["volume_usd_text"],
        "swap_count": row["swap_count"],
        "cycles": row["cycles"],
        "cycle_wins": row["cycle_wins"],
        "win_rate": {**_rate(row, "win_rate", row["cycle_wins"], row["cycles"]), "rankable": row["rankable"]},
        "sell_win_rate": _rate(row, "sell_win_rate", row["sell_wins"], row["sells"]),
        "adjusted_win_rate": _rate(row, "adjusted_win_rate", row["cycle_wins"], row["cycles"] + row["dead_bags"]),
        "dead_bags": row["dead_bags"],
        "incomplete": row["incomplete"],
        "pending_trades": row["pending_trades"],
        "last_active": row["last_active_text"],
    }


def leaderboard_row(row: dict[str, Any]) -> dict[str, Any]:
    """A `LEADERBOARD_VALUES` row as LeaderboardRowSerializer writes it."""
    wallet = {"address": row["wallet__address"], "label": row["wallet__label"], "tags": row["wallet__tags"]}
    return {"wallet": wallet, **stats_row(row)}


def _bound_query(sort: str, descending: bool, tag: str, by_min_cycles: bool, search: bool) -> LeaderboardQuery:
    """A LeaderboardQuery of one shape, its window, least cycles and search bound at each run."""
    min_cycles = Bind("min_cycles", IntegerField()) if by_min_cycles else 0
    searched = Bind("search", CharField()) if search else ""
    return LeaderboardQuery(Bind("window", CharField()), sort, descending, tag, min_cycles, searched)


def _leaderboard_page(sort: str, descending: bool, tag: str, by_min_cycles: bool, start: int, stop: int) -> QuerySet:
    """LEADERBOARD_PAGE's queryset for one shape (not a search: LEADERBOARD_SEARCH_IDS).

    The page's ids come from the bare stats rows in their order, the count of every matching row
    from an uncorrelated subquery (run once), and only the page's rows join their wallets: the count,
    the ids and the rows of three queries in one statement."""
    query = _bound_query(sort, descending, tag, by_min_cycles, search=False)
    matching = query.stats()
    count = matching.order_by().annotate(n=Func(Value(1), function="COUNT", output_field=IntegerField())).values("n")
    rows = WalletStats.objects.filter(id__in=matching.values("id")[start:stop])
    return query.ordered(rows).annotate(matching=Subquery(count), **STATS_TEXT).values(*LEADERBOARD_VALUES, "matching")


def _leaderboard_search_ids(
    sort: str, descending: bool, tag: str, by_min_cycles: bool, start: int, stop: int
) -> QuerySet:
    """LEADERBOARD_SEARCH_IDS' queryset for one shape: a search page's (id, count of every match), in
    order. A window count, so the search's filter, which joins the wallets, runs once."""
    query = _bound_query(sort, descending, tag, by_min_cycles, search=True)
    return query.stats().annotate(matching=WindowFunction(Count("*"))).values_list("id", "matching")[start:stop]


LEADERBOARD_PAGE = Prepared(_leaderboard_page)
LEADERBOARD_SEARCH_IDS = Prepared(_leaderboard_search_ids)


class AnyOf(Func):
    """`value = ANY(array)`: one bound array however many values it holds (an IN list's length would be
    part of the SQL)."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


LEADERBOARD_ROWS_BY_ID = Prepared(
    lambda: (
        WalletStats.objects.filter(AnyOf("id", Bind("ids", ArrayField(IntegerField()))))
        .annotate(**STATS_TEXT)
        .values(*LEADERBOARD_VALUES)
    )
)


def leaderboard_rows_by_id(ids: list[int]) -> list[dict[str, Any]]:
    """The `LEADERBOARD_VALUES` rows of these stats ids, in their order."""
    by_id = {row["id"]: row for row in LEADERBOARD_ROWS_BY_ID.rows(ids=ids)} if ids else {}
    return [by_id[row_id] for row_id in ids]


SWAP_TEXT = {
    **{
        f"{name}_text": Cast(name, TextField())
        for name in ("token_amount", "quote_amount", "price_in_quote", "usd_value", "usd_price")
    },
    "block_time_text": TimeText("block_time"),
    "ingested_at_text": TimeText("ingested_at"),
}
SWAP_VALUES = (
    "id",
    "signature",
    "wallet__address",
    "wallet__label",
    "token__mint",
    "token__symbol",
    "side",
    "quote_mint",
    "block_time",  # the cursor's position is read from it
    "source",
    "arrived_via",
    *SWAP_TEXT,
)


def swap_row(row: dict[str, Any]) -> dict[str, Any]:
    """A `SWAP_VALUES` row (with SWAP_TEXT) as SwapSerializer writes it."""
    return {
        "id": row["id"],
        "signature": row["signature"],
        "wallet": {"address": row["wallet__address"], "label": row["wallet__label"]},
        "token": {"mint": row["token__mint"], "symbol": row["token__symbol"]},
        "side": row["side"],
        "token_amount": row["token_amount_text"],
        "quote_asset": QUOTE_ASSETS.get(row["quote_mint"], "?"),
        "quote_amount": row["quote_amount_text"],
        "price_in_quote": row["price_in_quote_text"],
        "usd_value": row["usd_value_text"],
        "usd_price": row["usd_price_text"],
        "block_time": row["block_time_text"],
        "source": row["source"],
        "arrived_via": row["arrived_via"],
        "ingested_at": row["ingested_at_text"],
    }


class PlainJSONRenderer(JSONRenderer):
    """JSONRenderer's exact bytes, written by ujson (a quarter of a leaderboard request went to the
    stdlib encoder). Only for data of str, int, bool, None, lists and dicts, as the lean rows are:
    ujson would write a Decimal or a float its own way, so anything else — and an indented answer
    (the browsable API) — goes to JSONRenderer."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if data is None or self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            text = ujson.dumps(data, ensure_ascii=False, escape_forward_slashes=False, default=_not_plain)
        except TypeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As JSONRenderer: U+2028 and U+2029 are valid JSON but end a line in JavaScript.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _not_plain(value: object) -> None:
    raise TypeError(type(value).__name__)


LEAN_RENDERERS = [PlainJSONRenderer, BrowsableAPIRenderer]


# --- pagination --------------------------------------------------------------------------------------


class LeaderboardPagination(StrictPageNumberPagination):
    page_size = LEADERBOARD_PAGE_SIZE

    def paginate_leaderboard(self, query: LeaderboardQuery, request: Request) -> list[dict[str, Any]]:
        """The page's `LEADERBOARD_VALUES` rows; NotFound past the last page. A search counts its rows
        in the query that reads the page's ids, then reads their rows; any other page is one statement."""
        self.request = request
        number = self.get_page_number(request, None)
        start = (number - 1) * self.page_size
        shape = (query.sort, query.descending, query.tag, bool(query.min_cycles), start, start + self.page_size)
        values = {"window": query.window, **({"min_cycles": query.min_cycles} if query.min_cycles else {})}
        if query.search:
            counted = LEADERBOARD_SEARCH_IDS.rows(*shape, search=query.search, **values)
            rows = leaderboard_rows_by_id([row_id for row_id, _ in counted])
            count = counted[0][1] if counted else 0
        else:
            rows = LEADERBOARD_PAGE.rows(*shape, **values)
            count = rows[0]["matching"] if rows else 0
        if not rows and number > 1:
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=number, message=""))
        paginator = Paginator((), self.page_size)
        paginator.count = count  # a cached_property: the count read with the rows
        self.page = Page(rows, number, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return rows


class SwapPagination(StrictCursorPagination):
    """Newest first. A phone pages back with `next` and polls by fetching the first page again."""

    ordering = ("-block_time", "-id")
    page_size = FEED_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 200


class CyclePagination(StrictCursorPagination):
    ordering = ("-closed_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


# --- views -------------------------------------------------------------------------------------------

ADDRESS_ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="not a Solana address (`detail` says why)"),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="no tracked wallet has this address"),
}


@extend_schema(
    parameters=[LeaderboardParamsSerializer],
    responses={
        200: LeaderboardRowSerializer(many=True),
        304: OpenApiResponse(description="unchanged since `If-None-Match`"),
    },
)
class LeaderboardViewSet(ConditionalGetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Active wallets' figures in one window, sorted and filtered exactly as the dashboard's leaderboard.
    Win-rate sorts put rankable wallets first. Answers carry an `ETag`: send it back in `If-None-Match`
    for a 304 while nothing changed."""

    queryset = WalletStats.objects.none()
    serializer_class = LeaderboardRowSerializer
    pagination_class = LeaderboardPagination
    renderer_classes = LEAN_RENDERERS

    def get_queryset(self) -> QuerySet[WalletStats]:
        LeaderboardParamsSerializer.check(self.request)
        return LeaderboardQuery.from_request(self.request).stats()

    def list(self, request: Request, *args, **kwargs) -> Response:
        LeaderboardParamsSerializer.check(request)
        rows = self.paginator.paginate_leaderboard(LeaderboardQuery.from_request(request), request)
        return self.get_paginated_response([leaderboard_row(row) for row in rows])


class WalletViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A tracked wallet: its figures per window, open positions and closed cycles."""

    queryset = TrackedWallet.objects.all()
    serializer_class = WalletDetailSerializer
    lookup_field = "address"
    # Anything up to the slash, so a mistyped address gets the validator's 400 rather than a bare 404.
    lookup_value_regex = "[^/]+"

    def get_object(self) -> TrackedWallet:
        return tracked_wallet_or_404(self.kwargs["address"])

    @extend_schema(responses={200: WalletDetailSerializer, **ADDRESS_ERRORS})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses={200: CycleSerializer(many=True), **ADDRESS_ERRORS})
    @action(detail=True, serializer_class=CycleSerializer, pagination_class=CyclePagination)
    def cycles(self, request: Request, address: str) -> Response:
        """The wallet's closed round trips, newest close first."""
        cycles = self.paginate_queryset(selectors.closed_cycles(self.get_object()))
        return self.get_paginated_response(CycleSerializer(cycles, many=True).data)


@extend_schema(
    parameters=[SwapFilterSerializer],
    responses={
        200: SwapSerializer(many=True),
        404: OpenApiResponse(OpenApiTypes.OBJECT, description="no tracked wallet or token has this address or mint"),
    },
)
class SwapViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Swaps of tracked wallets, newest first; cursor-paginated so that pages hold still while new swaps arrive.
    An unknown wallet or token is a 404, a malformed filter a 400."""

    queryset = Swap.objects.none()
    serializer_class = SwapSerializer
    pagination_class = SwapPagination
    renderer_classes = LEAN_RENDERERS

    def get_queryset(self) -> QuerySet[Swap]:
        filters = SwapFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        wallet = tracked_wallet_or_404(wanted["wallet"]) if "wallet" in wanted else None
        token = None
        if "token" in wanted:
            token = Token.objects.filter(mint=wanted["token"]).first()
            if token is None:
                raise exceptions.NotFound("No token has this mint.")
        swaps = selectors.swap_feed(wallet, token, followed_by=self.request.user if wanted.get("following") else None)
        if "side" in wanted:
            swaps = swaps.filter(side=wanted["side"])
        return swaps

    def list(self, request: Request, *args, **kwargs) -> Response:
        rows = self.paginate_queryset(self.get_queryset().annotate(**SWAP_TEXT).values(*SWAP_VALUES))
        return self.get_paginated_response([swap_row(row) for row in rows])


class TokenViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A token, its latest price, and the tracked wallets holding or having traded it."""

    queryset = Token.objects.all()
    serializer_class = TokenDetailSerializer
    lookup_field = "mint"
    lookup_value_regex = "[^/]+"

    def get_object(self) -> Token:
        mint = self.kwargs["mint"]
        token = Token.objects.filter(mint=mint).first()
        if token is not None:
            return token
        try:
            validate_solana_address(mint)
        except InvalidAddress as error:
            raise InvalidAddressError(str(error)) from None
        raise exceptions.NotFound("No token has this mint.")

    @extend_schema(
        responses={
            200: TokenDetailSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="not a Solana address (`detail` says why)"),
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="no token has this mint"),
        }
    )
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)
