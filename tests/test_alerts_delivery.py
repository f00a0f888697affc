"""Alerts reach Telegram, Discord, signed webhooks and email — against the local stand-ins of those
platforms (simulator.server.messaging), with real PostgreSQL: hostile symbols stay text everywhere, 429 is
honoured, 403 marks the channel failing and tells the user, a group that became a supergroup gets its
message there, a duplicate sends once, bursts and quiet
hours become one digest, and nothing is dropped without a record."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.core import mail
from django.utils import timezone

from alerts import actions
from alerts.messages import verify_webhook_signature
from alerts.models import AlertSettings, Channel, Delivery, Notice, Rule
from simulator.server.messaging import MessagingFault
from tests.builders import address, usdc_swap
from whales.ingestion import ingest as whales_ingest
from whales.models import ArrivedVia, Swap, Token, TrackedWallet

pytestmark = pytest.mark.django_db

HOSTILE_SYMBOL = "<b>@everyone</b> & <script>"
HOSTILE_NAME = "@here **pump** <@123> [x](https://evil.example) &amp; <tg-spoiler"
DISCORD_URL = "https://discord.com/api/webhooks/1234567890/hook-token_ABC"
CHAT = 424242
NOW = int(time.time())


def swaps(whale: TrackedWallet, count: int, *, mint: str | None = None, usd: str = "50000", start: int = NOW - 60):
    """Store `count` webhook swaps of `whale` (alternating tokens unless `mint` is given); their ids."""
    txs = [
        usdc_swap(
            whale.address, mint or address(f"token {n % 4}"), "buy", "1000", usd, start + n, seed=f"{whale}-{start}-{n}"
        )
        for n in range(count)
    ]
    result = whales_ingest.ingest(txs, ArrivedVia.WEBHOOK, book=False)
    return [swap.id for swap in result.new_swaps]


def channel(user, kind: str, **config) -> Channel:
    target = {"telegram": "", "discord": DISCORD_URL, "email": "alice@example.com"}.get(kind, config.pop("url", ""))
    made, _ = actions.add_channel(user, kind, kind.title(), target, config.pop("secret", ""))
    if kind == Channel.Kind.TELEGRAM:
        link = made.telegram_links.get()
        made = actions.link_telegram(link.code, CHAT)
    return made


def rule_to(user, *channels: Channel, **fields) -> Rule:
    rule = Rule.objects.create(user=user, min_usd=1000, **fields)
    rule.channels.set(channels)
    return rule


def send_all(ids: list[int]) -> None:
    for delivery_id in ids:
        actions.send_delivery(delivery_id)


@pytest.fixture
def whale():
    return TrackedWallet.objects.create(address=address("alerting whale"), label="Whale X")


def test_hostile_symbols_arrive_as_text_on_every_channel(messaging, alice, whale):
    mint = address("hostile token")
    Token.objects.create(mint=mint, symbol=HOSTILE_SYMBOL, name=HOSTILE_NAME)
    hook = channel(alice, "webhook", url=f"{messaging.url}/receiver/n8n", secret="s3cret")
    telegram, discord, email = channel(alice, "telegram"), channel(alice, "discord"), channel(alice, "email")
    rule_to(alice, telegram, discord, hook, email)

    send_all(actions.alert_on_swaps(swaps(whale, 1, mint=mint)))

    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    [sent] = messaging.messaging.messages("telegram")  # Telegram's own HTML check let it through
    assert "<b>@everyone</b> & <scr" in sent["visible_text"] and "<script>" not in sent["text"]  # clipped at 24
    [posted] = messaging.messaging.messages("discord")
    body = posted["body"]
    assert body["allowed_mentions"] == {"parse": []}
    discord_text = json.dumps(body, ensure_ascii=False)
    assert "@everyone" not in discord_text and "@here" not in discord_text and "<@123>" not in discord_text
    assert "@\u200beveryone" in discord_text
    [received] = messaging.messaging.messages("webhook")
    headers = received["headers"]
    assert verify_webhook_signature(
        "s3cret", headers["x-aura-timestamp"], headers["x-aura-signature"], received["raw_body"], now=int(time.time())
    )
    document = json.loads(received["raw_body"])
    assert document["swap"]["token"]["symbol"] == HOSTILE_SYMBOL  # the data verbatim, for the receiver to escape
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert "<b>@everyone" not in html and "&lt;b&gt;@everyone" in html


def test_telegram_refuses_markup_it_does_not_know_as_telegram_does(messaging):
    answer = httpx.post(
        f"{messaging.url}/bot{'1:x'}/sendMessage",
        json={"chat_id": CHAT, "text": "hi <br> there", "parse_mode": "HTML"},
    )
    assert answer.status_code == 400
    assert (
        answer.json()["description"]
        == 'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 3'
    )
    raw_lt = httpx.post(
        f"{messaging.url}/bot1:x/sendMessage", json={"chat_id": CHAT, "text": "a < b", "parse_mode": "HTML"}
    )
    assert raw_lt.status_code == 400 and "can't parse entities" in raw_lt.json()["description"]


def test_a_429_is_waited_out_for_as_long_as_telegram_says(messaging, alice, whale):
    rule_to(alice, channel(alice, "telegram"))
    messaging.messaging.faults.append(MessagingFault("telegram", 429, retry_after=1))
    [delivery_id] = actions.alert_on_swaps(swaps(whale, 1))

    before = timezone.now()
    retry_in = actions.send_delivery(delivery_id)
    delivery = Delivery.objects.get(id=delivery_id)
    assert retry_in is not None and retry_in >= 1
    assert delivery.status == "retrying" and delivery.answer_status == 429
    assert delivery.next_attempt_at >= before + timedelta(seconds=1)
    assert "retry after 1" in delivery.answer

    assert actions.send_delivery(delivery_id) is None  # too early: not even claimed
    assert Delivery.objects.get(id=delivery_id).attempts == 1 and messaging.messaging.messages("telegram") == []

    while timezone.now() < delivery.next_attempt_at:
        time.sleep(0.05)
    actions.send_delivery(delivery_id)
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2
    assert len(messaging.messaging.messages("telegram")) == 1


def test_a_5xx_is_retried_and_gives_up_into_failed_with_a_record(messaging, alice, whale, settings):
    settings.ALERTS_MAX_ATTEMPTS = 2
    rule_to(alice, channel(alice, "discord"))
    messaging.messaging.faults.append(MessagingFault("discord", 502, remaining=5, description="Bad Gateway"))
    [delivery_id] = actions.alert_on_swaps(swaps(whale, 1))

    assert actions.send_delivery(delivery_id) is not None
    Delivery.objects.filter(id=delivery_id).update(next_attempt_at=timezone.now())
    assert actions.send_delivery(delivery_id) is None
    delivery = Delivery.objects.get(id=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.answer) == ("failed", 2, "502 Bad Gateway")


def test_a_blocked_bot_marks_the_channel_failing_and_the_user_hears_of_it(
    messaging, alice, whale, django_capture_on_commit_callbacks
):
    telegram, discord = channel(alice, "telegram"), channel(alice, "discord")
    rule_to(alice, telegram)
    messaging.messaging.blocked_chats.add(CHAT)
    [delivery_id] = actions.alert_on_swaps(swaps(whale, 1))

    with django_capture_on_commit_callbacks(execute=False):
        actions.send_delivery(delivery_id)

    telegram.refresh_from_db()
    assert telegram.state == "failing" and telegram.failing_since is not None
    assert telegram.last_error == "403 Forbidden: bot was blocked by the user"
    assert Delivery.objects.get(id=delivery_id).status == "failed"
    [notice] = Notice.objects.filter(user=alice)
    assert "Telegram" in notice.text and "blocked" in notice.text
    [told] = Delivery.objects.filter(kind="notice", channel=discord)
    actions.send_delivery(told.id)
    [posted] = messaging.messaging.messages("discord")
    assert "failing" in posted["body"]["embeds"][0]["title"]
    assert "blocked" in posted["body"]["embeds"][0]["fields"][0]["value"]

    # Failing already: another failure tells nobody again.
    [again] = actions.alert_on_swaps(swaps(whale, 1, start=NOW - 30))
    actions.send_delivery(again)
    assert Notice.objects.filter(user=alice).count() == 1
    assert Delivery.objects.filter(kind="notice").count() == 1


def test_a_group_upgraded_to_a_supergroup_gets_the_alert_there_and_keeps_the_new_id(messaging, alice, bob, whale):
    group = -4242
    alices, bobs = (actions.add_channel(user, "telegram", "Group")[0] for user in (alice, bob))
    for made in (alices, bobs):
        actions.link_telegram(made.telegram_links.get().code, group)
    rule_to(alice, alices)
    supergroup = messaging.messaging.upgrade_to_supergroup(group)
    [delivery_id] = actions.alert_on_swaps(swaps(whale, 1))

    assert actions.send_delivery(delivery_id) is None

    [sent] = messaging.messaging.messages("telegram")
    assert sent["chat_id"] == supergroup and "Whale X" in sent["visible_text"]
    delivery = Delivery.objects.get(id=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.answer_status) == ("sent", 1, 200)
    for made in (alices, bobs):  # everyone who linked the group now reaches the supergroup
        made.refresh_from_db()
        assert (made.config["chat_id"], made.state, made.last_error) == (supergroup, "ok", "")
    assert not Notice.objects.exists() and not Delivery.objects.filter(kind="notice").exists()

    [later] = actions.alert_on_swaps(swaps(whale, 1, start=NOW - 30))
    actions.send_delivery(later)
    assert [message["chat_id"] for message in messaging.messaging.messages("telegram")] == [supergroup] * 2


def test_a_duplicate_webhook_or_a_retried_task_sends_once(messaging, alice, whale):
    rule_to(alice, channel(alice, "telegram"))
    tx = usdc_swap(whale.address, address("dup token"), "buy", "10", "5000", NOW - 5)
    first = whales_ingest.ingest([tx], ArrivedVia.WEBHOOK, book=False)
    duplicate = whales_ingest.ingest([tx], ArrivedVia.WEBHOOK, book=False)
    assert duplicate.new_swaps == []
    ids = [swap.id for swap in first.new_swaps]

    to_send = actions.alert_on_swaps(ids)
    again = actions.alert_on_swaps(ids)  # the task run a second time
    send_all(to_send + again)
    send_all(to_send)

    assert Delivery.objects.count() == 1
    assert len(messaging.messaging.messages("telegram")) == 1


def test_fifty_swaps_in_a_minute_become_one_digest(messaging, alice, whale):
    telegram = channel(alice, "telegram")
    telegram.burst_limit = 5
    telegram.save()
    rule_to(alice, telegram)

    send_all(actions.alert_on_swaps(swaps(whale, 50)))

    assert len(messaging.messaging.messages("telegram")) == 5
    held = Delivery.objects.filter(status="held", held="burst")
    assert held.count() == 45
    assert actions.flush_held(telegram.id) is None  # the burst window is still open
    digest_id = actions.flush_held(telegram.id, now=timezone.now() + timedelta(seconds=61))
    actions.send_delivery(digest_id)

    messages = messaging.messaging.messages("telegram")
    assert len(messages) == 6
    assert "Whale X made 45 buys of 4 tokens in" in messages[-1]["visible_text"]
    assert Delivery.objects.filter(status="digested", digest_id=digest_id).count() == 45
    assert Delivery.objects.get(id=digest_id).status == "sent"
    assert not Delivery.objects.exclude(status__in=["sent", "digested"]).exists()  # nothing lost


def test_quiet_hours_hold_alerts_into_a_digest_at_their_end(messaging, alice, whale):
    telegram = channel(alice, "telegram")
    rule_to(alice, telegram)
    tokyo_now = timezone.now().astimezone(ZoneInfo("Asia/Tokyo"))
    start = (tokyo_now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (tokyo_now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    AlertSettings.objects.create(user=alice, time_zone="Asia/Tokyo", quiet_from=start, quiet_until=end)

    assert actions.alert_on_swaps(swaps(whale, 3)) == []

    held = list(Delivery.objects.filter(status="held"))
    assert len(held) == 3 and {d.held for d in held} == {"quiet"}
    quiet_end = held[0].held_until
    assert timedelta(minutes=58) < quiet_end - timezone.now() <= timedelta(hours=1)
    assert actions.flush_held(telegram.id, now=quiet_end - timedelta(seconds=1)) is None
    digest_id = actions.flush_held(telegram.id, now=quiet_end)
    actions.send_delivery(digest_id)
    [digest] = messaging.messaging.messages("telegram")
    assert "AURA digest: 3 alerts" in digest["visible_text"]


def test_quiet_hours_across_midnight():
    settings_row = AlertSettings(time_zone="Europe/Paris", quiet_from=clock(22, 0), quiet_until=clock(7, 0))
    late = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    assert settings_row.quiet_end_after(late) == datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    early = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)  # 06:00 in Paris
    assert settings_row.quiet_end_after(early) == datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    assert settings_row.quiet_end_after(datetime(2026, 12, 4, 12, 0, tzinfo=UTC)) is None


def test_rules_choose_what_reaches_whom(messaging, alice, bob, whale):
    other = TrackedWallet.objects.create(address=address("other whale"), label="Other")
    rule_to(alice, channel(alice, "discord"), wallets=Rule.Wallets.CHOSEN).chosen_wallets.add(other)
    rule_to(bob, channel(bob, "email"), side=Rule.Side.SELL)

    ids = actions.alert_on_swaps(swaps(whale, 1) + swaps(other, 1, start=NOW - 100))

    assert [Delivery.objects.get(id=i).channel.user for i in ids] == [alice]  # bob wants sells only
    assert Delivery.objects.get(id=ids[0]).event["wallet"]["address"] == other.address


def test_a_swap_without_a_usd_value_reaches_only_rules_without_a_minimum(messaging, alice, whale):
    rule_to(alice, channel(alice, "discord"))
    [swap_id] = swaps(whale, 1)
    Swap.objects.filter(id=swap_id).update(usd_value=None)
    assert actions.alert_on_swaps([swap_id]) == []
    Rule.objects.update(min_usd=0)
    assert len(actions.alert_on_swaps([swap_id])) == 1


def test_the_send_test_button_reaches_the_channel(messaging, alice):
    telegram = channel(alice, "telegram")
    actions.send_delivery(actions.send_test(telegram))
    [sent] = messaging.messaging.messages("telegram")
    assert sent["chat_id"] == CHAT and "AURA test message" in sent["visible_text"]


def signal_event(kind: str = "whale_accumulation", score: int = 80, symbol: str = HOSTILE_SYMBOL) -> dict:
    return {
        "kind": "signal",
        "signal": {
            "kind": kind,
            "token": {"mint": address("signal token"), "symbol": symbol, "name": HOSTILE_NAME},
            "score": score,
            "wallets": [address("w1"), {"address": address("w2"), "label": "<i>two</i>"}],
            "reasons": ["3 whales bought <b>$120k</b> in 1 h"],
        },
    }


def test_a_signal_reaches_the_rules_that_want_its_kind_and_score_once(messaging, alice):
    telegram, discord = channel(alice, "telegram"), channel(alice, "discord")
    rule_to(alice, telegram, trigger=Rule.Trigger.SIGNALS, signal_kinds=["whale_accumulation"], min_score=70)
    rule_to(alice, discord, trigger=Rule.Trigger.SIGNALS, min_score=90)

    assert actions.alert_on_signal(signal_event(kind="momentum"), "s1") == []
    ids = actions.alert_on_signal(signal_event(), "s2") + actions.alert_on_signal(signal_event(), "s2")
    send_all(ids)

    [sent] = messaging.messaging.messages("telegram")
    assert "3 whales bought <b>$120k</b> in 1 h" in sent["visible_text"]  # as text: Telegram parsed it
    assert messaging.messaging.messages("discord") == []  # score 80 < 90
    assert Delivery.objects.get().event_key == "signal:s2"


def test_a_malformed_signal_is_logged_and_queues_nothing(messaging, alice, caplog):
    rule_to(alice, channel(alice, "telegram"), trigger=Rule.Trigger.SIGNALS)
    broken = signal_event()
    broken["signal"]["score"] = 500
    assert actions.alert_on_signal(broken, "bad") == []
    assert "signal bad not alerted: signal.score must be an integer from 0 to 100" in caplog.text


def test_a_deleted_discord_webhook_marks_the_channel_failing(messaging, alice, whale):
    discord = channel(alice, "discord")
    rule_to(alice, discord)
    messaging.messaging.deleted_webhooks.add("1234567890")
    [delivery_id] = actions.alert_on_swaps(swaps(whale, 1))

    assert actions.send_delivery(delivery_id) is None
    discord.refresh_from_db()
    assert (discord.state, discord.last_error) == ("failing", "404 Unknown Webhook")
    assert Delivery.objects.get(id=delivery_id).status == "failed"


def test_a_webhook_receivers_retry_after_header_is_honoured(messaging, alice, whale):
    rule_to(alice, channel(alice, "webhook", url=f"{messaging.url}/receiver/n8n", secret="s"))
    messaging.messaging.faults.append(MessagingFault("webhook", 429, retry_after=7))
    [delivery_id] = actions.alert_on_swaps(swaps(whale, 1))

    assert actions.send_delivery(delivery_id) == 7
    delivery = Delivery.objects.get(id=delivery_id)
    assert delivery.status == "retrying" and delivery.next_attempt_at > timezone.now() + timedelta(seconds=6)


def test_swaps_whose_alert_task_was_never_queued_are_alerted_by_the_sweep(messaging, alice, whale):
    rule = rule_to(alice, channel(alice, "telegram"))
    Rule.objects.filter(id=rule.id).update(created_at=timezone.now() - timedelta(hours=1))
    ids = swaps(whale, 2)  # as if the broker had been down: no task ran for them
    Swap.objects.filter(id__in=ids).update(ingested_at=timezone.now() - timedelta(minutes=1))

    send_all(actions.alert_on_swaps(actions.swaps_to_sweep()))
    send_all(actions.alert_on_swaps(actions.swaps_to_sweep()))  # the next sweep finds nothing new

    assert len(messaging.messaging.messages("telegram")) == 2


def test_a_new_rule_hears_of_swaps_from_its_creation_on(messaging, alice, whale):
    [swap_id] = swaps(whale, 1)
    rule_to(alice, channel(alice, "telegram"))
    assert actions.alert_on_swaps([swap_id]) == []


def test_a_fired_signal_is_alerted_once_and_its_later_evidence_alerts_nobody_again(
    messaging, alice, monkeypatch, django_capture_on_commit_callbacks
):
    from signals import alerting, detection

    queued = []
    monkeypatch.setattr(alerting.current_app, "send_task", lambda name, args: queued.append((name, args)))
    rule_to(alice, channel(alice, "telegram"), trigger=Rule.Trigger.SIGNALS, signal_kinds=["whale_accumulation"])
    mint = address("cluster token")
    Token.objects.create(mint=mint, symbol=HOSTILE_SYMBOL, name=HOSTILE_NAME)
    whales = [
        TrackedWallet.objects.create(address=address(f"cluster whale {n}"), label=f"<b>w{n}</b>") for n in range(4)
    ]

    def buy(whale: TrackedWallet, t: int) -> list[int]:
        payload = usdc_swap(whale.address, mint, "buy", "100", "100", t, seed=f"cluster {whale.id} {t}")
        return [swap.id for swap in whales_ingest.ingest([payload], ArrivedVia.WEBHOOK, book=False).new_swaps]

    with django_capture_on_commit_callbacks(execute=True):
        detection.detect_swap_signals([i for n, whale in enumerate(whales[:3]) for i in buy(whale, NOW - 300 + n)])
    with django_capture_on_commit_callbacks(execute=True):  # a fourth wallet joins the active signal
        detection.detect_swap_signals(buy(whales[3], NOW - 200))

    [(event, key)] = [args for name, args in queued if name == "alerts.tasks.alert_on_signal"]
    assert event["signal"]["kind"] == "whale_accumulation" and event["signal"]["token"]["symbol"] == HOSTILE_SYMBOL
    assert {wallet["address"] for wallet in event["signal"]["wallets"]} == {w.address for w in whales[:3]}
    send_all(actions.alert_on_signal(event, key))
    [sent] = messaging.messaging.messages("telegram")
    assert "Whale accumulation: <b>@everyone</b> & <scr" in sent["visible_text"]  # text: Telegram took the escaped HTML
    assert "3 tracked wallets net-buying within 30 min (rule: at least 3); net $300" in sent["visible_text"]
