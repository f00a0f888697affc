"""The alert pages: channels (add, send test, delete, visible state), rules, the delivery log, notices,
and staff's alert status — each user sees and touches only their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import actions
from alerts.models import Channel, Delivery, Notice, Rule

pytestmark = pytest.mark.django_db


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_a_webhook_secret_is_shown_once_and_never_again(client, alice):
    client.force_login(alice)
    response = client.post(
        "/alerts/channels/",
        {"kind": "webhook", "label": "n8n", "target": "https://n8n.example/webhook/aura"},
        follow=True,
    )
    channel = Channel.objects.get(user=alice, kind="webhook")
    assert len(channel.secret) >= 32
    assert f"signing secret (shown once): {channel.secret}" in response.content.decode()
    assert channel.secret not in page(client, "/alerts/channels/")


def test_a_bad_discord_url_is_refused_with_the_reason(client, alice):
    client.force_login(alice)
    html = client.post("/alerts/channels/", {"kind": "discord", "target": "https://evil.example/api/webhooks/1/x"})
    assert "a Discord webhook URL starts with https://discord.com/api/webhooks/" in html.content.decode()
    assert not Channel.objects.exists()


def test_a_telegram_channel_waits_for_its_link_and_shows_it(client, alice):
    client.force_login(alice)
    client.post("/alerts/channels/", {"kind": "telegram", "label": "Phone"})
    channel = Channel.objects.get(user=alice)
    code = channel.telegram_links.get().code
    html = page(client, "/alerts/channels/")
    assert "waiting to be linked" in html
    assert f"https://t.me/AuraAlertsBot?start={code}" in html
    assert "Send test" not in html  # nothing to send to yet


def test_a_failing_channel_shows_since_when_and_why(client, alice):
    channel, _ = actions.add_channel(alice, "discord", "Team", "https://discord.com/api/webhooks/1/tok")
    actions.channel_failing(channel, "404 Unknown Webhook")
    client.force_login(alice)
    html = page(client, "/alerts/channels/")
    assert 'data-state="failing"' in html and "failing since" in html and "404 Unknown Webhook" in html
    assert "Your alert channel “Team” is failing: 404 Unknown Webhook" in page(client, "/")  # on every page
    client.post("/alerts/notices/dismiss/")
    assert not Notice.objects.filter(dismissed_at=None).exists()


def test_send_test_queues_a_test_delivery(client, alice, django_capture_on_commit_callbacks):
    channel, _ = actions.add_channel(alice, "email", "Mail", "alice@example.com")
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(f"/alerts/channels/{channel.id}/test/")
    assert Delivery.objects.get().kind == "test" and len(queued) == 1


def test_carol_cannot_touch_alices_channels_or_rules(client, alice, carol):
    channel, _ = actions.add_channel(alice, "email", "Mail", "alice@example.com")
    rule = Rule.objects.create(user=alice)
    client.force_login(carol)
    assert client.post(f"/alerts/channels/{channel.id}/test/").status_code == 404
    assert client.post(f"/alerts/channels/{channel.id}/delete/").status_code == 404
    assert client.post(f"/alerts/rules/{rule.id}/delete/").status_code == 404
    response = client.post(
        "/alerts/rules/",
        {
            "trigger": "swaps",
            "wallets": "all",
            "side": "any",
            "min_usd": "1",
            "min_score": "0",
            "channels": [channel.id],
        },
    )
    assert "Select a valid choice" in response.content.decode()
    assert Channel.objects.filter(id=channel.id).exists() and Rule.objects.filter(user=carol).count() == 0


def test_a_rule_is_added_and_routed(client, alice):
    channel, _ = actions.add_channel(alice, "email", "Mail", "alice@example.com")
    client.force_login(alice)
    client.post(
        "/alerts/rules/",
        {
            "name": "Signals",
            "trigger": "signals",
            "wallets": "all",
            "side": "any",
            "min_usd": "0",
            "min_score": "70",
            "signal_kinds_text": "whale_accumulation, momentum",
            "channels": [channel.id],
        },
    )
    rule = Rule.objects.get(user=alice)
    assert rule.signal_kinds == ["whale_accumulation", "momentum"] and list(rule.channels.all()) == [channel]
    assert "Signals" in page(client, "/alerts/rules/")


def test_the_log_shows_each_step_and_only_the_users_own(client, alice, carol):
    channel, _ = actions.add_channel(alice, "email", "Mail", "alice@example.com")
    now = timezone.now()
    Delivery.objects.create(
        user=alice,
        channel=channel,
        event_key="swap:1",
        kind="swap",
        summary="Whale X buy BONK",
        status="sent",
        attempts=2,
        ingested_at=now,
        sent_at=now,
        answered_at=now + timedelta(milliseconds=180),
        answer_status=200,
        answer='{"ok":true}',
    )
    client.force_login(alice)
    html = page(client, "/alerts/log/")
    assert "Whale X buy BONK" in html and "0.180 s" in html and "200 {&quot;ok&quot;:true}" in html
    client.force_login(carol)
    assert "Whale X buy BONK" not in page(client, "/alerts/log/")


def test_staff_see_alert_latency_per_channel(client, admin_user, alice):
    email, _ = actions.add_channel(alice, "email", "Mail", "alice@example.com")
    now = timezone.now()
    for n, ms in enumerate([100, 200, 300, 400, 1000]):
        Delivery.objects.create(
            user=alice,
            channel=email,
            event_key=f"swap:{n}",
            kind="swap",
            status="sent",
            ingested_at=now,
            answered_at=now + timedelta(milliseconds=ms),
        )
    client.force_login(alice)
    assert client.get("/status/alerts/").status_code == 403
    client.force_login(admin_user)
    html = page(client, "/status/alerts/")
    assert '<td class="num" data-metric="p50">300 ms</td>' in html
    assert '<td class="num" data-metric="p95">1000 ms</td>' in html
