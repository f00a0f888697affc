"""What each user follows (how they want to be alerted lives in the alerts app)."""

from __future__ import annotations

from collections.abc import Iterable

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

    @classmethod
    def followers_of(cls, wallet_ids: Iterable[int]) -> dict[int, list[int]]:
        """wallet id → ids of the users following it (wallets nobody follows are absent)."""
        followers: dict[int, list[int]] = {}
        for wallet_id, user_id in cls.objects.filter(wallet_id__in=list(wallet_ids)).values_list(
            "wallet_id", "user_id"
        ):
            followers.setdefault(wallet_id, []).append(user_id)
        return followers
