"""The leaderboard endpoint's query parameters, checked: a value the schema does not allow is a 400
naming the parameter (the dashboard's page, for people typing URLs, falls back to its defaults instead)."""

from __future__ import annotations

import re

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.request import Request

from whales.models import Window
from whales.selectors import DEFAULT_SORT, DEFAULT_WINDOW, SORTS

PRINTABLE_ASCII = re.compile(r"[ -~]*")
WHOLE_NUMBER = re.compile(r"[0-9]{1,7}")
MAX_MIN_CYCLES = 1_000_000
WINDOWS = frozenset(Window.values)


class LeaderboardParamsSerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=Window.values, default=DEFAULT_WINDOW.value, help_text="figures window")
    sort = serializers.ChoiceField(choices=list(SORTS), default=DEFAULT_SORT, help_text="column to sort by")
    dir = serializers.ChoiceField(
        choices=["asc", "desc"], required=False, help_text="asc or desc; by default asc for `wallet`, desc for the rest"
    )
    tag = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="only wallets with this tag (empty: any)"
    )
    min_cycles = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_MIN_CYCLES,
        help_text="only wallets with at least this many closed cycles",
    )
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=60, help_text="label contains, or address starts with (empty: all)"
    )

    @classmethod
    def check(cls, request: Request) -> None:
        """Raise ValidationError (400) unless the request's query parameters are all allowed values."""
        if not cls.plainly_valid(request.query_params):
            cls(data=request.query_params).is_valid(raise_exception=True)

    @staticmethod
    def plainly_valid(params: QueryDict) -> bool:
        """True for values the serializer surely allows, checked without it (the serializer costs a
        request ~0.4 ms, against ~0.01 ms); anything else is left to the serializer, for its exact errors."""
        window, sort, direction, tag, min_cycles, search = map(
            params.get, ("window", "sort", "dir", "tag", "min_cycles", "q")
        )
        return (
            (window is None or window in WINDOWS)
            and (sort is None or sort in SORTS)
            and (direction is None or direction in ("asc", "desc"))
            and (tag is None or (len(tag) <= 40 and PRINTABLE_ASCII.fullmatch(tag) is not None))
            and (search is None or (len(search) <= 60 and PRINTABLE_ASCII.fullmatch(search) is not None))
            and (
                min_cycles is None
                or (WHOLE_NUMBER.fullmatch(min_cycles) is not None and int(min_cycles) <= MAX_MIN_CYCLES)
            )
        )
