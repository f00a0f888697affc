"""A token's USD price history for charts (/api/v1/tokens/{mint}/prices/): the stored price points
between `from` and `to`, in candles of `interval` (open, high, low, close of the points in each)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from whales.api import InvalidAddressError
from whales.models import PRICE, Token, TokenPrice
from whales.solana import InvalidAddress, validate_solana_address

INTERVALS = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
}
DEFAULT_SPAN = timedelta(hours=24)
MAX_CANDLES = 1000
# Candles start on whole intervals counted from here (so 1h candles start on the hour, 1d at midnight UTC).
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
EARLIEST, LATEST = datetime(2009, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


class PriceHistoryParamsSerializer(serializers.Serializer):
    from_ = serializers.DateTimeField(
        required=False, help_text="start, ISO 8601 (default: 24 hours before `to`)", default_timezone=UTC
    )
    to = serializers.DateTimeField(
        required=False, help_text="end, excluded, ISO 8601 (default: now)", default_timezone=UTC
    )
    interval = serializers.ChoiceField(choices=list(INTERVALS), default="1h", help_text="candle length")

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # `from` is a Python keyword
        return fields

    def validate(self, attrs: dict) -> dict:
        end = attrs.get("to") or timezone.now()
        for name, moment in (("from", attrs.get("from")), ("to", end)):
            if moment is not None and not EARLIEST <= moment <= LATEST:
                raise exceptions.ValidationError({name: [f"Must be between {EARLIEST:%Y} and {LATEST:%Y}."]})
        start = attrs.get("from") or end - DEFAULT_SPAN
        if start >= end:
            raise exceptions.ValidationError({"from": ["Must be before `to`."]})
        step = INTERVALS[attrs["interval"]]
        if (end - start) / step > MAX_CANDLES:
            raise exceptions.ValidationError(
                {"interval": [f"At most {MAX_CANDLES} candles: take a longer interval or a shorter span."]}
            )
        return {"from": start, "to": end, "interval": attrs["interval"]}


def _price() -> serializers.DecimalField:
    return serializers.DecimalField(**PRICE)


class CandleSerializer(serializers.Serializer):
    time = serializers.DateTimeField(help_text="start of the candle")
    open = _price()
    high = _price()
    low = _price()
    close = _price()
    points = serializers.IntegerField(help_text="price points stored within the candle")


class PriceHistorySerializer(serializers.Serializer):
    mint = serializers.CharField()
    interval = serializers.ChoiceField(choices=list(INTERVALS))
    start = serializers.DateTimeField(source="from")
    end = serializers.DateTimeField(source="to")
    candles = CandleSerializer(many=True, help_text="oldest first; a candle with no price point is left out")


def candles(token: Token, start: datetime, end: datetime, interval: str) -> list[dict]:
    """Open, high, low and close of `token`'s stored prices in [start, end), per `interval`, oldest first."""
    sql = f"""
        SELECT date_bin(%s, at, %s) AS time,
               (array_agg(price_usd ORDER BY at))[1] AS open,
               max(price_usd) AS high,
               min(price_usd) AS low,
               (array_agg(price_usd ORDER BY at DESC))[1] AS close,
               count(*) AS points
        FROM {TokenPrice._meta.db_table}
        WHERE token_id = %s AND at >= %s AND at < %s
        GROUP BY 1 ORDER BY 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [INTERVALS[interval], ORIGIN, token.id, start, end])
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def token_or_404(mint: str) -> Token:
    """The token of `mint`. Raises InvalidAddressError (400) for no Solana address, NotFound (404) for no token."""
    token = Token.objects.filter(mint=mint).first()
    if token is not None:
        return token
    try:
        validate_solana_address(mint)
    except InvalidAddress as error:
        raise InvalidAddressError(str(error)) from None
    raise exceptions.NotFound("No token has this mint.")


class TokenPriceHistory(APIView):
    @extend_schema(
        tags=["tokens"],
        parameters=[PriceHistoryParamsSerializer],
        responses={
            200: PriceHistorySerializer,
        },
        examples=[
            OpenApiExample(
                "hourly candles",
                value={
                    "mint": "So11111111111111111111111111111111111111112",
                    "interval": "1h",
                    "start": "2026-12-01T00:00:00Z",
                    "end": "2026-12-01T02:00:00Z",
                    "candles": [
                        {
                            "time": "2026-12-01T00:00:00Z",
                            "open": "231.5",
                            "high": "233.1",
                            "low": "230.9",
                            "close": "232.7",
                            "points": 120,
                        },
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, mint: str) -> Response:
        """The token's USD price in candles for a chart."""
        token = token_or_404(mint)
        params = PriceHistoryParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        wanted = params.validated_data
        history = {
            **wanted,
            "mint": token.mint,
            "candles": candles(token, wanted["from"], wanted["to"], wanted["interval"]),
        }
        return Response(PriceHistorySerializer(history).data)
