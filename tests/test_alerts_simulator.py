"""The market simulator plays Telegram's Bot API and Discord's webhooks (what `make run`'s demo alerts
reach): what it accepts and refuses as they do, what it records, the failures it injects on request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from telegram import Bot
from telegram.error import ChatMigrated

from simulator.server import MarketSimulator, SimulatorConfig

BOT = "/bot100200300:aura-demo-bot"
HOOK = "/api/webhooks/100200300/aura-demo-webhook"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    config = SimulatorConfig(
        port=0, wallets=5, tokens=4, history_days=0.2, history_txs=50, swaps_per_minute=0, warm_cache=False
    )
    with MarketSimulator(config) as simulator, httpx.Client(base_url=simulator.url, timeout=10) as client:
        yield client


def test_it_takes_telegram_html_it_can_parse_and_refuses_what_telegram_refuses(http):
    http.delete("/sim/messages")
    sent = http.post(
        f"{BOT}/sendMessage", json={"chat_id": 7, "text": "<b>BONK</b> &lt;3 &amp; co", "parse_mode": "HTML"}
    )
    assert sent.status_code == 200 and sent.json()["result"]["text"] == "BONK <3 & co"
    refused = http.post(f"{BOT}/sendMessage", json={"chat_id": 7, "text": "<b>x</i>", "parse_mode": "HTML"})
    assert refused.status_code == 400
    assert refused.json() == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", '
        'found "</i>"',
    }
    [recorded] = http.get("/sim/messages", params={"platform": "telegram"}).json()
    assert recorded["chat_id"] == 7 and recorded["visible_text"] == "BONK <3 & co"


def test_it_injects_429_403_and_5xx_on_request(http):
    http.post("/sim/messaging/faults", json={"platform": "telegram", "status": 429, "retry_after": 3})
    limited = http.post(f"{BOT}/sendMessage", json={"chat_id": 7, "text": "hi"})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["parameters"] == {"retry_after": 3}
    http.post("/sim/messaging/faults", json={"platform": "discord", "status": 503, "count": 2})
    assert [http.post(HOOK, json={"content": "x"}).status_code for _ in range(3)] == [503, 503, 204]
    http.post("/sim/telegram/blocked", json={"chat_id": 66})
    blocked = http.post(f"{BOT}/sendMessage", json={"chat_id": 66, "text": "hi"})
    assert (blocked.status_code, blocked.json()["description"]) == (403, "Forbidden: bot was blocked by the user")


def test_a_group_upgraded_to_a_supergroup_answers_as_telegram_does_and_the_supergroup_takes_messages(http):
    upgraded = http.post("/sim/telegram/migrated", json={"chat_id": -4242})
    supergroup = upgraded.json()["migrate_to_chat_id"]
    assert supergroup == -1004242

    refused = http.post(f"{BOT}/sendMessage", json={"chat_id": -4242, "text": "hi"})
    assert refused.status_code == 400
    assert refused.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": supergroup},
    }
    assert http.post(f"{BOT}/sendMessage", json={"chat_id": supergroup, "text": "hi"}).status_code == 200


def test_python_telegram_bot_reads_the_upgrade_answer_as_chat_migrated(http):
    http.post("/sim/telegram/migrated", json={"chat_id": -777, "to_chat_id": -1009990001})

    async def send() -> None:
        async with Bot(BOT.removeprefix("/bot"), base_url=f"{str(http.base_url).rstrip('/')}/bot") as bot:
            await bot.send_message(chat_id=-777, text="hi")

    with pytest.raises(ChatMigrated) as migrated:
        asyncio.run(send())
    assert migrated.value.new_chat_id == -1009990001


def test_discord_answers_the_message_with_wait_and_refuses_oversized_content(http):
    made = http.post(f"{HOOK}?wait=true", json={"content": "x", "allowed_mentions": {"parse": []}})
    assert made.status_code == 200 and made.json()["content"] == "x" and made.json()["id"]
    too_long = http.post(HOOK, json={"content": "x" * 2001})
    assert too_long.status_code == 400 and too_long.json()["errors"]["content"] == "Must be 2000 or fewer in length."
    http.post("/sim/discord/deleted", json={"webhook_id": "100200300"})
    assert http.post(HOOK, json={"content": "x"}).status_code == 404


def test_what_a_user_writes_to_the_bot_comes_back_from_get_updates_once_confirmed(http):
    assert http.get(f"{BOT}/getMe").json()["result"]["is_bot"] is True
    update_id = http.post("/sim/telegram/updates", json={"chat_id": 9, "text": "/start abc"}).json()["update_id"]
    [update] = http.post(f"{BOT}/getUpdates", json={"timeout": 0}).json()["result"]
    assert update["update_id"] == update_id and update["message"]["text"] == "/start abc"
    assert http.post(f"{BOT}/getUpdates", json={"offset": update_id + 1, "timeout": 0}).json()["result"] == []
