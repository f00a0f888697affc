"""The AURA Telegram bot: linking a chat with the deep link's one-time code, and its commands — as
`alerts.bot.answer` and as the real `telegram_bot` process (python-telegram-bot polling getUpdates
from the local Telegram stand-in)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import actions, bot
from alerts.models import AlertSettings, Channel
from portfolios.models import Follow
from tests.builders import address
from tests.conftest import REPO_DIR, live_server_env
from tests.test_alerts_end_to_end import wait_for
from whales.models import TrackedWallet

CHAT = 777001


def telegram_channel(user) -> tuple[Channel, str]:
    channel, _ = actions.add_channel(user, Channel.Kind.TELEGRAM, "My phone")
    return channel, channel.telegram_links.get().code


@pytest.mark.django_db
def test_a_chat_is_linked_once_by_its_code(alice, django_user_model):
    channel, code = telegram_channel(alice)
    assert channel.state == "pending"

    reply = bot.answer(CHAT, f"/start {code}")

    channel.refresh_from_db()
    assert "Linked" in reply and "alice" in reply
    assert channel.state == "ok" and channel.config["chat_id"] == CHAT
    carol_chat = 999
    assert "unknown, used or expired" in bot.answer(carol_chat, f"/start {code}")  # used: nobody else gets in
    assert actions.telegram_channels_of_chat(carol_chat) == []


@pytest.mark.django_db
def test_an_expired_code_links_nothing(alice):
    channel, code = telegram_channel(alice)
    channel.telegram_links.update(created_at=timezone.now() - timedelta(hours=2))
    assert "expired" in bot.answer(CHAT, f"/start {code}")
    channel.refresh_from_db()
    assert channel.state == "pending"


@pytest.mark.django_db
def test_commands_answer_linked_chats_only(alice):
    whale = TrackedWallet.objects.create(address=address("bot whale"), label="<b>Bot</b> whale")
    assert "not linked" in bot.answer(CHAT, "/top")
    _, code = telegram_channel(alice)
    bot.answer(CHAT, f"/start {code}")

    assert "Following <b>&lt;b&gt;Bot&lt;/b&gt; whale</b>" in bot.answer(CHAT, f"/follow {whale.address}")
    assert Follow.objects.filter(user=alice, wallet=whale).exists()
    assert "Not a tracked wallet" in bot.answer(CHAT, "/wallet nope")
    assert whale.address in bot.answer(CHAT, f"/wallet {whale.address}")
    assert "Muted until" in bot.answer(CHAT, "/mute 2h")
    muted_until = AlertSettings.objects.get(user=alice).muted_until
    assert timedelta(minutes=119) < muted_until - timezone.now() <= timedelta(hours=2)
    assert "on again" in bot.answer(CHAT, "/mute off")
    assert AlertSettings.objects.get(user=alice).muted_until is None
    assert "Usage" in bot.answer(CHAT, "/mute forever")


@pytest.mark.django_db(transaction=True)
def test_the_bot_process_links_a_chat_through_get_updates(messaging, alice, django_db_blocker):
    channel, code = telegram_channel(alice)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "telegram_bot", "--poll-timeout", "1"],
        cwd=REPO_DIR,
        env=live_server_env(django_db_blocker),
    )
    try:
        messaging.messaging.user_writes(CHAT, f"/start {code}")
        reply = wait_for(lambda: messaging.messaging.messages("telegram"), seconds=40)[0]
        assert reply["chat_id"] == CHAT and "Linked" in reply["visible_text"]
        channel.refresh_from_db()
        assert channel.state == "ok" and channel.config["chat_id"] == CHAT
    finally:
        process.terminate()
        process.wait(timeout=20)
