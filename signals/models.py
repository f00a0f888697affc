"""Token signals as stored: what fired, on what evidence, why, and what the price did after.

The engine (`signals.scoring`) decides; these rows keep its verdicts. One active signal per
(token, kind) — per (token, wallet, side) for a big trade — is the engine's rule: later evidence
updates the row (`updated_at`, wallets, score, reasons) instead of adding one, until `active_until`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.db import models
from django.utils import timezone

from signals import scoring
from whales.models import PRICE, USD, Token

RATIO = {"max_digits": 30, "decimal_places": 12}


class Kind(models.TextChoices):
    WHALE_ACCUMULATION = scoring.WHALE_ACCUMULATION, "whale accumulation"
    WHALE_DISTRIBUTION = scoring.WHALE_DISTRIBUTION, "whale distribution"
    BIG_TRADE = scoring.BIG_TRADE, "big trade"
    MOMENTUM = scoring.MOMENTUM, "momentum"
    NEW_LISTING = scoring.NEW_LISTING, "new listing"


class Signal(models.Model):
    """One signal of `kind` on `token` (SIGNALS.md §4).

    `wallet` and `side` are part of what a big trade is about ("" for the others; `side` is also set
    for clusters). `wallets` holds the engine's wallets as they entered (address, joined_at, usd, and
    win rate and cycles at that moment); `reasons` the engine's reasons, as data. `price_at_firing`:
    the token's USD price when it fired, None while unknown (no stored price near that moment yet).
    """

    kind = models.CharField(max_length=24, choices=Kind.choices)
    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="signals")
    side = models.CharField(max_length=4, blank=True)
    wallet = models.CharField(max_length=44, blank=True, help_text="a big trade's wallet")
    fired_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    active_until = models.DateTimeField(help_text="until then, later evidence updates this signal")
    score = models.PositiveSmallIntegerField()
    wallet_count = models.PositiveIntegerField(default=0)
    wallets = models.JSONField(default=list)
    swap_ids = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    version = models.CharField(max_length=8, default=scoring.SIGNALS_VERSION)
    price_at_firing = models.DecimalField(**PRICE, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "token", "wallet", "side", "fired_at"], name="signal_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="signal_feed"),
            models.Index(fields=["kind", "-updated_at"], name="signal_by_kind"),
            models.Index(fields=["token", "kind", "-fired_at"], name="signal_by_token"),
            models.Index(fields=["fired_at"], name="signal_fired"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.token}"

    @property
    def direction(self) -> str:
        return scoring.direction_of(self.kind, self.side or None)

    def is_active(self, now: datetime) -> bool:
        return now < self.active_until

    def as_engine(self) -> scoring.Signal:
        """The engine's signal this row stores (token by mint)."""
        return scoring.Signal.from_dict(
            {
                "kind": self.kind,
                "token": self.token.mint,
                "side": self.side or None,
                "fired_at": unix(self.fired_at),
                "updated_at": unix(self.updated_at),
                "wallets": self.wallets,
                "swap_ids": self.swap_ids,
                "score": self.score,
                "reasons": self.reasons,
            }
        )

    def wallet_rows(self) -> list[dict]:
        """Its wallets for display: address, USD (net at join for a cluster, total for a big trade),
        win rate (fraction or None) and cycles at the moment it joined."""
        rows = []
        for item in self.wallets:
            win_rate = item.get("win_rate")
            rows.append(
                {
                    "address": item["wallet"],
                    "usd": Decimal(item["usd"]),
                    "win_rate": None if win_rate is None else Decimal(win_rate),
                    "cycles": item.get("cycles"),
                    "joined_at": datetime.fromtimestamp(item["joined_at"], UTC),
                }
            )
        return rows

    def score_reasons(self) -> list[dict]:
        return [reason for reason in self.reasons if reason.get("reason") == "score"]

    def safety_reasons(self) -> list[dict]:
        return [reason for reason in self.reasons if reason.get("reason") == "safety"]

    def promotion(self) -> dict | None:
        """The DexScreener boost shown as paid promotion, None when there was none."""
        return next((reason for reason in self.reasons if reason.get("reason") == "paid_promotion"), None)


class SignalOutcome(models.Model):
    """What the price did after a signal (SIGNALS.md §7): None = not known (yet).

    `complete` once the +24 h mark is measured or has passed for good (no price came near it).
    """

    signal = models.OneToOneField(Signal, on_delete=models.CASCADE, primary_key=True, related_name="outcome")
    kind = models.CharField(max_length=24, choices=Kind.choices, help_text="the signal's, for the scoreboard")
    fired_at = models.DateTimeField()
    price_1h = models.DecimalField(**PRICE, null=True, blank=True)
    price_24h = models.DecimalField(**PRICE, null=True, blank=True)
    return_1h = models.DecimalField(**RATIO, null=True, blank=True)
    return_24h = models.DecimalField(**RATIO, null=True, blank=True)
    max_drawdown = models.DecimalField(**RATIO, null=True, blank=True)
    hit_1h = models.BooleanField(null=True, blank=True)
    hit_24h = models.BooleanField(null=True, blank=True)
    complete = models.BooleanField(default=False)
    measured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "fired_at"], name="outcome_by_kind")]

    def __str__(self) -> str:
        return f"outcome of {self.signal_id}"


class Period(models.TextChoices):
    WEEK = "7d", "7 days"
    MONTH = "30d", "30 days"
    ALL = "all", "all time"


class KindScore(models.Model):
    """How one kind did over one period, refreshed with the outcomes (pages read these rows; they
    never sum outcomes per request). Rates are fractions; None with n = 0."""

    kind = models.CharField(max_length=24, choices=Kind.choices)
    period = models.CharField(max_length=3, choices=Period.choices)
    signals = models.PositiveIntegerField(default=0)
    hits_1h = models.PositiveIntegerField(default=0)
    n_1h = models.PositiveIntegerField(default=0)
    rate_1h = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    low_1h = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    high_1h = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    hits_24h = models.PositiveIntegerField(default=0)
    n_24h = models.PositiveIntegerField(default=0)
    rate_24h = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    low_24h = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    high_24h = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    median_return_1h = models.DecimalField(**RATIO, null=True, blank=True)
    median_return_24h = models.DecimalField(**RATIO, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "period"], name="one_score_per_kind_and_period")]

    def __str__(self) -> str:
        return f"{self.kind} · {self.period}"

    @property
    def best_rate(self) -> tuple[str, int, Decimal | None]:
        """(mark, n, rate) to quote beside a signal: +24 h once it has outcomes, else +1 h."""
        if self.n_24h:
            return "24 h", self.n_24h, self.rate_24h
        return "1 h", self.n_1h, self.rate_1h


class TokenSafety(models.Model):
    """The latest safety checks of a token (SIGNALS.md §6), as the engine judged them.

    `checks` are the engine's `safety` reasons; the raw inputs beside them. None = unknown.
    """

    token = models.OneToOneField(Token, on_delete=models.CASCADE, related_name="safety")
    passed = models.BooleanField(default=False)
    checks = models.JSONField(default=list)
    mint_authority = models.CharField(max_length=44, blank=True, help_text="empty: none (renounced) or unknown")
    freeze_authority = models.CharField(max_length=44, blank=True, help_text="empty: none or unknown")
    top10_holder_share = models.DecimalField(**RATIO, null=True, blank=True)
    liquidity_usd = models.DecimalField(**USD, null=True, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "token safety"

    def __str__(self) -> str:
        return f"safety of {self.token}"


class MarketSnapshot(models.Model):
    """A token's market figures as one poll read them (Birdeye overview or DexScreener pairs). Kept
    for two days: holder growth compares with the one of a day ago."""

    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="market_snapshots")
    at = models.DateTimeField()
    source = models.CharField(max_length=20)
    price_usd = models.DecimalField(**PRICE, null=True, blank=True)
    price_change_1h_percent = models.DecimalField(**RATIO, null=True, blank=True)
    price_change_24h_percent = models.DecimalField(**RATIO, null=True, blank=True)
    volume_1h_usd = models.DecimalField(**USD, null=True, blank=True)
    volume_24h_usd = models.DecimalField(**USD, null=True, blank=True)
    liquidity_usd = models.DecimalField(**USD, null=True, blank=True)
    holders = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["token", "-at"], name="snapshot_by_token")]

    def __str__(self) -> str:
        return f"{self.token} market at {self.at:%Y-%m-%d %H:%M}"


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def moment(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC)
