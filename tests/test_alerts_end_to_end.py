"""From Helius's webhook to Telegram, through the real stack: Daphne stores the swap, a Celery worker on
the alerts queue matches rules and sends, the local Telegram stand-in receives."""

from __future__ import annotations

import time

import pytest

from alerts.models import Delivery
from tests.builders import address, usdc_swap
from tests.test_alerts_delivery import CHAT, channel, rule_to
from whales.models import TrackedWallet

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
    return result


def test_a_swap_webhook_delivered_twice_reaches_telegram_once_with_its_timings(daphne_server, messaging, alice):
    whale = TrackedWallet.objects.create(address=address("e2e whale"), label="E2E whale")
    rule_to(alice, channel(alice, "telegram"))
    tx = usdc_swap(whale.address, address("e2e token"), "buy", "100", "25000", int(time.time()) - 3)

    assert daphne_server.post_webhook([tx]).status_code == 200
    assert daphne_server.post_webhook([tx]).status_code == 200  # Helius delivers again

    [sent] = wait_for(lambda: messaging.messaging.messages("telegram"))
    assert sent["chat_id"] == CHAT and "E2E whale bought 100" in sent["visible_text"]
    delivery = wait_for(lambda: Delivery.objects.filter(status="sent").first())
    assert delivery.block_time <= delivery.ingested_at <= delivery.queued_at <= delivery.sent_at <= delivery.answered_at
    assert delivery.answer_status == 200 and '"message_id"' in delivery.answer
    time.sleep(1)  # a second message, were one coming, would be here by now
    assert len(messaging.messaging.messages("telegram")) == 1
    assert Delivery.objects.count() == 1
