"""Writes of the portfolios app: follows and alert preferences."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from portfolios.models import AlertPreference, Follow
from whales.models import TrackedWallet


def set_following(user: AbstractBaseUser, wallet: TrackedWallet, follow: bool) -> bool:
    """Follow or unfollow; returns whether the user follows the wallet afterwards."""
    if follow:
        Follow.objects.get_or_create(user=user, wallet=wallet)
    else:
        Follow.objects.filter(user=user, wallet=wallet).delete()
    return follow


def preferences_of(user: AbstractBaseUser) -> AlertPreference:
    """The user's alert preferences (unsaved defaults, alerts off, when they never chose)."""
    return AlertPreference.objects.filter(user=user).first() or AlertPreference(user=user)
