"""The leaderboard endpoint's query parameters, checked: a value the schema does not allow is a 400
naming the parameter (the dashboard's page, for people typing URLs, falls back to its defaults instead)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request

from whales.models import Window
from whales.selectors import DEFAULT_SORT, DEFAULT_WINDOW, SORTS


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
        required=False, min_value=0, max_value=1_000_000, help_text="only wallets with at least this many closed cycles"
    )
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=60, help_text="label contains, or address starts with (empty: all)"
    )

    @classmethod
    def check(cls, request: Request) -> None:
        """Raise ValidationError (400) unless the request's query parameters are all allowed values."""
        cls(data=request.query_params).is_valid(raise_exception=True)
