"""What each user follows (how they want to be alerted lives in the alerts app)."""

from __future__ import annotations

from django.conf import settings
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
