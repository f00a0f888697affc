"""What each user follows and how they want to be alerted."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
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


class AlertPreference(models.Model):
    """A user's alert settings; a user without a row gets the defaults (alerts off)."""

    class Scope(models.TextChoices):
        ALL = "all", "every tracked wallet"
        FOLLOWED = "followed", "only wallets I follow"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference")
    desktop_notifications = models.BooleanField(default=False)
    sound = models.BooleanField(default=False)
    min_usd = models.DecimalField(
        "minimum swap size (USD)",
        max_digits=14,
        decimal_places=2,
        default=Decimal("10000"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ALL)

    def __str__(self) -> str:
        return f"alerts of {self.user}"

    @property
    def enabled(self) -> bool:
        return self.desktop_notifications or self.sound
