"""The requesting user's private notes and labels on tracked wallets (/api/v1/notes/): nobody else
reads or changes them; another user's note is a 404, as if it did not exist."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from aura.api_fields import Labels, StorableText
from portfolios import actions
from portfolios.models import WalletNote
from whales.api import ADDRESS_ERRORS, AddressField, tracked_wallet_or_404

TAGS = ["notes"]
ADDRESS = OpenApiParameter("address", str, OpenApiParameter.PATH, description="address of a tracked wallet")


class NoteSerializer(serializers.ModelSerializer):
    address = serializers.CharField(source="wallet.address", read_only=True)
    wallet_label = serializers.CharField(source="wallet.label", read_only=True, help_text="the wallet's public label")
    text = StorableText(max_length=5000, allow_blank=True, required=False, help_text="private note")
    labels = Labels(required=False, help_text="private labels (up to 20, 40 characters each)")

    class Meta:
        model = WalletNote
        fields = ["address", "wallet_label", "text", "labels", "created_at", "updated_at"]
        read_only_fields = ["address", "wallet_label", "created_at", "updated_at"]


class NewNoteSerializer(NoteSerializer):
    address = AddressField(help_text="address of a tracked wallet")

    class Meta(NoteSerializer.Meta):
        read_only_fields = ["wallet_label", "created_at", "updated_at"]


EXAMPLE = OpenApiExample(
    "a note",
    value={"address": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", "text": "early on memes", "labels": ["degen"]},
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="The requesting user's notes, most recently changed first"),
    retrieve=extend_schema(summary="The user's note on a wallet", parameters=[ADDRESS]),
    partial_update=extend_schema(summary="Change the note's text or labels", parameters=[ADDRESS]),
    update=extend_schema(summary="Replace the note's text and labels", parameters=[ADDRESS]),
    destroy=extend_schema(summary="Delete the note", parameters=[ADDRESS]),
)
@extend_schema(tags=TAGS)
class NoteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = NoteSerializer
    lookup_field = "address"
    lookup_value_regex = "[^/]+"
    queryset = WalletNote.objects.none()

    def get_queryset(self) -> QuerySet[WalletNote]:
        return WalletNote.objects.filter(user=self.request.user).select_related("wallet").order_by("-updated_at", "-id")

    def get_object(self) -> WalletNote:
        wallet = tracked_wallet_or_404(self.kwargs["address"])
        note = self.get_queryset().filter(wallet=wallet).first()
        if note is None:
            raise exceptions.NotFound("You have no note on this wallet.")
        return note

    def perform_update(self, serializer: NoteSerializer) -> None:
        actions.save_note(self.request.user, serializer.instance.wallet, **serializer.validated_data)

    @extend_schema(
        summary="Write a note on a wallet",
        request=NewNoteSerializer,
        responses={
            201: NoteSerializer,
            200: OpenApiResponse(NoteSerializer, description="the user had a note on it: the given fields replaced"),
            404: ADDRESS_ERRORS[404],
        },
        examples=[EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        """A note on a tracked wallet; writing one on a wallet already noted changes the fields given."""
        incoming = NewNoteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        wallet = tracked_wallet_or_404(fields.pop("address"))
        note, created = actions.save_note(request.user, wallet, **fields)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
