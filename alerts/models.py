"""Who is alerted about what, where, and the record of every alert sent (or held, or failed)."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name like Europe/Paris or UTC.")


class AlertSettings(models.Model):
    """A user's time zone, quiet hours and mute; a user without a row has UTC, no quiet hours, no mute."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_settings")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    quiet_from = models.TimeField(null=True, blank=True, help_text="Hold alerts from this time of day…")
    quiet_until = models.TimeField(null=True, blank=True, help_text="…until this one, then send one digest.")
    muted_until = models.DateTimeField(null=True, blank=True, help_text="Telegram's /mute: held until then.")

    def __str__(self) -> str:
        return f"alert settings of {self.user}"

    def quiet_end_after(self, moment: datetime) -> datetime | None:
        """When the quiet hours (or mute) that hold `moment` end; None when `moment` is not held."""
        held_until = self.muted_until if self.muted_until and self.muted_until > moment else None
        if self.quiet_from is not None and self.quiet_until is not None and self.quiet_from != self.quiet_until:
            local = moment.astimezone(ZoneInfo(self.time_zone))
            quiet_end = _quiet_end(local, self.quiet_from, self.quiet_until)
            if quiet_end is not None:
                held_until = max(held_until, quiet_end) if held_until else quiet_end
        return held_until


def _quiet_end(local: datetime, start: time, end: time) -> datetime | None:
    """The end of the quiet window [start, end) holding `local` (which may span midnight), or None."""
    now = local.timetz().replace(tzinfo=None)
    day = local.date()
    if start < end:
        inside = start <= now < end
        end_day = day
    else:  # e.g. 22:00-07:00
        inside = now >= start or now < end
        end_day = day + timedelta(days=1) if now >= start else day
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=local.tzinfo).astimezone(ZoneInfo("UTC"))


class Channel(models.Model):
    """Somewhere a user is alerted. `state` says whether the last send worked; a failing channel keeps
    its error and the time it began failing until a send succeeds again."""

    class Kind(models.TextChoices):
        INAPP = "inapp", "In-app (notification and sound)"
        TELEGRAM = "telegram", "Telegram"
        DISCORD = "discord", "Discord webhook"
        WEBHOOK = "webhook", "Signed webhook (n8n, Zapier, Make)"
        EMAIL = "email", "Email"

    class State(models.TextChoices):
        OK = "ok", "ok"
        PENDING = "pending", "waiting to be linked"
        FAILING = "failing", "failing"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    label = models.CharField(max_length=100, blank=True)
    # Not secret: telegram chat_id; webhook url; email address; inapp desktop/sound flags.
    config = models.JSONField(default=dict, blank=True)
    # Write-only: the Discord webhook URL (its token is the credential) or the webhook signing secret.
    # Forms never show it back.
    secret = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OK)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # More alerts than this within ALERTS_BURST_WINDOW_SECONDS go into one digest instead.
    burst_limit = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.label or self.get_kind_display()

    @property
    def display_name(self) -> str:
        return self.label or self.get_kind_display()

    @property
    def sends_messages(self) -> bool:
        """In-app alerts are shown by the user's open pages; every other kind sends a message."""
        return self.kind != self.Kind.INAPP

    @property
    def usable(self) -> bool:
        """Whether a message can be sent now: linked (Telegram) and not failing for good."""
        return self.sends_messages and self.state != self.State.PENDING

    @staticmethod
    def new_webhook_secret() -> str:
        return secrets.token_urlsafe(32)


class Rule(models.Model):
    """What a user wants to hear about, and on which channels.

    Swaps: of every tracked wallet, the followed ones, or chosen ones; one side or both; at least
    `min_usd` (a swap with no USD value yet matches only a rule whose minimum is 0); one token or any.
    Signals: of some kinds (empty: all), at least `min_score`, on some tokens (empty: all).
    """

    class Trigger(models.TextChoices):
        SWAPS = "swaps", "whale swaps"
        SIGNALS = "signals", "token signals"

    class Wallets(models.TextChoices):
        ALL = "all", "every tracked wallet"
        FOLLOWED = "followed", "only wallets I follow"
        CHOSEN = "chosen", "the wallets chosen here"

    class Side(models.TextChoices):
        ANY = "any", "buys and sells"
        BUY = "buy", "buys only"
        SELL = "sell", "sells only"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField("active", default=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SWAPS)
    wallets = models.CharField(max_length=10, choices=Wallets.choices, default=Wallets.ALL)
    chosen_wallets = models.ManyToManyField("whales.TrackedWallet", blank=True, related_name="+")
    side = models.CharField(max_length=4, choices=Side.choices, default=Side.ANY)
    min_usd = models.DecimalField(
        "minimum swap size (USD)",
        max_digits=14,
        decimal_places=2,
        default=Decimal("10000"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    token_mint = models.CharField("token (mint)", max_length=44, blank=True, help_text="Empty: any token.")
    signal_kinds = models.JSONField(default=list, blank=True, help_text="Empty: every kind.")
    min_score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    signal_mints = models.JSONField(default=list, blank=True, help_text="Empty: every token.")
    channels = models.ManyToManyField(Channel, related_name="rules", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name or f"{self.get_trigger_display()} ≥ ${self.min_usd:,.0f}"

    def matches_signal(self, signal: dict) -> bool:
        """Whether a signal event's `signal` part (kind, score, token.mint) is one this rule wants."""
        token = signal.get("token") or {}
        return (
            (not self.signal_kinds or signal.get("kind") in self.signal_kinds)
            and int(signal.get("score") or 0) >= self.min_score
            and (not self.signal_mints or token.get("mint") in self.signal_mints)
        )


class TelegramLink(models.Model):
    """A one-time code the user sends the bot (`/start <code>` from the deep link) to link a chat."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="telegram_links")
    code = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
    chat_id = models.BigIntegerField(null=True, blank=True)

    VALID_FOR = timedelta(hours=1)

    def __str__(self) -> str:
        return f"Telegram link for {self.channel}"

    @staticmethod
    def new_code() -> str:
        return secrets.token_urlsafe(24)  # 32 characters of A-Z a-z 0-9 _ -: what a deep link allows

    def usable(self, now: datetime | None = None) -> bool:
        return self.used_at is None and (now or timezone.now()) < self.created_at + self.VALID_FOR


class Delivery(models.Model):
    """One alert to one channel: what it was about, and each step's time, from the swap's block time to
    the platform's answer. `event_key` names the event ("swap:<id>", "signal:<id>", "digest:…",
    "test:…", "notice:…"); a (rule, event, channel) is delivered once, however often it is queued."""

    class Kind(models.TextChoices):
        SWAP = "swap"
        SIGNAL = "signal"
        DIGEST = "digest"
        TEST = "test"
        NOTICE = "notice"

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        RETRYING = "retrying"
        HELD = "held", "held for a digest"
        SENT = "sent"
        DIGESTED = "digested", "sent in a digest"
        FAILED = "failed"

    class Held(models.TextChoices):
        NONE = "", "—"
        BURST = "burst", "burst above the channel's rate"
        QUIET = "quiet", "quiet hours"
        MUTED = "muted", "muted"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    event_key = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    event = models.JSONField(default=dict)  # the render_alert contract's event (or a digest's member keys)
    summary = models.CharField(max_length=300, blank=True)  # for the log page
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    held = models.CharField(max_length=10, choices=Held.choices, default=Held.NONE, blank=True)
    held_until = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    block_time = models.DateTimeField(null=True, blank=True)
    ingested_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_status = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.TextField(blank=True)  # the platform's answer (or the error), shortened

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "event_key", "channel"], name="delivery_once", nulls_distinct=False)
        ]
        indexes = [
            models.Index(fields=["user", "-queued_at"], name="delivery_log"),
            models.Index(fields=["channel", "status"], name="delivery_by_channel_status"),
            models.Index(fields=["answered_at"], name="delivery_answered"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_key} → {self.channel_id}: {self.status}"

    @property
    def took(self) -> timedelta | None:
        """From the swap landing in our database (or the alert being queued) to the platform's answer;
        None until answered."""
        start = self.ingested_at or self.queued_at
        return None if self.answered_at is None else self.answered_at - start


class Notice(models.Model):
    """Something the user must hear about in the app (a channel began failing); shown until dismissed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_notices")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text
