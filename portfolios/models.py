"""What each user follows (how they want to be alerted lives in the alerts app)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Follow(models.Model):
    """`user` follows `wallet`: its swaps also reach the user's own group (and alerts, if they choose)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    wallet = models.ForeignKey("whales.TrackedWallet", on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "wallet"], name="follow_once")]

    def __str__(self) -> str:
        return f"{self.user} follows {self.wallet}"


class WalletNote(models.Model):
    """A user's private note and labels on a tracked wallet: nobody else reads them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet_notes")
    wallet = models.ForeignKey("whales.TrackedWallet", on_delete=models.CASCADE, related_name="private_notes")
    text = models.TextField(blank=True, max_length=5000)
    labels = ArrayField(models.CharField(max_length=40), default=list, blank=True, size=20)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "wallet"], name="one_note_per_user_and_wallet")]

    def __str__(self) -> str:
        return f"{self.user}'s note on {self.wallet}"


class Device(models.Model):
    """A phone registered by a user for push notifications. A push token names one app install: when
    another user signs in on it and registers it, it becomes theirs."""

    class Platform(models.TextChoices):
        IOS = "ios", "iOS (APNs)"
        ANDROID = "android", "Android (FCM)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    push_token = models.CharField(max_length=512, unique=True)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.get_platform_display()} device of {self.user}"
