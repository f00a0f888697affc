"""The requesting user's alerts in the API (/api/v1/alerts/): channels (with a test message), rules, and the
delivery log. Writes go through alerts.actions. A channel's secret (a Discord webhook URL, a webhook's
signing secret) is write-only: no answer carries it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import actions, tasks
from alerts.forms import target_problem
from alerts.models import Channel, Delivery, Rule
from aura.api_fields import StorableText
from aura.api_schema import ErrorSerializer
from aura.pagination import StrictCursorPagination
from whales.api import AddressField
from whales.models import TrackedWallet

# In-app alerts are the browser's, set on the alert settings page; the API adds channels that send messages.
SENDING_KINDS = [choice for choice in Channel.Kind.choices if choice[0] != Channel.Kind.INAPP]


# --- channels ------------------------------------------------------------------------------------


class ChannelSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", help_text="the user's name for it, or its kind's")
    destination = serializers.SerializerMethodField(
        help_text="where it sends, when that is no secret: the email address or the webhook URL (else null)"
    )

    class Meta:
        model = Channel
        fields = ["id", "kind", "name", "destination", "state", "failing_since", "last_error", "created_at"]
        read_only_fields = fields

    def get_destination(self, channel: Channel) -> str | None:
        return channel.config.get("address") or channel.config.get("url") or None


class NewChannelSerializer(ChannelSerializer):
    telegram_link = serializers.SerializerMethodField(
        help_text="Telegram only: open it and press Start to link a chat (a one-time code, valid an hour)"
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "telegram_link"]
        read_only_fields = fields

    def get_telegram_link(self, channel: Channel) -> str | None:
        return self.context.get("telegram_link") or None


class ChannelCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SENDING_KINDS)
    name = StorableText(max_length=100, allow_blank=True, required=False, default="", help_text="your name for it")
    target = StorableText(
        max_length=500,
        allow_blank=True,
        required=False,
        default="",
        help_text="email: the address; discord: the channel's webhook URL (write-only: its token is the "
        "credential); webhook: the URL to POST to; telegram: empty, link a chat with `telegram_link`",
    )
    secret = StorableText(
        write_only=True,
        min_length=16,
        max_length=200,
        required=False,
        help_text="webhook only, required: the signing secret of its requests (write-only, never shown back)",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        kind, target = data["kind"], data["target"].strip()
        problem = target_problem(kind, target)
        if problem:
            raise serializers.ValidationError({"target": [problem]})
        if kind == Channel.Kind.WEBHOOK and not data.get("secret"):
            raise serializers.ValidationError({"secret": ["A webhook needs its signing secret."]})
        return {**data, "target": target}


class TestQueuedSerializer(serializers.Serializer):
    delivery = serializers.IntegerField(help_text="the test's delivery: follow it in the delivery log")
    status = serializers.ChoiceField(choices=[Delivery.Status.QUEUED])


@extend_schema_view(
    list=extend_schema(summary="The requesting user's alert channels"),
    retrieve=extend_schema(summary="An alert channel"),
    destroy=extend_schema(summary="Delete an alert channel: its rules stay, routed to their other channels"),
)
@extend_schema(tags=["alerts"])
class ChannelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ChannelSerializer
    queryset = Channel.objects.none()
    # Anything up to the slash, so `/channels/1.5/` is this endpoint's JSON 404, not the site's page.
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Channel]:
        return Channel.objects.filter(user=self.request.user).order_by("created_at", "id")

    @extend_schema(
        summary="Add an alert channel",
        request=ChannelCreateSerializer,
        responses={201: NewChannelSerializer},
        examples=[
            OpenApiExample(
                "a Discord channel",
                value={"kind": "discord", "name": "Team", "target": "https://discord.com/api/webhooks/1/token"},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        incoming = ChannelCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        channel, shown = actions.add_channel(
            request.user, data["kind"], data["name"], data["target"], data.get("secret", "")
        )
        link = shown if channel.kind == Channel.Kind.TELEGRAM else ""
        return Response(
            NewChannelSerializer(channel, context={"telegram_link": link}).data, status=status.HTTP_201_CREATED
        )

    def perform_destroy(self, channel: Channel) -> None:
        actions.delete_channel(channel)

    @extend_schema(
        summary='Send the channel a test message (queued, as the page\'s "send test" does)',
        request=None,
        responses={
            202: TestQueuedSerializer,
            400: OpenApiResponse(ErrorSerializer, description="the channel cannot send yet (a Telegram chat to link)"),
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        channel = self.get_object()
        if not channel.usable:
            return Response(
                {"detail": f"{channel.display_name} cannot send yet (link it first)."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        with transaction.atomic():
            delivery_id = actions.send_test(channel)
            transaction.on_commit(lambda: tasks.enqueue_send(delivery_id))
        return Response({"delivery": delivery_id, "status": Delivery.Status.QUEUED}, status=status.HTTP_202_ACCEPTED)


# --- rules ---------------------------------------------------------------------------------------


class OwnChannelField(serializers.PrimaryKeyRelatedField):
    """The id of one of the requesting user's channels; another's is refused as if it did not exist."""

    def get_queryset(self) -> QuerySet[Channel]:
        return Channel.objects.filter(user=self.context["request"].user)


@extend_schema_field(OpenApiTypes.STR)
class TrackedWalletField(serializers.RelatedField):
    """A tracked wallet, by address."""

    queryset = TrackedWallet.objects.all()
    default_error_messages = {"untracked": "No tracked wallet has this address."}

    def to_internal_value(self, data: object) -> TrackedWallet:
        address = AddressField().run_validation(data)
        wallet = TrackedWallet.objects.filter(address=address).first()
        if wallet is None:
            self.fail("untracked")
        return wallet

    def to_representation(self, wallet: TrackedWallet) -> str:
        return wallet.address


class RuleSerializer(serializers.ModelSerializer):
    name = StorableText(max_length=100, allow_blank=True, required=False)
    token_mint = AddressField(allow_blank=True, required=False, help_text="one token's mint, or empty: any token")
    signal_kinds = serializers.ListField(
        child=StorableText(max_length=40), max_length=20, required=False, help_text="signal kinds; empty: every kind"
    )
    signal_mints = serializers.ListField(
        child=AddressField(), max_length=50, required=False, help_text="token mints; empty: every token"
    )
    chosen_wallets = TrackedWalletField(
        many=True, required=False, help_text="addresses of tracked wallets, when `wallets` is `chosen`"
    )
    channels = OwnChannelField(many=True, allow_empty=False, help_text="ids of the user's channels it alerts on")

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "is_active",
            "trigger",
            "wallets",
            "chosen_wallets",
            "side",
            "min_usd",
            "token_mint",
            "signal_kinds",
            "min_score",
            "signal_mints",
            "channels",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def create(self, data: dict[str, Any]) -> Rule:
        channels, wallets = data.pop("channels"), data.pop("chosen_wallets", [])
        return actions.save_rule(Rule(user=self.context["request"].user, **data), channels, wallets)

    def update(self, rule: Rule, data: dict[str, Any]) -> Rule:
        channels, wallets = data.pop("channels", None), data.pop("chosen_wallets", None)
        for field, value in data.items():
            setattr(rule, field, value)
        return actions.save_rule(rule, channels, wallets)


@extend_schema_view(
    list=extend_schema(summary="The requesting user's alert rules"),
    create=extend_schema(summary="Add an alert rule, routed to some of the user's channels"),
    retrieve=extend_schema(summary="An alert rule"),
    partial_update=extend_schema(summary="Change an alert rule (only the fields sent)"),
    destroy=extend_schema(summary="Delete an alert rule (its deliveries stay in the log)"),
)
@extend_schema(tags=["alerts"])
class RuleViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RuleSerializer
    queryset = Rule.objects.none()
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Rule]:
        return (
            Rule.objects.filter(user=self.request.user)
            .prefetch_related("channels", "chosen_wallets")
            .order_by("created_at", "id")
        )

    def perform_destroy(self, rule: Rule) -> None:
        actions.delete_rule(rule)


# --- the delivery log ----------------------------------------------------------------------------


class DeliverySerializer(serializers.ModelSerializer):
    channel_name = serializers.CharField(source="channel.display_name", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "channel",
            "channel_name",
            "rule",
            "kind",
            "event_key",
            "summary",
            "status",
            "held",
            "held_until",
            "attempts",
            "block_time",
            "ingested_at",
            "queued_at",
            "sent_at",
            "answered_at",
            "answer_status",
            "answer",
        ]
        read_only_fields = fields


class DeliveryPagination(StrictCursorPagination):
    """Newest first; `next` pages back through older deliveries."""

    ordering = ("-queued_at", "-id")
    page_size = 50


@extend_schema_view(
    list=extend_schema(summary="The requesting user's delivery log, newest first"),
    retrieve=extend_schema(summary="One delivery of the log"),
)
@extend_schema(tags=["alerts"])
class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DeliverySerializer
    queryset = Delivery.objects.none()
    pagination_class = DeliveryPagination
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Delivery]:
        return Delivery.objects.filter(user=self.request.user).select_related("channel")
