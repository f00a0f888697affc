"""Signed generic webhooks (alerts.messages.webhook): the aura.alert.v1 body, its signature, and what a
receiver following docs/webhooks.md does with them."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest

from alerts.messages import (
    SCHEMA,
    make_channel_test,
    make_digest,
    parse_event,
    sign_webhook,
    verify_webhook_signature,
    webhook_request,
    webhook_url_path,
)
from tests.alert_builders import ALICE, BLOCK_TIME, BOB, BONK, SIGNATURE, SITE, WIF, signal_data, swap_data

REPO_DIR = Path(__file__).resolve().parent.parent
SECRET = "whsec-alice-n8n"
NOW = BLOCK_TIME + 5


def request_for(data: dict, **kwargs):
    options = {"secret": SECRET, "timestamp": NOW, "site_url": SITE} | kwargs
    return webhook_request(parse_event(data), **options)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_raw_body():
    request = request_for(swap_data())

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + request.body.encode(), hashlib.sha256).hexdigest()
    assert request.headers["X-Aura-Signature"] == "sha256=" + expected
    assert request.headers["X-Aura-Timestamp"] == str(NOW)


def test_the_signature_matches_the_fixed_test_vector():
    signature = sign_webhook("test-secret", 1700000000, '{"event":"alert.test","id":1}')

    assert signature == "sha256=e349e496b59b162f237f0e4d1bcd52e12f6cd713c1dadbd48b99f83ccc79302b"


def test_a_swap_becomes_the_documented_v1_body():
    request = request_for(swap_data(signature=SIGNATURE, id="rule-7:swap-991"))

    assert (request.method, request.url_path) == ("POST", "/webhook/aura-alert")
    assert request.headers == {
        "Content-Type": "application/json",
        "User-Agent": "AURA-Webhooks/1",
        "X-Aura-Event-Id": "rule-7:swap-991",
        "X-Aura-Timestamp": str(NOW),
        "X-Aura-Signature": sign_webhook(SECRET, NOW, request.body),
    }
    assert json.loads(request.body) == {
        "schema": "aura.alert.v1",
        "id": "rule-7:swap-991",
        "type": "swap",
        "occurred_at": "2025-11-24T16:00:00Z",
        "occurred_at_unix": BLOCK_TIME,
        "summary": "alice bought 1,000 BONK for $12.50",
        "swap": {
            "wallet": {
                "address": ALICE,
                "label": "alice",
                "url": f"{SITE}/wallets/{ALICE}/",
                "solscan_url": f"https://solscan.io/account/{ALICE}",
            },
            "side": "buy",
            "token": {
                "mint": BONK,
                "symbol": "BONK",
                "name": "Bonk",
                "url": f"{SITE}/tokens/{BONK}/",
                "solscan_url": f"https://solscan.io/token/{BONK}",
            },
            "token_amount": "1000",
            "usd": "12.5",
            "price_usd": "0.0125",
            "block_time": BLOCK_TIME,
            "signature": SIGNATURE,
            "solscan_url": f"https://solscan.io/tx/{SIGNATURE}",
        },
    }


def test_amounts_are_exact_decimal_strings():
    body = json.loads(request_for(swap_data(token_amount="0.000000001", usd="1E+3")).body)

    assert (body["swap"]["token_amount"], body["swap"]["usd"], body["swap"]["price_usd"]) == (
        "0.000000001",
        "1000",
        "1000000000000",
    )
    assert json.loads(request_for(swap_data(usd=None)).body)["swap"]["usd"] is None


def test_a_signal_becomes_the_documented_v1_body():
    body = json.loads(request_for(signal_data()).body)

    assert body["type"] == "signal" and body["schema"] == SCHEMA
    assert body["occurred_at"] == "2025-11-24T16:01:00Z"
    assert body["summary"] == "3 tracked wallets are buying WIF · score 82/100"
    assert body["signal"] == {
        "kind": "whale_accumulation",
        "token": {
            "mint": WIF,
            "symbol": "WIF",
            "name": "dogwifhat",
            "url": f"{SITE}/tokens/{WIF}/",
            "solscan_url": f"https://solscan.io/token/{WIF}",
        },
        "score": 82,
        "wallets": [
            {
                "address": a,
                "label": label,
                "url": f"{SITE}/wallets/{a}/",
                "solscan_url": f"https://solscan.io/account/{a}",
            }
            for a, label in [(ALICE, None), (BOB, "bob"), ("5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1", None)]
        ],
        "reasons": ["3 tracked wallets net-bought $41,200 within 30 min", "alice: win rate 64% over 25 cycles"],
        "fired_at": BLOCK_TIME + 60,
    }


def test_a_digest_body_carries_every_event_not_only_the_ones_a_chat_message_shows():
    events = [
        parse_event(swap_data(block_time=BLOCK_TIME + i, side="sell" if i % 5 == 0 else "buy")) for i in range(50)
    ]
    events.append(parse_event(signal_data()))
    digest = make_digest(events)

    request = webhook_request(digest, secret=SECRET, timestamp=NOW, site_url=SITE)

    body = json.loads(request.body)
    assert body["type"] == "digest"
    assert {key: value for key, value in body["digest"].items() if key != "events"} == {
        "window_start": BLOCK_TIME,
        "window_end": BLOCK_TIME + 60,
        "swap_count": 50,
        "buy_count": 40,
        "sell_count": 10,
        "signal_count": 1,
        "wallet_count": 1,
        "token_count": 2,
        "usd_total": "625",
    }
    assert len(body["digest"]["events"]) == 51
    assert [event["type"] for event in body["digest"]["events"]][-2:] == ["swap", "signal"]
    assert len({event["id"] for event in body["digest"]["events"]}) == 51
    assert body["summary"] == "alice made 40 buys and 10 sells of 1 token in 1 min, plus 1 signal"


def test_the_channel_test_body():
    request = webhook_request(make_channel_test(NOW, "n8n prod"), secret=SECRET, timestamp=NOW, site_url=SITE)

    body = json.loads(request.body)
    assert body["type"] == "test"
    assert body["test"] == {"message": "AURA test message: this webhook works.", "channel_label": "n8n prod"}
    assert body["occurred_at_unix"] == NOW


def test_a_retry_sends_the_same_body_and_id_with_a_new_timestamp_and_signature():
    first = request_for(swap_data())
    retry = request_for(swap_data(), timestamp=NOW + 60)

    assert retry.body == first.body
    assert retry.headers["X-Aura-Event-Id"] == first.headers["X-Aura-Event-Id"] == json.loads(first.body)["id"]
    assert re.fullmatch(r"swap_[0-9a-f]{32}", first.headers["X-Aura-Event-Id"])
    assert retry.headers["X-Aura-Signature"] != first.headers["X-Aura-Signature"]
    assert request_for(swap_data(usd="13")).headers["X-Aura-Event-Id"] != first.headers["X-Aura-Event-Id"]
    assert request_for(swap_data(), event_id="rule-1:evt-2:webhook-3").headers["X-Aura-Event-Id"] == (
        "rule-1:evt-2:webhook-3"
    )


def test_the_body_is_ascii_json_and_keeps_hostile_names_as_cleaned_data():
    name = "<script>@everyone\x00\u202e" + "&" * 10_000
    request = request_for(swap_data(token={"mint": BONK, "symbol": "**PUMP**", "name": name}))

    assert request.body.isascii()
    token = json.loads(request.body)["swap"]["token"]
    assert token["symbol"] == "**PUMP**"
    assert token["name"] == "<script>@everyone " + "&" * 10_000


@pytest.mark.parametrize(
    ("timestamp", "signature_for", "body", "ok"),
    [
        (str(NOW), "same", None, True),
        (str(NOW - 300), "same", None, True),
        (str(NOW - 301), "same", None, False),  # stale: a replay
        (str(NOW + 301), "same", None, False),  # from the future
        (str(NOW), "same", b'{"tampered":true}', False),
        (str(NOW), "other-secret", None, False),
        ("not-a-time", "same", None, False),
        (str(NOW), "missing", None, False),
    ],
)
def test_a_receiver_accepts_only_a_fresh_untampered_signed_body(timestamp, signature_for, body, ok):
    request = request_for(swap_data(), timestamp=int(timestamp) if timestamp.isdigit() else NOW)
    secret = "other-secret" if signature_for == "other-secret" else SECRET
    signature = "" if signature_for == "missing" else sign_webhook(secret, timestamp, request.body)

    assert verify_webhook_signature(SECRET, timestamp, signature, body or request.body_bytes, now=NOW) is ok


def test_a_webhook_needs_a_secret():
    with pytest.raises(ValueError):
        request_for(swap_data(), secret="")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://n8n.example.com/webhook/aura-alert", "/webhook/aura-alert"),
        ("https://hooks.zapier.com/hooks/catch/123/abc/?x=1", "/hooks/catch/123/abc/?x=1"),
        ("http://127.0.0.1:5678", "/"),
    ],
)
def test_a_webhook_url_gives_its_path_and_query(url, path):
    assert webhook_url_path(url) == path


@pytest.mark.parametrize("url", ["ftp://x.example/a", "n8n.example.com/webhook", "https:///nohost"])
def test_a_webhook_url_must_be_http(url):
    with pytest.raises(ValueError):
        webhook_url_path(url)
