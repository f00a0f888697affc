"""/api/v1/: the read API for the mobile app (whales/api.py, portfolios/api.py) and its OpenAPI 3 schema.

No Swagger or Redoc page: drf-spectacular's UIs load their assets from a CDN, and AURA serves nothing from one.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from portfolios.api import FollowViewSet
from whales.api import LeaderboardViewSet, SwapViewSet, TokenViewSet, WalletViewSet


class Router(DefaultRouter):
    # `.json` suffixes would make `wallets/<anything>/` ambiguous; `?format=` still works.
    include_format_suffixes = False


router = Router()
router.register("leaderboard", LeaderboardViewSet, basename="api-leaderboard")
router.register("wallets", WalletViewSet, basename="api-wallet")
router.register("swaps", SwapViewSet, basename="api-swap")
router.register("tokens", TokenViewSet, basename="api-token")
router.register("follows", FollowViewSet, basename="api-follow")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    *router.urls,
]
