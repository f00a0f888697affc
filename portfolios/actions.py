"""Writes of the portfolios app: follows, private notes on wallets, devices for push."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from portfolios.models import Device, Follow, WalletNote
from whales.models import TrackedWallet


def set_following(user: AbstractBaseUser, wallet: TrackedWallet, follow: bool) -> bool:
    """Follow or unfollow; returns whether the user follows the wallet afterwards."""
    if follow:
        Follow.objects.get_or_create(user=user, wallet=wallet)
    else:
        Follow.objects.filter(user=user, wallet=wallet).delete()
    return follow


def save_note(user: AbstractBaseUser, wallet: TrackedWallet, **fields: object) -> tuple[WalletNote, bool]:
    """Write the user's note on `wallet` (`text`, `labels`: only those given change); (note, created)."""
    note, created = WalletNote.objects.get_or_create(user=user, wallet=wallet, defaults=fields)
    if not created and fields:
        for name, value in fields.items():
            setattr(note, name, value)
        note.save(update_fields=[*fields, "updated_at"])
    return note, created


def register_device(user: AbstractBaseUser, platform: str, push_token: str, name: str = "") -> tuple[Device, bool]:
    """Register a phone for push; (device, created). A push token registered before (by this user or
    another one who used the same app install) is the user's from now on."""
    device, created = Device.objects.update_or_create(
        push_token=push_token, defaults={"user": user, "platform": platform, "name": name}
    )
    return device, created
