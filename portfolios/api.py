"""The read API (v1) of the requesting user's follows; writes go through portfolios.actions."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from portfolios import actions
from portfolios.models import Follow
from whales.api import ADDRESS_ERRORS, AddressField, tracked_wallet_or_404


class FollowSerializer(serializers.ModelSerializer):
    address = serializers.CharField(source="wallet.address", read_only=True)
    label = serializers.CharField(source="wallet.label", read_only=True)
    followed_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Follow
        fields = ["address", "label", "followed_at"]
        read_only_fields = fields


class FollowRequestSerializer(serializers.Serializer):
    address = AddressField(help_text="address of a tracked wallet")


ADDRESS_PARAMETER = OpenApiParameter("address", str, OpenApiParameter.PATH, description="address of a tracked wallet")


class FollowViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The wallets the requesting user follows, most recently followed first. Nobody sees another's."""

    serializer_class = FollowSerializer
    lookup_field = "address"
    lookup_value_regex = "[^/]+"
    queryset = Follow.objects.none()

    def get_queryset(self) -> QuerySet[Follow]:
        return Follow.objects.filter(user=self.request.user).select_related("wallet").order_by("-created_at", "-id")

    @extend_schema(
        request=FollowRequestSerializer,
        responses={
            201: FollowSerializer,
            200: OpenApiResponse(FollowSerializer, description="already followed: nothing changed"),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="not a Solana address (`address` says why)"),
            404: ADDRESS_ERRORS[404],
        },
    )
    def create(self, request: Request) -> Response:
        """Follow a tracked wallet. Idempotent: following it again changes nothing (200 instead of 201)."""
        incoming = FollowRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        wallet = tracked_wallet_or_404(incoming.validated_data["address"])
        already = self.get_queryset().filter(wallet=wallet).exists()
        actions.set_following(request.user, wallet, True)
        follow = self.get_queryset().get(wallet=wallet)
        return Response(
            FollowSerializer(follow).data, status=status.HTTP_200_OK if already else status.HTTP_201_CREATED
        )

    @extend_schema(parameters=[ADDRESS_PARAMETER], responses={204: None, **ADDRESS_ERRORS})
    def destroy(self, request: Request, address: str) -> Response:
        """Stop following a tracked wallet; harmless when the user did not follow it."""
        actions.set_following(request.user, tracked_wallet_or_404(address), False)
        return Response(status=status.HTTP_204_NO_CONTENT)
