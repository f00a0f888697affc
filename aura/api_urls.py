"""/api/v1/: the API of the mobile app (aura/api_auth.py, whales/api*.py, portfolios/api*.py,
alerts/api.py) and its OpenAPI 3 schema; Swagger UI and Redoc read it at /api/docs/ and /api/redoc/ (aura/urls.py)."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView, DefaultRouter

from alerts.api import ChannelViewSet, DeliveryViewSet, RuleViewSet
from aura.api_auth import Me, ObtainTokens, RefreshTokens, RevokeAllTokens, RevokeToken
from portfolios.api import FollowViewSet
from portfolios.api_devices import DeviceViewSet
from portfolios.api_notes import NoteViewSet
from signals.api import SignalViewSet
from whales.api import LeaderboardViewSet, SwapViewSet, TokenViewSet, WalletViewSet
from whales.api_admin import StaffWalletViewSet
from whales.api_prices import TokenPriceHistory


class APIRoot(APIRootView):
    """AURA's API, version 1: the endpoints below (`wallets` and `tokens` are read by address
    or mint), and `schema`, the OpenAPI 3 document describing every one of them (YAML; `schema_json`
    is the same as JSON)."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        root = reverse("api-root", request=request)
        schema = reverse("api-schema", request=request)
        # Endpoints read by key have no list to link: their address, with the key to fill in.
        response.data.update(
            me=reverse("api-me", request=request),
            token=reverse("api-token-obtain", request=request),
            wallets=f"{root}wallets/{{address}}/",
            tokens=f"{root}tokens/{{mint}}/",
            schema=schema,
            schema_json=f"{schema}?format=json",
        )
        return response


def not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "No endpoint has this address."}, status=404)


class Router(DefaultRouter):
    # `.json` suffixes would make `wallets/<anything>/` ambiguous; `?format=` still works.
    include_format_suffixes = False
    APIRootView = APIRoot


router = Router()
router.register("leaderboard", LeaderboardViewSet, basename="api-leaderboard")
router.register("wallets", WalletViewSet, basename="api-wallet")
router.register("swaps", SwapViewSet, basename="api-swap")
router.register("tokens", TokenViewSet, basename="api-token")
router.register("follows", FollowViewSet, basename="api-follow")
router.register("notes", NoteViewSet, basename="api-note")
router.register("devices", DeviceViewSet, basename="api-device")
router.register("admin/wallets", StaffWalletViewSet, basename="api-staff-wallet")
router.register("signals", SignalViewSet, basename="api-signal")
router.register("alerts/channels", ChannelViewSet, basename="api-alert-channel")
router.register("alerts/rules", RuleViewSet, basename="api-alert-rule")
router.register("alerts/deliveries", DeliveryViewSet, basename="api-alert-delivery")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("auth/token/", ObtainTokens.as_view(), name="api-token-obtain"),
    path("auth/token/refresh/", RefreshTokens.as_view(), name="api-token-refresh"),
    path("auth/token/revoke/", RevokeToken.as_view(), name="api-token-revoke"),
    path("auth/token/revoke-all/", RevokeAllTokens.as_view(), name="api-token-revoke-all"),
    path("me/", Me.as_view(), name="api-me"),
    path("tokens/<str:mint>/prices/", TokenPriceHistory.as_view(), name="api-token-prices"),
    *router.urls,
    # Any other address under /api/v1/ is the API's JSON 404, not the site's HTML page.
    re_path(r"^.*$", not_found),
]
