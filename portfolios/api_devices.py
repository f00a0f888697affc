"""The requesting user's phones registered for push (/api/v1/devices/). A push token is write-only:
it identifies the app install to the push service, and the API never shows it back whole."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from aura.api_fields import StorableText
from portfolios import actions
from portfolios.models import Device

TAGS = ["devices"]


class DeviceSerializer(serializers.ModelSerializer):
    push_token = StorableText(
        write_only=True, max_length=512, help_text="the APNs or FCM token of the app install (never shown back)"
    )
    push_token_ending = serializers.SerializerMethodField(
        help_text="the token's last 6 characters, to tell devices apart"
    )
    name = StorableText(max_length=100, allow_blank=True, required=False, help_text="e.g. Alice's iPhone")

    class Meta:
        model = Device
        fields = ["id", "platform", "name", "push_token", "push_token_ending", "created_at", "last_seen_at"]
        read_only_fields = ["id", "created_at", "last_seen_at"]

    def get_push_token_ending(self, device: Device) -> str:
        return device.push_token[-6:]


class DeviceChangeSerializer(DeviceSerializer):
    class Meta(DeviceSerializer.Meta):
        fields = ["id", "platform", "name", "push_token_ending", "created_at", "last_seen_at"]
        read_only_fields = ["id", "platform", "created_at", "last_seen_at"]


@extend_schema_view(
    list=extend_schema(summary="The requesting user's registered devices"),
    retrieve=extend_schema(summary="A registered device"),
    partial_update=extend_schema(
        summary="Rename a device", request=DeviceChangeSerializer, responses={200: DeviceChangeSerializer}
    ),
    destroy=extend_schema(summary="Unregister a device: it gets no more pushes"),
)
@extend_schema(tags=TAGS)
class DeviceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DeviceSerializer
    queryset = Device.objects.none()
    # Anything up to the slash, so `/devices/1.5/` is this endpoint's JSON 404, not the site's page.
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Device]:
        return Device.objects.filter(user=self.request.user).order_by("-last_seen_at", "-id")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return DeviceChangeSerializer if self.action == "partial_update" else DeviceSerializer

    @extend_schema(
        summary="Register a device for push",
        responses={
            201: DeviceSerializer,
            200: OpenApiResponse(DeviceSerializer, description="the push token was registered before: now the user's"),
        },
        examples=[
            OpenApiExample(
                "an iPhone",
                value={"platform": "ios", "push_token": "f3b1…c9", "name": "Alice's iPhone"},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        incoming = DeviceSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        device, created = actions.register_device(request.user, **incoming.validated_data)
        return Response(
            DeviceSerializer(device).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
