"""Reads of the alerts app for pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import IntegerField, QuerySet
from django.utils import timezone

from alerts.models import Channel, Delivery, Notice, Rule
from aura.prepared import Bind, Prepared


@dataclass(frozen=True)
class BrowserAlerts:
    """What every page's script needs to alert the user in the browser (the in-app channel's rules)."""

    enabled: bool = False
    desktop_notifications: bool = False
    sound: bool = False
    min_usd: Decimal = Decimal("10000")
    scope: str = Rule.Wallets.ALL
    follows: str = ""  # comma-separated addresses, for the "followed"/"chosen" scope


def _user_id() -> Bind:
    return Bind("user", IntegerField())


_INAPP_CHANNEL = Prepared(
    lambda: Channel.objects.filter(user_id=_user_id(), kind=Channel.Kind.INAPP).order_by("id")[:1]
)
_OPEN_NOTICES = Prepared(lambda: Notice.objects.filter(user_id=_user_id(), dismissed_at=None)[:5])


def browser_alerts(user: Any) -> BrowserAlerts:
    channel = _INAPP_CHANNEL.first(user=user.pk)
    if channel is None:
        return BrowserAlerts()
    rules = [r for r in channel.rules.filter(trigger=Rule.Trigger.SWAPS, is_active=True).order_by("id")]
    desktop, sound = bool(channel.config.get("desktop")), bool(channel.config.get("sound"))
    if not rules or not (desktop or sound):
        return BrowserAlerts(
            desktop_notifications=desktop, sound=sound, min_usd=rules[0].min_usd if rules else Decimal("10000")
        )
    scope = Rule.Wallets.ALL if any(r.wallets == Rule.Wallets.ALL for r in rules) else Rule.Wallets.FOLLOWED
    addresses: set[str] = set()
    if scope != Rule.Wallets.ALL:
        if any(r.wallets == Rule.Wallets.FOLLOWED for r in rules):
            addresses |= set(user.follows.values_list("wallet__address", flat=True))
        for rule in rules:
            if rule.wallets == Rule.Wallets.CHOSEN:
                addresses |= set(rule.chosen_wallets.values_list("address", flat=True))
    return BrowserAlerts(
        enabled=True,
        desktop_notifications=desktop,
        sound=sound,
        min_usd=min(rule.min_usd for rule in rules),
        scope=scope,
        follows=",".join(sorted(addresses)),
    )


def open_notices(user_id: int) -> list[Notice]:
    return _OPEN_NOTICES.rows(user=user_id)


def delivery_log(user: Any) -> QuerySet[Delivery]:
    return Delivery.objects.filter(user=user).select_related("channel", "rule").order_by("-queued_at", "-id")


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def latency_by_channel(within: timedelta = timedelta(hours=1)) -> list[dict[str, Any]]:
    """Per channel kind, over deliveries answered in the last `within`: count sent and failed, and
    p50/p95 in milliseconds from ingested (or queued) to the platform's answer."""
    since = timezone.now() - within
    rows: dict[str, dict[str, Any]] = {}
    answered = Delivery.objects.filter(answered_at__gte=since).values_list(
        "channel__kind", "status", "ingested_at", "queued_at", "answered_at"
    )
    for kind, status, ingested_at, queued_at, answered_at in answered:
        row = rows.setdefault(kind, {"kind": kind, "sent": 0, "failed": 0, "retrying": 0, "took": []})
        if status in (Delivery.Status.SENT,):
            row["sent"] += 1
            row["took"].append((answered_at - (ingested_at or queued_at)).total_seconds() * 1000)
        elif status == Delivery.Status.FAILED:
            row["failed"] += 1
        else:
            row["retrying"] += 1
    labels = dict(Channel.Kind.choices)
    out = []
    for kind, row in sorted(rows.items()):
        out.append(
            {
                **row,
                "label": labels.get(kind, kind),
                "p50": percentile(row["took"], 0.5),
                "p95": percentile(row["took"], 0.95),
            }
        )
    return out


def alert_backlog() -> dict[str, int]:
    """What waits: held for digests, waiting for a retry, and channels failing."""
    return {
        "held": Delivery.objects.filter(status=Delivery.Status.HELD).count(),
        "retrying": Delivery.objects.filter(status=Delivery.Status.RETRYING).count(),
        "failing": Channel.objects.filter(state=Channel.State.FAILING).count(),
    }
