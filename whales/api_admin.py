"""Staff manage the tracked wallets through the API (/api/v1/admin/wallets/) as they do in the admin:
add one, import many (CSV or JSON, an outcome per row), activate or deactivate, backfill again.

Thin adapters over whales.actions (the admin's own import function included). Anyone else: 403;
nobody signed in: 401.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from aura.api_fields import Labels, StorableText
from aura.api_schema import ErrorSerializer
from whales import wallets as tracked_wallets
from whales.admin import CSV_MAX_BYTES, CsvImportForm
from whales.api import AddressField, tracked_wallet_or_404
from whales.models import TrackedWallet

TAGS = ["staff: tracked wallets"]
MAX_IMPORT_ROWS = 5000
ADDRESS = OpenApiParameter("address", str, OpenApiParameter.PATH, description="address of a tracked wallet")


class StaffWalletSerializer(serializers.ModelSerializer):
    backfill_progress = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="percent of the backfill window covered; null before it starts"
    )

    class Meta:
        model = TrackedWallet
        fields = [
            "address",
            "label",
            "tags",
            "is_active",
            "created_at",
            "last_swap_at",
            "last_polled_at",
            "last_error",
            "backfill_state",
            "backfill_progress",
        ]
        read_only_fields = fields


class NewWalletSerializer(serializers.Serializer):
    address = AddressField(help_text="Solana address of the wallet to track")
    label = StorableText(max_length=100, allow_blank=True, required=False)
    tags = Labels(required=False, help_text="up to 20 tags, 40 characters each")


class ImportOutcomeSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="CSV line, or position in the JSON list from 1")
    address = serializers.CharField()
    status = serializers.ChoiceField(choices=["added", "updated", "duplicate", "error"])
    message = serializers.CharField(allow_blank=True)


class ImportResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.IntegerField()
    rows = ImportOutcomeSerializer(many=True)


class ImportRowSerializer(serializers.Serializer):
    address = serializers.CharField(allow_blank=True, max_length=200)
    label = StorableText(max_length=100, allow_blank=True, required=False)
    tags = Labels(required=False)


class JsonImportSerializer(serializers.Serializer):
    wallets = ImportRowSerializer(many=True, max_length=MAX_IMPORT_ROWS)


class CsvUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header row: address,label,tags (tags separated by ; or ,)")


class CsvTextParser(parsers.BaseParser):
    """A CSV file sent as the body itself (`Content-Type: text/csv`)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, Any]:
        body = stream.read(CSV_MAX_BYTES + 1) if stream is not None else b""
        return {"file": SimpleUploadedFile("wallets.csv", body, content_type="text/csv")}


def import_result(outcomes: list[tracked_wallets.ImportRow]) -> dict[str, Any]:
    count = {
        kind: sum(outcome.status == kind for outcome in outcomes) for kind in ("added", "updated", "duplicate", "error")
    }
    return {
        "added": count["added"],
        "updated": count["updated"],
        "duplicates": count["duplicate"],
        "errors": count["error"],
        "rows": [vars(outcome) for outcome in outcomes],
    }


def _wallet_response(address: str) -> Response:
    return Response(StaffWalletSerializer(TrackedWallet.objects.get(address=address)).data)


@extend_schema_view(list=extend_schema(summary="Every tracked wallet, active or not, newest first"))
@extend_schema(tags=TAGS)
class StaffWalletViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAdminUser]
    serializer_class = StaffWalletSerializer
    queryset = TrackedWallet.objects.none()
    lookup_field = "address"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[TrackedWallet]:
        return TrackedWallet.objects.order_by("-created_at", "-id")

    @extend_schema(
        summary="Track a wallet",
        request=NewWalletSerializer,
        responses={
            201: StaffWalletSerializer,
            200: OpenApiResponse(StaffWalletSerializer, description="already tracked: label and tags updated"),
        },
        examples=[
            OpenApiExample(
                "a wallet",
                value={
                    "address": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
                    "label": "Whale A",
                    "tags": ["memes"],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        """Track a wallet: its backfill starts and it joins the Helius webhook."""
        incoming = NewWalletSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row = {**incoming.validated_data, "tags": ",".join(incoming.validated_data.get("tags", []))}
        [outcome] = tracked_wallets.import_wallets([(1, row)], added_by=request.user)
        response = _wallet_response(outcome.address)
        response.status_code = status.HTTP_201_CREATED if outcome.status == "added" else status.HTTP_200_OK
        return response

    @extend_schema(
        summary="Import wallets (CSV or JSON)",
        request={
            "multipart/form-data": CsvUploadSerializer,
            "text/csv": OpenApiTypes.STR,
            "application/json": JsonImportSerializer,
        },
        responses={200: ImportResultSerializer},
        examples=[
            OpenApiExample(
                "JSON rows",
                value={"wallets": [{"address": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", "label": "A"}]},
                request_only=True,
                media_type="application/json",
            ),
            OpenApiExample(
                "CSV",
                value="address,label,tags\n9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin,Whale A,memes;early\n",
                request_only=True,
                media_type="text/csv",
            ),
        ],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[parsers.MultiPartParser, CsvTextParser, parsers.JSONParser],
    )
    def import_wallets(self, request: Request) -> Response:
        """Track many wallets at once: each row is added, updated (already tracked: label and tags
        merged), a duplicate of an earlier row, or refused with the reason; the valid rows are kept
        whatever the others say."""
        if request.content_type.startswith("application/json"):
            incoming = JsonImportSerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            rows = [
                (n, {**row, "tags": ",".join(row.get("tags", []))})
                for n, row in enumerate(incoming.validated_data["wallets"], start=1)
            ]
        else:
            form = CsvImportForm(files=request.data if "file" in request.data else {})
            if not form.is_valid():
                raise exceptions.ValidationError({"file": form.errors["file"]})
            rows = form.cleaned_data["file"]
            if len(rows) > MAX_IMPORT_ROWS:
                raise exceptions.ValidationError({"file": [f"At most {MAX_IMPORT_ROWS} rows at a time."]})
        return Response(import_result(tracked_wallets.import_wallets(rows, added_by=request.user)))

    def _set_active(self, address: str, active: bool) -> Response:
        wallet = tracked_wallet_or_404(address)
        tracked_wallets.set_active([wallet.id], active)
        return _wallet_response(wallet.address)

    @extend_schema(
        summary="Activate: polled, on the webhook and the leaderboard again",
        parameters=[ADDRESS],
        request=None,
        responses={200: StaffWalletSerializer},
    )
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, address: str) -> Response:
        return self._set_active(address, True)

    @extend_schema(
        summary="Deactivate: no more polling, off the webhook and the leaderboard",
        parameters=[ADDRESS],
        request=None,
        responses={200: StaffWalletSerializer},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, address: str) -> Response:
        return self._set_active(address, False)

    @extend_schema(
        summary="Backfill the wallet's history again",
        parameters=[ADDRESS],
        request=None,
        responses={
            202: OpenApiResponse(StaffWalletSerializer, description="the backfill is queued"),
            409: OpenApiResponse(ErrorSerializer, description="the wallet is inactive: activate it first"),
        },
    )
    @action(detail=True, methods=["post"])
    def backfill(self, request: Request, address: str) -> Response:
        wallet = tracked_wallet_or_404(address)
        if not wallet.is_active:
            raise Conflict("The wallet is inactive: activate it first.")
        tracked_wallets.restart_backfill(wallet)
        response = _wallet_response(wallet.address)
        response.status_code = status.HTTP_202_ACCEPTED
        return response


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"
