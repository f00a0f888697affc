"""Every write of the alerts app: matching events to rules, queueing, holding, sending, digesting,
and what a failing channel does. Tasks, views and the bot are thin adapters over these functions.

The path of an alert: `alert_on_swaps` / `alert_on_signal` match the event against active rules and
write one `Delivery` per (rule, event, channel) — a unique key, so a task run twice or a duplicate
webhook queues nothing more. Each delivery is sent now (`send_delivery`), or held: above the
channel's burst limit, in the user's quiet hours, or while muted; `flush_held` then sends everything
held for a channel as one digest. Nothing is dropped: a delivery ends `sent`, `digested` or `failed`,
each with the platform's answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from alerts import live, senders
from alerts.messages import (
    InvalidEvent,
    discord_request,
    discord_webhook_path,
    email_content,
    make_channel_problem,
    make_channel_test,
    make_digest,
    parse_event,
    telegram_request,
    webhook_request,
    webhook_url_path,
)
from alerts.models import AlertSettings, Channel, Delivery, Notice, Rule

logger = logging.getLogger(__name__)

Status = Delivery.Status
# What a sender that died mid-send left behind is sent again after this (at least once, never lost).
STALE_SENDING = timedelta(minutes=2)
# Queued deliveries whose task never ran (the broker was down) are picked up by the sweep after this.
QUEUED_GRACE = timedelta(seconds=20)
BACKOFF_SECONDS = (2, 5, 15, 30, 60, 120, 300, 600)
# Sends of one batch (a swap's alerts to all its users) in flight at once.
SEND_THREADS = 16


# --- events --------------------------------------------------------------------------------------


def swap_event(swap: Any) -> dict[str, Any]:
    """The `render_alert` contract's event for a stored swap (its wallet and token loaded)."""
    return {
        "kind": "swap",
        "id": f"swap-{swap.id}",
        "wallet": {"address": swap.wallet.address, "label": swap.wallet.label or None},
        "side": swap.side,
        "token": {"mint": swap.token.mint, "symbol": swap.token.symbol or None, "name": swap.token.name or None},
        "token_amount": str(swap.token_amount),
        "usd": None if swap.usd_value is None else str(swap.usd_value),
        "block_time": int(swap.block_time.timestamp()),
        "signature": swap.signature,
    }


def _swap_rule_matches(rule: Rule, swap: Any, followed: set[tuple[int, int]], chosen: set[tuple[int, int]]) -> bool:
    if rule.created_at > swap.ingested_at:
        return False  # a rule made since hears of swaps from then on (the sweep re-reads older ones)
    if rule.side != Rule.Side.ANY and swap.side != rule.side:
        return False
    if rule.min_usd > 0 and (swap.usd_value is None or swap.usd_value < rule.min_usd):
        return False
    if rule.token_mint and swap.token.mint != rule.token_mint:
        return False
    if rule.wallets == Rule.Wallets.FOLLOWED:
        return (rule.user_id, swap.wallet_id) in followed
    if rule.wallets == Rule.Wallets.CHOSEN:
        return (rule.id, swap.wallet_id) in chosen
    return True


def alert_on_swaps(swap_ids: Sequence[int]) -> list[int]:
    """Queue the alerts new swaps call for; returns the ids of the deliveries to send now."""
    from portfolios.models import Follow
    from whales.models import Swap

    swaps = list(
        Swap.objects.filter(id__in=list(swap_ids)).select_related("wallet", "token").order_by("block_time", "id")
    )
    if not swaps:
        return []
    wallet_ids = {swap.wallet_id for swap in swaps}
    # Only the rules that can match these wallets: the work grows with the swaps' listeners, not with
    # every rule of every user.
    rules = list(
        Rule.objects.filter(is_active=True, trigger=Rule.Trigger.SWAPS)
        .filter(
            Q(wallets=Rule.Wallets.ALL)
            | Q(wallets=Rule.Wallets.FOLLOWED, user__follows__wallet_id__in=wallet_ids)
            | Q(wallets=Rule.Wallets.CHOSEN, chosen_wallets__in=wallet_ids)
        )
        .distinct()
        .prefetch_related("channels")
        .order_by("id")
    )
    if not rules:
        return []
    followed = set(
        Follow.objects.filter(wallet_id__in=wallet_ids, user_id__in={r.user_id for r in rules}).values_list(
            "user_id", "wallet_id"
        )
    )
    chosen_ids = [rule.id for rule in rules if rule.wallets == Rule.Wallets.CHOSEN]
    chosen = set(
        Rule.chosen_wallets.through.objects.filter(rule_id__in=chosen_ids, trackedwallet_id__in=wallet_ids).values_list(
            "rule_id", "trackedwallet_id"
        )
    )
    wanted: list[Delivery] = []
    for swap in swaps:
        event = None
        for rule in rules:
            if not _swap_rule_matches(rule, swap, followed, chosen):
                continue
            event = event or swap_event(swap)
            for channel in rule.channels.all():
                if channel.sends_messages:
                    wanted.append(
                        Delivery(
                            user_id=rule.user_id,
                            channel=channel,
                            rule=rule,
                            event_key=f"swap:{swap.id}",
                            kind=Delivery.Kind.SWAP,
                            event=event,
                            summary=_swap_summary(swap),
                            block_time=swap.block_time,
                            ingested_at=swap.ingested_at,
                        )
                    )
    return queue(wanted)


def _swap_summary(swap: Any) -> str:
    who = swap.wallet.label or swap.wallet.address[:6]
    usd = "" if swap.usd_value is None else f" ${swap.usd_value:,.0f}"
    return f"{who} {swap.side} {swap.token.symbol or swap.token.mint[:6]}{usd}"[:300]


# Live swaps whose alert task was never queued (the broker was down when they were stored) are matched
# by the beat's sweep between these ages; matching them twice queues nothing twice.
SWEEP_AFTER = timedelta(seconds=30)
SWEEP_WITHIN = timedelta(minutes=10)


def swaps_to_sweep(now: datetime | None = None) -> list[int]:
    from whales.models import Swap

    now = now or timezone.now()
    return list(
        Swap.objects.filter(live=True, ingested_at__gte=now - SWEEP_WITHIN, ingested_at__lt=now - SWEEP_AFTER)
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )


def alert_on_signal(signal_event: dict[str, Any], signal_key: str) -> list[int]:
    """Queue the alerts a signal calls for. `signal_event` is the contract's event
    (`{"kind": "signal", "signal": {...}}`); `signal_key` identifies the signal (its id)."""
    try:
        parse_event(signal_event)
    except InvalidEvent as error:
        logger.error("signal %s not alerted: %s", signal_key, error)
        return []
    signal = signal_event["signal"]
    wanted = []
    for rule in Rule.objects.filter(is_active=True, trigger=Rule.Trigger.SIGNALS).prefetch_related("channels"):
        if not rule.matches_signal(signal):
            continue
        for channel in rule.channels.all():
            if channel.sends_messages:
                token = signal.get("token") or {}
                wanted.append(
                    Delivery(
                        user_id=rule.user_id,
                        channel=channel,
                        rule=rule,
                        event_key=f"signal:{signal_key}",
                        kind=Delivery.Kind.SIGNAL,
                        event=signal_event,
                        summary=f"{signal.get('kind')} {token.get('symbol') or token.get('mint', '')[:6]} "
                        f"score {signal.get('score')}"[:300],
                    )
                )
    return queue(wanted)


# --- queueing and holding ------------------------------------------------------------------------


def queue(wanted: Sequence[Delivery], now: datetime | None = None) -> list[int]:
    """Store the wanted deliveries (those already stored are left alone), hold what a channel's quiet
    hours, mute or burst limit hold, and return the ids to send now. One transaction; the channels'
    rows are locked so two workers counting the same burst cannot both let it through."""
    if not wanted:
        return []
    now = now or timezone.now()
    window = timedelta(seconds=settings.ALERTS_BURST_WINDOW_SECONDS)
    to_send: list[int] = []
    with transaction.atomic():
        channel_ids = sorted({delivery.channel_id for delivery in wanted})
        channels = {c.id: c for c in Channel.objects.select_for_update().filter(id__in=channel_ids).order_by("id")}
        for delivery in wanted:
            delivery.queued_at = now
        Delivery.objects.bulk_create(wanted, ignore_conflicts=True)
        keys = Q()
        for delivery in wanted:
            keys |= Q(rule_id=delivery.rule_id, event_key=delivery.event_key, channel_id=delivery.channel_id)
        fresh = list(Delivery.objects.filter(keys, status=Status.QUEUED, attempts=0, held="").order_by("id"))
        user_settings = {s.user_id: s for s in AlertSettings.objects.filter(user_id__in={d.user_id for d in fresh})}
        by_channel: dict[int, list[Delivery]] = {}
        for delivery in fresh:
            by_channel.setdefault(delivery.channel_id, []).append(delivery)
        open_bursts = dict(
            Delivery.objects.filter(channel_id__in=by_channel, status=Status.HELD, held=Delivery.Held.BURST)
            .values("channel_id")
            .annotate(until=Min("held_until"))
            .values_list("channel_id", "until")
        )
        recent = dict(
            Delivery.objects.filter(channel_id__in=by_channel, queued_at__gte=now - window)
            .exclude(id__in=[d.id for d in fresh])
            .exclude(kind__in=[Delivery.Kind.TEST, Delivery.Kind.NOTICE])
            .values("channel_id")
            .annotate(count=Count("id"))
            .values_list("channel_id", "count")
        )
        for channel_id, deliveries in by_channel.items():
            channel = channels[channel_id]
            quiet = user_settings.get(channel.user_id)
            quiet_end = quiet.quiet_end_after(now) if quiet else None
            if quiet_end is not None:
                muted = quiet.muted_until and quiet.muted_until >= quiet_end
                _hold(deliveries, Delivery.Held.MUTED if muted else Delivery.Held.QUIET, quiet_end)
            elif channel_id in open_bursts:
                _hold(deliveries, Delivery.Held.BURST, open_bursts[channel_id])  # a digest is gathering: join it
            else:
                room = max(0, channel.burst_limit - recent.get(channel_id, 0))
                to_send += [d.id for d in deliveries[:room]]
                if len(deliveries) > room:
                    _hold(deliveries[room:], Delivery.Held.BURST, now + window)
    return to_send


def _hold(deliveries: Iterable[Delivery], reason: str, until: datetime) -> None:
    Delivery.objects.filter(id__in=[d.id for d in deliveries]).update(status=Status.HELD, held=reason, held_until=until)


def flush_held(channel_id: int, now: datetime | None = None) -> int | None:
    """Send what a channel holds whose hold is over as one digest (one alone goes as itself). Returns
    the id of the delivery to send, or None when nothing was due."""
    now = now or timezone.now()
    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(id=channel_id).first()
        if channel is None:
            return None
        due = list(
            Delivery.objects.filter(channel=channel, status=Status.HELD, held_until__lte=now).order_by(
                "queued_at", "id"
            )
        )
        if not due:
            return None
        if len(due) == 1:
            Delivery.objects.filter(id=due[0].id).update(status=Status.QUEUED, next_attempt_at=None)
            return due[0].id
        digest, _ = Delivery.objects.get_or_create(
            rule=None,
            channel=channel,
            event_key=f"digest:{due[0].id}-{due[-1].id}-{len(due)}",
            defaults={
                "user_id": channel.user_id,
                "kind": Delivery.Kind.DIGEST,
                "event": {"members": [d.id for d in due]},
                "summary": f"digest of {len(due)} alerts ({due[0].get_held_display()})",
                "queued_at": now,
                "ingested_at": min(d.ingested_at or d.queued_at for d in due),
                "block_time": min((d.block_time for d in due if d.block_time), default=None),
            },
        )
        Delivery.objects.filter(id__in=[d.id for d in due]).update(status=Status.DIGESTED, digest=digest)
        return digest.id


def channels_with_due_holds(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status=Status.HELD, held_until__lte=now).values_list("channel_id", flat=True).distinct()
    )


def due_for_sending(now: datetime | None = None) -> list[int]:
    """Deliveries the sweep (re)sends: retries whose time came, queued ones whose task never ran, and
    sends abandoned by a dead worker."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(status=Status.SENDING, sent_at__lt=now - STALE_SENDING)
    stale.update(status=Status.RETRYING, next_attempt_at=now)
    return list(
        Delivery.objects.filter(
            Q(status=Status.RETRYING, next_attempt_at__lte=now)
            | Q(status=Status.QUEUED, queued_at__lt=now - QUEUED_GRACE)
        ).values_list("id", flat=True)[:1000]
    )


# --- sending -------------------------------------------------------------------------------------


def render(delivery: Delivery, channel: Channel) -> Any:
    """The alert (swap, signal, digest, test, notice) a delivery carries, ready for a renderer."""
    if delivery.kind == Delivery.Kind.DIGEST:
        members = Delivery.objects.filter(id__in=delivery.event.get("members", [])).order_by("id")
        # Each event inside keeps the id it has when delivered on its own (the webhook schema says so).
        return make_digest([parse_event({**member.event, "id": f"aura-{member.id}"}) for member in members])
    if delivery.kind == Delivery.Kind.TEST:
        return make_channel_test(int(delivery.queued_at.timestamp()), channel.display_name)
    if delivery.kind == Delivery.Kind.NOTICE:
        return make_channel_problem(
            int(delivery.queued_at.timestamp()), delivery.event.get("channel", ""), delivery.event.get("error", "")
        )
    return parse_event(delivery.event)


def _prepare(channel: Channel, delivery: Delivery) -> Callable[[], senders.Sent]:
    """The send of one delivery, rendered here (reads the database for digests) and returned as a call
    that only does I/O, so that many can run at once in threads. Raises SendFailed or ValueError for
    what cannot be sent at all."""
    alert = render(delivery, channel)
    site = settings.SITE_URL
    if channel.kind == Channel.Kind.TELEGRAM:
        chat_id = channel.config.get("chat_id")
        if not settings.TELEGRAM_BOT_TOKEN:
            raise senders.SendFailed("TELEGRAM_BOT_TOKEN is not set on the server", permanent=False)
        if chat_id is None:
            raise senders.SendFailed("no Telegram chat is linked yet", permanent=True)
        request = telegram_request(alert, bot_token=settings.TELEGRAM_BOT_TOKEN, chat_id=chat_id, site_url=site)
        return partial(senders.post, settings.TELEGRAM_API_URL, request)
    if channel.kind == Channel.Kind.DISCORD:
        path = discord_webhook_path(channel.secret)
        request = discord_request(alert, webhook_path=path, site_url=site)
        return partial(senders.post, settings.DISCORD_API_URL, request)
    if channel.kind == Channel.Kind.WEBHOOK:
        url = channel.config.get("url", "")
        request = webhook_request(
            alert,
            secret=channel.secret,
            timestamp=int(time.time()),
            site_url=site,
            url_path=webhook_url_path(url),
            event_id=f"aura-{delivery.id}",
        )
        return partial(senders.post, senders.origin_of(url), request)
    if channel.kind == Channel.Kind.EMAIL:
        return partial(senders.send_email, channel.config.get("address", ""), email_content(alert, site_url=site))
    raise senders.SendFailed(f"{channel.kind} channels do not send messages", permanent=True)


def send_delivery(delivery_id: int) -> float | None:
    """Send one delivery if it is still due; the seconds after which to retry it, or None."""
    return send_deliveries([delivery_id]).get(delivery_id)


def send_deliveries(delivery_ids: Sequence[int]) -> dict[int, float]:
    """Send the deliveries that are still due, at once (each claimed first, so two workers never both
    send one). Returns, for those that failed for now, the seconds after which to retry them."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(Q(next_attempt_at=None) | Q(next_attempt_at__lte=now))
            .filter(id__in=list(delivery_ids), status__in=[Status.QUEUED, Status.RETRYING])
            .values_list("id", flat=True)
        )
        Delivery.objects.filter(id__in=claimed).update(status=Status.SENDING, attempts=F("attempts") + 1, sent_at=now)
    if not claimed:
        return {}
    deliveries = list(Delivery.objects.select_related("channel").filter(id__in=claimed).order_by("id"))
    calls, outcomes = _prepare_all(deliveries)
    outcomes.update(_run_all(calls))
    outcomes.update(_resend_to_moved_chats(deliveries, outcomes))
    retries: dict[int, float] = {}
    sent: list[Delivery] = []
    for delivery in deliveries:
        outcome = outcomes[delivery.id]
        if isinstance(outcome, senders.SendFailed):
            retry_in = _failed(delivery, delivery.channel, outcome)
            if retry_in is not None:
                retries[delivery.id] = retry_in
        else:
            delivery.status, delivery.answered_at, delivery.next_attempt_at = Status.SENT, outcome.answered_at, None
            delivery.answer_status, delivery.answer = outcome.status, outcome.answer
            sent.append(delivery)
    Delivery.objects.bulk_update(sent, ["status", "answered_at", "answer_status", "answer", "next_attempt_at"])
    recovered = {d.channel_id for d in sent if d.channel.state == Channel.State.FAILING}
    if recovered:
        Channel.objects.filter(id__in=recovered).update(state=Channel.State.OK, failing_since=None)
    return retries


def _prepare_all(
    deliveries: Sequence[Delivery],
) -> tuple[dict[int, Callable[[], senders.Sent]], dict[int, senders.Sent | senders.SendFailed]]:
    """The send of each delivery, and the failures of those that cannot be sent at all."""
    calls: dict[int, Callable[[], senders.Sent]] = {}
    unsendable: dict[int, senders.Sent | senders.SendFailed] = {}
    for delivery in deliveries:
        try:
            calls[delivery.id] = _prepare(delivery.channel, delivery)
        except senders.SendFailed as error:
            unsendable[delivery.id] = error
        except ValueError as error:  # InvalidEvent, or a channel whose URL or token became unusable
            unsendable[delivery.id] = senders.SendFailed(f"cannot be rendered: {error}", permanent=True)
    return calls, unsendable


def _resend_to_moved_chats(
    deliveries: Sequence[Delivery], outcomes: dict[int, senders.Sent | senders.SendFailed]
) -> dict[int, senders.Sent | senders.SendFailed]:
    """Telegram refused a message because its group became a supergroup: link the channel to the
    supergroup and send the message there at once, in the same attempt. Returns the new outcomes."""
    moved = [delivery for delivery in deliveries if isinstance(outcomes[delivery.id], senders.ChatMigrated)]
    if not moved:
        return {}
    for delivery in moved:
        move_telegram_chat(delivery.channel, outcomes[delivery.id].new_chat_id)
    calls, resent = _prepare_all(moved)
    resent.update(_run_all(calls))
    for delivery in moved:
        again = resent[delivery.id]
        if isinstance(again, senders.ChatMigrated):  # moved twice in a row: the retry goes to the newest id
            move_telegram_chat(delivery.channel, again.new_chat_id)
    return resent


def move_telegram_chat(channel: Channel, new_chat_id: int) -> None:
    """Telegram upgraded the group `channel` is linked to into a supergroup, `new_chat_id`: every channel
    linked to that group (several users may have linked one group) is linked to the supergroup."""
    old_chat_id = channel.config.get("chat_id")
    channel.config = {**channel.config, "chat_id": new_chat_id}
    with transaction.atomic():
        linked = Channel.objects.select_for_update().filter(kind=Channel.Kind.TELEGRAM, config__chat_id=old_chat_id)
        for other in linked.order_by("id"):
            other.config = {**other.config, "chat_id": new_chat_id}
            other.save(update_fields=["config"])
    logger.info("Telegram chat %s became supergroup %s: channel %s moved there", old_chat_id, new_chat_id, channel.id)


def _run_all(calls: dict[int, Callable[[], senders.Sent]]) -> dict[int, senders.Sent | senders.SendFailed]:
    """Each call's outcome; several at once in threads (they wait on the network, not the CPU)."""

    def outcome(call: Callable[[], senders.Sent]) -> senders.Sent | senders.SendFailed:
        try:
            return call()
        except senders.SendFailed as error:
            return error

    if len(calls) <= 1:
        return {key: outcome(call) for key, call in calls.items()}
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(calls))) as pool:
        return dict(zip(calls, pool.map(outcome, calls.values()), strict=True))


def _failed(delivery: Delivery, channel: Channel, error: senders.SendFailed) -> float | None:
    now = timezone.now()
    answered = error.answered_at or now
    fields: dict[str, Any] = {"answered_at": answered, "answer_status": error.status, "answer": error.answer}
    attempts = delivery.attempts
    if not error.permanent and attempts < settings.ALERTS_MAX_ATTEMPTS:
        wait = max(error.retry_after or 0.0, BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)])
        Delivery.objects.filter(id=delivery.id).update(
            status=Status.RETRYING, next_attempt_at=now + timedelta(seconds=wait), **fields
        )
        logger.info("alert %s to channel %s: %s; retrying in %.0f s", delivery.id, channel.id, error.answer, wait)
        return wait
    Delivery.objects.filter(id=delivery.id).update(status=Status.FAILED, next_attempt_at=None, **fields)
    logger.warning("alert %s to channel %s failed for good: %s", delivery.id, channel.id, error.answer)
    if delivery.kind != Delivery.Kind.NOTICE:
        channel_failing(channel, error.answer)
    return None


def channel_failing(channel: Channel, error: str) -> list[int]:
    """Mark a channel failing and tell its user: a notice in the app (pushed to open pages), and a
    message on each other channel that works. Once per failure: a channel already failing only gets
    its error updated. Returns the ids of the notice deliveries to send."""
    now = timezone.now()
    with transaction.atomic():
        began = (
            Channel.objects.filter(id=channel.id)
            .exclude(state=Channel.State.FAILING)
            .update(state=Channel.State.FAILING, failing_since=now, last_error=error[:1000])
        )
        if not began:
            Channel.objects.filter(id=channel.id).update(last_error=error[:1000])
            return []
        text = f"Your alert channel “{channel.display_name}” is failing: {error[:300]}"
        notice = Notice.objects.create(user_id=channel.user_id, text=text[:500])
        others = (
            Channel.objects.filter(user_id=channel.user_id)
            .exclude(id=channel.id)
            .exclude(state__in=[Channel.State.FAILING, Channel.State.PENDING])
        )
        wanted = [
            Delivery(
                user_id=channel.user_id,
                channel=other,
                rule=None,
                event_key=f"notice:{notice.id}",
                kind=Delivery.Kind.NOTICE,
                event={"channel": channel.display_name, "error": error[:300]},
                summary=text[:300],
                queued_at=now,
            )
            for other in others
            if other.sends_messages
        ]
        Delivery.objects.bulk_create(wanted, ignore_conflicts=True)
        ids = list(Delivery.objects.filter(event_key=f"notice:{notice.id}").values_list("id", flat=True))
        transaction.on_commit(partial(_tell_other_channels, ids), robust=True)
        transaction.on_commit(partial(live.push_notices, channel.user_id), robust=True)
    return ids


def _tell_other_channels(delivery_ids: list[int]) -> None:
    from alerts import tasks

    for delivery_id in delivery_ids:
        tasks.enqueue_send(delivery_id)


def dismiss_notices(user: Any) -> int:
    return Notice.objects.filter(user=user, dismissed_at=None).update(dismissed_at=timezone.now())


def send_test(channel: Channel) -> int:
    """Queue the "send test" message on a channel; returns the delivery's id. A test is never held."""
    delivery = Delivery.objects.create(
        user_id=channel.user_id,
        channel=channel,
        rule=None,
        event_key=f"test:{uuid.uuid4().hex}",
        kind=Delivery.Kind.TEST,
        summary=f"test message to {channel.display_name}",
    )
    return delivery.id


# --- browser alerts (the in-app channel) ---------------------------------------------------------

BROWSER_RULE = "Browser alerts"


def browser_channel_and_rule(user: Any) -> tuple[Channel | None, Rule | None]:
    """The user's in-app channel and the swap rule routed to it (None, None when they never chose)."""
    channel = Channel.objects.filter(user=user, kind=Channel.Kind.INAPP).order_by("id").first()
    if channel is None:
        return None, None
    rule = channel.rules.filter(trigger=Rule.Trigger.SWAPS).order_by("id").first()
    return channel, rule


def set_browser_alerts(
    user: Any, *, desktop: bool = False, sound: bool = False, min_usd: Any = 10000, scope: str = Rule.Wallets.ALL
) -> Rule:
    """Notifications and sound in the user's open AURA pages for swaps of at least `min_usd`: the
    in-app channel and its rule, made or updated."""
    with transaction.atomic():
        channel, rule = browser_channel_and_rule(user)
        if channel is None:
            channel = Channel(user=user, kind=Channel.Kind.INAPP, label="This browser")
        channel.config = {"desktop": desktop, "sound": sound}
        channel.save()
        if rule is None:
            rule = Rule(user=user, name=BROWSER_RULE, trigger=Rule.Trigger.SWAPS)
        rule.min_usd, rule.wallets, rule.is_active = min_usd, scope, desktop or sound
        rule.save()
        rule.channels.add(channel)
    return rule


# --- channels ------------------------------------------------------------------------------------


def add_channel(user: Any, kind: str, label: str = "", target: str = "", secret: str = "") -> tuple[Channel, str]:
    """A new channel of the user's; returns it and what to show once (a webhook's generated secret, or a
    Telegram deep link to open)."""
    shown = ""
    channel = Channel(user=user, kind=kind, label=label.strip()[:100])
    if kind == Channel.Kind.EMAIL:
        channel.config = {"address": target}
    elif kind == Channel.Kind.DISCORD:
        channel.secret = target
    elif kind == Channel.Kind.WEBHOOK:
        channel.config = {"url": target}
        channel.secret = secret or Channel.new_webhook_secret()
        shown = "" if secret else channel.secret
    elif kind == Channel.Kind.TELEGRAM:
        channel.state = Channel.State.PENDING
    with transaction.atomic():
        channel.save()
        if kind == Channel.Kind.TELEGRAM:
            shown = telegram_deep_link(new_telegram_link(channel).code)
    return channel, shown


def new_telegram_link(channel: Channel) -> Any:
    from alerts.models import TelegramLink

    return TelegramLink.objects.create(channel=channel, code=TelegramLink.new_code())


def telegram_deep_link(code: str) -> str:
    return f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={code}"


def link_telegram(code: str, chat_id: int) -> Channel | None:
    """The bot heard `/start <code>` from `chat_id`: link that chat to the code's channel (once, within
    the code's hour). Returns the channel, or None for an unknown, used or expired code."""
    from alerts.models import TelegramLink

    now = timezone.now()
    with transaction.atomic():
        link = TelegramLink.objects.select_for_update().select_related("channel").filter(code=code).first()
        if link is None or not link.usable(now):
            return None
        link.used_at, link.chat_id = now, chat_id
        link.save(update_fields=["used_at", "chat_id"])
        channel = link.channel
        channel.config = {**channel.config, "chat_id": chat_id}
        channel.state, channel.failing_since, channel.last_error = Channel.State.OK, None, ""
        channel.save(update_fields=["config", "state", "failing_since", "last_error"])
    return channel


def telegram_channels_of_chat(chat_id: int) -> list[Channel]:
    return list(Channel.objects.filter(kind=Channel.Kind.TELEGRAM, config__chat_id=chat_id).select_related("user"))


def mute(user: Any, until: datetime) -> None:
    """Hold the user's alerts until `until` (then one digest per channel)."""
    AlertSettings.objects.update_or_create(user=user, defaults={"muted_until": until})


def delete_channel(channel: Channel) -> None:
    """Remove a channel; its deliveries go with it, its rules stay (routed to the other channels)."""
    channel.delete()


# --- rules ---------------------------------------------------------------------------------------


def save_rule(
    rule: Rule, channels: Iterable[Channel] | None = None, chosen_wallets: Iterable[Any] | None = None
) -> Rule:
    """Store a rule (new or changed) and, when given, the channels it routes to and the wallets it watches."""
    with transaction.atomic():
        rule.save()
        if channels is not None:
            rule.channels.set(channels)
        if chosen_wallets is not None:
            rule.chosen_wallets.set(chosen_wallets)
    return rule


def delete_rule(rule: Rule) -> None:
    """Remove a rule; the deliveries it made stay in the log."""
    rule.delete()
