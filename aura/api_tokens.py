"""Scripts' API tokens (`Authorization: Token <key>`, made in the admin), looked up by a query built once.

Its own module, not aura.api_auth: rest_framework.views loads the authentication classes of the
settings while it is being imported, and aura.api_auth imports rest_framework.views.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from aura.prepared import Bind, Prepared


def _token_with_its_user():
    from rest_framework.authtoken.models import Token  # a model: not before the apps are loaded

    return Token.objects.select_related("user").filter(key=Bind("key", CharField()))[:1]


TOKEN_WITH_ITS_USER = Prepared(_token_with_its_user)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, the same answers for a bad or unknown token; the lookup's SQL is
    built once per process instead of at every request."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = TOKEN_WITH_ITS_USER.first(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
