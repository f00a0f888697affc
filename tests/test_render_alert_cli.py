"""`manage.py render_alert`, the CLI contract, run as the acceptance checks run it: a subprocess in the repo
with no serving secrets and unreachable services, so touching either would fail."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alert_builders import ALICE, BONK, HOSTILE, signal_data, swap_data, telegram_visible

REPO_DIR = Path(__file__).resolve().parent.parent
VENV_PYTHON = REPO_DIR / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


def run_render_alert(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:9/no_database"
    env["REDIS_URL"] = "redis://127.0.0.1:9/0"
    return subprocess.run(
        [PYTHON, "manage.py", "render_alert", *args], cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def event_file(tmp_path: Path, data, name: str = "event.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def rendered(*args: str) -> dict:
    result = run_render_alert(*args)
    assert (result.returncode, result.stderr) == (0, "")
    return json.loads(result.stdout)


def test_webhook_prints_the_raw_body_and_a_signature_that_verifies_over_it(tmp_path):
    request = rendered(
        event_file(tmp_path, swap_data()), "--channel", "webhook", "--secret", "s", "--now", "1764000001"
    )

    assert set(request) == {"method", "url_path", "headers", "body"}
    assert isinstance(request["body"], str)
    expected = hmac.new(b"s", b"1764000001." + request["body"].encode(), hashlib.sha256).hexdigest()
    assert request["headers"]["X-Aura-Signature"] == f"sha256={expected}"
    assert request["headers"]["X-Aura-Timestamp"] == "1764000001"
    body = json.loads(request["body"])
    assert (body["schema"], body["type"], body["swap"]["usd"]) == ("aura.alert.v1", "swap", "12.5")
    assert request["headers"]["X-Aura-Event-Id"] == body["id"]
    assert (request["method"], request["url_path"]) == ("POST", "/webhook/aura-alert")


def test_webhook_url_and_a_fixed_body_give_a_fixed_signature(tmp_path):
    request = rendered(
        event_file(tmp_path, swap_data(id="evt-1")),
        *("--channel", "webhook", "--secret", "test-secret", "--now", "1700000000"),
        *("--url", "https://n8n.example.com/webhook/aura?src=aura"),
    )

    assert request["url_path"] == "/webhook/aura?src=aura"
    assert request["headers"]["X-Aura-Event-Id"] == "evt-1"
    expected = hmac.new(b"test-secret", b"1700000000." + request["body"].encode(), hashlib.sha256).hexdigest()
    assert request["headers"]["X-Aura-Signature"] == f"sha256={expected}"


def test_telegram_prints_sendmessage_with_placeholders_unless_given_a_token_and_chat(tmp_path):
    path = event_file(tmp_path, swap_data())

    placeholder = rendered(path, "--channel", "telegram", "--secret", "ignored", "--now", "1")
    real = rendered(
        path, "--channel", "telegram", "--token", "123:ABC", "--chat-id", "-1001234", "--site-url", "https://a.example"
    )

    assert placeholder["url_path"] == "/bot{TELEGRAM_BOT_TOKEN}/sendMessage"
    assert placeholder["body"]["chat_id"] == "{TELEGRAM_CHAT_ID}"
    assert (placeholder["body"]["parse_mode"], placeholder["body"]["link_preview_options"]) == (
        "HTML",
        {"is_disabled": True},
    )
    assert (real["url_path"], real["body"]["chat_id"]) == ("/bot123:ABC/sendMessage", -1001234)
    assert f'<a href="https://a.example/wallets/{ALICE}/">alice</a> bought' in real["body"]["text"]
    assert placeholder["headers"] == {"Content-Type": "application/json"}


def test_discord_prints_execute_webhook_with_a_placeholder_path_unless_given_the_url(tmp_path):
    path = event_file(tmp_path, signal_data())

    placeholder = rendered(path, "--channel", "discord")
    real = rendered(path, "--channel", "discord", "--url", "https://discord.com/api/webhooks/42/tok_EN")

    assert placeholder["url_path"] == "/api/webhooks/{DISCORD_WEBHOOK_ID}/{DISCORD_WEBHOOK_TOKEN}?wait=true"
    assert real["url_path"] == "/api/webhooks/42/tok_EN?wait=true"
    assert real["body"]["allowed_mentions"] == {"parse": []}
    assert real["body"]["embeds"][0]["title"] == "🐋 Whale accumulation\\: WIF"


def test_hostile_symbols_come_out_escaped_from_the_cli(tmp_path):
    token = {"mint": BONK, "symbol": HOSTILE[0], "name": " ".join(HOSTILE)}
    path = event_file(tmp_path, swap_data(token=token, wallet={"address": ALICE, "label": "@everyone"}))

    telegram = rendered(path, "--channel", "telegram")
    discord = rendered(path, "--channel", "discord")

    visible = telegram_visible(telegram["body"]["text"])
    assert "🟢 BUY <script>alert(1)</scrip…\n@everyone bought" in visible
    assert "@everyone" not in json.dumps(discord["body"], ensure_ascii=False)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("[{", ("--channel", "telegram"), "is not valid JSON"),
        ('{"kind": "transfer"}', ("--channel", "telegram"), 'kind must be "swap" or "signal", got "transfer"'),
        ('{"kind": "swap"}', ("--channel", "discord"), "missing wallet, side, token, token_amount, usd, block_time"),
        (json.dumps(swap_data(usd=[1])), ("--channel", "telegram"), "usd must be a decimal string or a number"),
        (
            json.dumps(signal_data(score=3.5)),
            ("--channel", "telegram"),
            "signal.score must be an integer from 0 to 100",
        ),
        (json.dumps(swap_data()), ("--channel", "sms"), "argument --channel: invalid choice: 'sms'"),
        (json.dumps(swap_data()), (), "the following arguments are required: --channel"),
        (json.dumps(swap_data()), ("--channel", "webhook"), "--channel webhook needs --secret"),
        (json.dumps(swap_data()), ("--channel", "webhook", "--secret", "s", "--now", "soon"), "argument --now"),
        (json.dumps(swap_data()), ("--channel", "discord", "--url", "https://evil.example/x"), "Discord webhook URL"),
        (json.dumps(swap_data()), ("--channel", "telegram", "--token", "a/b"), "Telegram bot token"),
        (json.dumps(swap_data()), ("--channel", "telegram", "--site-url", "javascript:alert(1)"), "site URL"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, content, args, message):
    result = run_render_alert(event_file(tmp_path, content), *args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_exits_2_with_one_line(tmp_path):
    result = run_render_alert(str(tmp_path / "nope.json"), "--channel", "telegram")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"CommandError: cannot read {tmp_path / 'nope.json'}: No such file or directory"
    ]


def test_help_documents_the_placeholders_and_the_secret_rule():
    result = run_render_alert("--help")

    assert result.returncode == 0
    for text in ("{TELEGRAM_BOT_TOKEN}", "{TELEGRAM_CHAT_ID}", "{DISCORD_WEBHOOK_ID}", "--secret is required"):
        assert text in result.stdout
