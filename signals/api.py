"""/api/v1/signals/: token signals with their reasons and outcomes, and the per-kind scoreboard.

Thin DRF views over stored rows. Token symbols and names go out verbatim (JSON needs no escaping; a
client putting them into HTML escapes them). Reasons are the engine's, as stored (SIGNALS.md §4).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from signals import selectors
from signals.models import Kind, KindScore, Period, Signal, SignalOutcome


class SignalTokenSerializer(serializers.Serializer):
    mint = serializers.CharField()
    symbol = serializers.CharField()
    name = serializers.CharField()


class SignalWalletSerializer(serializers.Serializer):
    wallet = serializers.CharField(help_text="the wallet's address")
    joined_at = serializers.IntegerField(help_text="unix seconds")
    usd = serializers.CharField(help_text="net USD at join (cluster) or total USD (big trade)")
    win_rate = serializers.CharField(allow_null=True, help_text="its win rate then, 0–1; null: unknown")
    cycles = serializers.IntegerField(allow_null=True, help_text="the rated cycles behind that win rate")


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SignalOutcome
        fields = [
            "price_1h",
            "price_24h",
            "return_1h",
            "return_24h",
            "max_drawdown",
            "hit_1h",
            "hit_24h",
            "complete",
            "measured_at",
        ]


class SignalSerializer(serializers.ModelSerializer):
    token = SignalTokenSerializer()
    wallets = serializers.SerializerMethodField()

    class Meta:
        model = Signal
        fields = [
            "id",
            "kind",
            "token",
            "side",
            "fired_at",
            "updated_at",
            "active_until",
            "score",
            "wallet_count",
            "wallets",
            "price_at_firing",
            "version",
        ]

    @extend_schema_field(SignalWalletSerializer(many=True))
    def get_wallets(self, signal: Signal) -> list[dict]:
        return signal.wallets


class SignalDetailSerializer(SignalSerializer):
    reasons = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()

    class Meta(SignalSerializer.Meta):
        fields = [*SignalSerializer.Meta.fields, "swap_ids", "reasons", "outcome"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_reasons(self, signal: Signal) -> list[dict]:
        return signal.reasons

    @extend_schema_field(OutcomeSerializer(allow_null=True))
    def get_outcome(self, signal: Signal) -> dict | None:
        outcome = SignalOutcome.objects.filter(signal=signal).first()
        return None if outcome is None else OutcomeSerializer(outcome).data


class KindScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = KindScore
        fields = [
            "kind",
            "period",
            "signals",
            "hits_1h",
            "n_1h",
            "rate_1h",
            "low_1h",
            "high_1h",
            "hits_24h",
            "n_24h",
            "rate_24h",
            "low_24h",
            "high_24h",
            "median_return_1h",
            "median_return_24h",
            "updated_at",
        ]


class SignalParamsSerializer(serializers.Serializer):
    """The list's filters, checked: a value the schema does not allow is a 400 naming the parameter (the
    signals page, for people typing URLs, ignores nonsense instead)."""

    kind = serializers.ChoiceField(choices=Kind.values, required=False, allow_blank=True, help_text="only this kind")
    min_score = serializers.IntegerField(
        required=False, min_value=0, max_value=100, help_text="only signals scoring at least this"
    )
    token = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="only this token (mint, or symbol in any case)"
    )


class ScoreboardParamsSerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=Period.values, required=False, allow_blank=True, help_text="only this period (empty: all)"
    )


class SignalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Token signals, newest evidence first; the detail adds reasons, big trades' swaps and the outcome."""

    def get_queryset(self):
        if self.action == "list":
            SignalParamsSerializer(data=self.request.query_params).is_valid(raise_exception=True)
        return selectors.signal_feed(selectors.SignalFilter.from_query(self.request.query_params))

    def get_serializer_class(self):
        return SignalDetailSerializer if self.action == "retrieve" else SignalSerializer

    @extend_schema(parameters=[SignalParamsSerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        responses=KindScoreSerializer(many=True),
        parameters=[ScoreboardParamsSerializer],
    )
    @action(detail=False, pagination_class=None)
    def scoreboard(self, request: Request) -> Response:
        """Per kind and period (7 d, 30 d, all): hit rates at +1 h and +24 h with n and a Wilson 95 %
        interval, and median returns the signalled way (SIGNALS.md §7). Rates null when n is 0."""
        period = ScoreboardParamsSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        rows = KindScore.objects.order_by("period", "kind")
        if period.validated_data.get("period"):
            rows = rows.filter(period=period.validated_data["period"])
        return Response(KindScoreSerializer(rows, many=True).data)
