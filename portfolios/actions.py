"""Writes of the portfolios app: follows."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from portfolios.models import Follow
from whales.models import TrackedWallet


def set_following(user: AbstractBaseUser, wallet: TrackedWallet, follow: bool) -> bool:
    """Follow or unfollow; returns whether the user follows the wallet afterwards."""
    if follow:
        Follow.objects.get_or_create(user=user, wallet=wallet)
    else:
        Follow.objects.filter(user=user, wallet=wallet).delete()
    return follow
