"""Signing in from a phone: JWT access and refresh tokens (djangorestframework-simplejwt), and who is signed in.

A refresh hands out a new refresh token and blacklists the one it used (settings.SIMPLE_JWT), so a
refresh token works once; signing out blacklists it. Failed sign-ins count towards the same lockout
as the login forms (aura.lockout), and every endpoint here is limited per IP address.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenViewBase

from aura import lockout
from aura.api_schema import ErrorSerializer
from aura.api_throttling import RequestsPerAddress

TAGS = ["auth"]


class SignInLocked(exceptions.Throttled):
    """Too many failed sign-ins from this address or for this account: 429, `Retry-After`, the lockout's words."""

    def __init__(self, seconds: int, what: str) -> None:
        super().__init__(wait=seconds, detail=lockout.locked_message(seconds, what))


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True, help_text="JWT for `Authorization: Bearer`, valid for minutes")
    refresh = serializers.CharField(read_only=True, help_text="JWT to get new tokens with; works once")


class SignInSerializer(TokenObtainPairSerializer):
    """username and password (write-only); answers a token pair."""


class RefreshSerializer(TokenRefreshSerializer):
    """A refresh token; answers a new pair (the refresh token given is blacklisted)."""


class RevokeSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True, help_text="the refresh token to blacklist")


BAD_TOKEN = OpenApiResponse(ErrorSerializer, description="the token is invalid, expired or blacklisted")


class _TokenEndpoint(TokenViewBase):
    permission_classes = [permissions.AllowAny]
    throttle_classes = [RequestsPerAddress]


@extend_schema(
    tags=TAGS,
    request=SignInSerializer,
    responses={
        200: TokenPairSerializer,
        401: OpenApiResponse(ErrorSerializer, description="wrong username or password"),
        429: OpenApiResponse(
            ErrorSerializer, description="too many requests or failed sign-ins: wait `Retry-After` seconds"
        ),
    },
    examples=[OpenApiExample("sign in", value={"username": "alice", "password": "correct horse"}, request_only=True)],
)
class ObtainTokens(_TokenEndpoint):
    """Sign in: a username and password for an access and a refresh token."""

    serializer_class = SignInSerializer

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        attempt = request._request
        username = request.data.get("username") if hasattr(request.data, "get") else None
        attempt.sign_in_username = username if isinstance(username, str) else ""
        locked = lockout.seconds_locked(attempt)
        if locked is not None:
            raise SignInLocked(*locked)
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except exceptions.AuthenticationFailed:
            lockout.count_failure(attempt)
            raise
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


@extend_schema(tags=TAGS, request=RefreshSerializer, responses={200: TokenPairSerializer, 401: BAD_TOKEN})
class RefreshTokens(_TokenEndpoint):
    """A new access and refresh token for a refresh token, which is blacklisted from then on."""

    serializer_class = RefreshSerializer


class RevokeToken(APIView):
    """Sign out: blacklist a refresh token (no new access token can be had with it)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [RequestsPerAddress]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # without one, DRF would turn the 401 of a bad token into a 403

    @extend_schema(tags=TAGS, request=RevokeSerializer, responses={204: None, 401: BAD_TOKEN})
    def post(self, request: Request) -> Response:
        incoming = RevokeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            RefreshToken(incoming.validated_data["refresh"]).blacklist()
        except TokenError as error:
            raise InvalidToken(error.args[0]) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeAllTokens(APIView):
    """Sign out everywhere: blacklist every refresh token the requesting user was given."""

    throttle_classes = [RequestsPerAddress]

    @extend_schema(tags=TAGS, request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        outstanding = OutstandingToken.objects.filter(user=request.user, blacklistedtoken__isnull=True)
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="empty when the user has none")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name", "is_staff", "date_joined"]
        read_only_fields = fields


@extend_schema(tags=TAGS)
class Me(generics.RetrieveAPIView):
    """The signed-in user."""

    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user
