"""Alert messages per channel (alerts.messages): exact requests, hostile strings, every platform limit."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from alerts.messages import (
    InvalidEvent,
    discord_payload,
    discord_request,
    discord_webhook_path,
    email_content,
    make_channel_test,
    make_digest,
    parse_event,
    telegram_path,
    telegram_request,
    telegram_text,
)
from alerts.messages.compose import message_for
from alerts.messages.discord import DISCORD_MARKDOWN
from alerts.messages.document import Field, Message, Text, bold
from alerts.messages.text import Links, clean_text, format_amount, format_duration, format_usd
from tests.alert_builders import (
    ALICE,
    BLOCK_TIME,
    BOB,
    BONK,
    HOSTILE,
    JUP,
    SIGNATURE,
    SITE,
    USDC,
    WIF,
    all_strings,
    discord_unescape,
    signal_data,
    swap_data,
    telegram_visible,
)

REPO_DIR = Path(__file__).resolve().parent.parent
LINKS = Links(SITE)


def telegram_body(data: dict) -> dict:
    request = telegram_request(parse_event(data), bot_token="123:ABC", chat_id=42, site_url=SITE)
    return json.loads(request.body)


def discord_body(data: dict) -> dict:
    request = discord_request(parse_event(data), webhook_path="/api/webhooks/1/t?wait=true", site_url=SITE)
    return json.loads(request.body)


def check_discord_limits(body: dict) -> None:
    """Every limit of Discord's Execute Webhook (content, embeds, fields, footer, total)."""
    assert len(body["content"]) <= 2000
    assert body["allowed_mentions"] == {"parse": []}
    assert 1 <= len(body["username"]) <= 80
    (embed,) = body["embeds"]
    assert len(embed["title"]) <= 256
    assert len(embed.get("description", "")) <= 4096
    assert len(embed.get("fields", [])) <= 25
    for field in embed.get("fields", []):
        assert 1 <= len(field["name"]) <= 256 and 1 <= len(field["value"]) <= 1024
    assert len(embed["footer"]["text"]) <= 2048
    total = len(embed["title"]) + len(embed.get("description", "")) + len(embed["footer"]["text"])
    total += sum(len(field["name"]) + len(field["value"]) for field in embed.get("fields", []))
    assert total <= 6000
    assert 0 <= embed["color"] <= 0xFFFFFF


# --- reading events ---------------------------------------------------------------------------------


def test_it_reads_the_contract_swap_event_exactly():
    event = parse_event(swap_data(signature=SIGNATURE, usd=12.5))

    assert (event.wallet.address, event.wallet.label, event.side) == (ALICE, "alice", "buy")
    assert (event.token.mint, event.token.symbol, event.token.name) == (BONK, "BONK", "Bonk")
    assert (event.token_amount, event.usd, event.block_time, event.signature) == (
        Decimal("1000"),
        Decimal("12.5"),
        BLOCK_TIME,
        SIGNATURE,
    )
    assert event.price_usd == Decimal("0.0125")


def test_it_reads_a_signal_with_wallets_as_addresses_or_objects_and_reasons_as_text_or_objects():
    event = parse_event(signal_data(reasons=["net buy $41,200", {"text": "alice won 64%"}, {"window": 1800}]))

    assert [(wallet.address, wallet.label) for wallet in event.wallets] == [
        (ALICE, None),
        (BOB, "bob"),
        ("5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1", None),
    ]
    assert event.reasons == ("net buy $41,200", "alice won 64%", "window=1800")
    assert (event.signal_kind, event.score, event.fired_at) == ("whale_accumulation", 82, BLOCK_TIME + 60)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "an event is a JSON object, got an array"),
        ({"kind": "transfer"}, 'kind must be "swap" or "signal", got "transfer"'),
        ({"wallet": {}}, 'kind must be "swap" or "signal", got null'),
        ({"kind": "swap"}, "missing wallet, side, token, token_amount, usd, block_time"),
        (swap_data(side="hold"), 'side must be "buy" or "sell", got "hold"'),
        (swap_data(token_amount="lots"), 'token_amount must be a decimal number, got "lots"'),
        (swap_data(token_amount="0"), 'token_amount must be positive, got "0"'),
        (swap_data(token_amount=True), "token_amount must be a decimal string or a number, got true"),
        (swap_data(token_amount="1E+999999"), "token_amount is out of range"),
        (swap_data(token_amount="NaN"), 'token_amount must be finite, got "NaN"'),
        (swap_data(usd="-1"), 'usd must not be negative, got "-1"'),
        (swap_data(block_time="1764000000"), 'block_time must be unix seconds (a non-negative integer), got "1764'),
        (swap_data(block_time=1.5), "block_time must be unix seconds"),
        (swap_data(wallet={"label": "x"}), "missing wallet.address"),
        (
            swap_data(wallet={"address": "<script>"}),
            "wallet.address must be a base58 Solana address (32-44 characters)",
        ),
        (swap_data(token={"mint": BONK, "symbol": 5}), "token.symbol must be a string or null, got 5"),
        (swap_data(token="BONK"), "token must be an object, got a string"),
        (swap_data(signature="not a signature"), "signature must be a base58 transaction signature or null"),
        (swap_data(id="has spaces"), "id must be 1-128 characters of A-Z a-z 0-9 . _ : -"),
        ({"kind": "signal"}, "missing signal"),
        ({"kind": "signal", "signal": []}, "signal must be an object, got an array"),
        ({"kind": "signal", "signal": {"kind": "momentum"}}, "missing signal.token, signal.score, signal.wallets"),
        (signal_data(kind="Whale Accumulation!"), "signal.kind must be a snake_case name"),
        (signal_data(score=101), "signal.score must be an integer from 0 to 100, got 101"),
        (signal_data(score=True), "signal.score must be an integer from 0 to 100, got true"),
        (signal_data(score="82"), 'signal.score must be an integer from 0 to 100, got "82"'),
        (signal_data(wallets="alice"), "signal.wallets must be an array, got a string"),
        (signal_data(wallets=[ALICE, 7]), "signal.wallets[1] must be an object with an address, got a number"),
        (signal_data(reasons=[1]), "signal.reasons[0] must be a string or an object, got a number"),
        (signal_data(fired_at=-1), "signal.fired_at must be unix seconds"),
    ],
)
def test_it_refuses_an_event_that_breaks_the_contract_saying_which_field(data, message):
    with pytest.raises(InvalidEvent) as raised:
        parse_event(data)

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_symbol_or_price_still_renders_with_the_mint_and_no_price():
    event = parse_event(swap_data(token={"mint": BONK, "symbol": None}, usd=None))

    visible = telegram_visible(
        telegram_body(swap_data(token={"mint": BONK, "symbol": "\x00\u202e "}, usd=None))["text"]
    )

    assert (event.token.display_symbol, event.usd, event.price_usd) == ("DezX…B263", None, None)
    assert "alice bought 1,000 DezX…B263 (no price yet)" in visible
    assert "Value: unpriced\n" in visible


def test_chain_strings_are_cleaned_of_nul_controls_bidi_overrides_newlines_and_lone_surrogates():
    assert clean_text("a\x00b") == "a b"
    assert clean_text("\u202eyub\u2066") == "yub"
    assert clean_text(" line1\nline2\r\n\tend\u2028x ") == "line1 line2 end x"
    assert clean_text("bad\ud800half") == "bad\ufffdhalf"
    assert clean_text("👨\u200d👩\u200d👧 family") == "👨\u200d👩\u200d👧 family"  # joiners inside emoji stay


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("1000", "1,000"),
        ("12.5", "12.5"),
        ("1.23456", "1.2346"),
        ("0.0001234", "0.0001234"),
        ("4560000", "4.56M"),
        ("999.99999", "1,000"),
        ("7800000000", "7.8B"),
    ],
)
def test_token_amounts_read_like_a_trading_screen(amount, text):
    assert format_amount(Decimal(amount)) == text


@pytest.mark.parametrize(
    ("usd", "text"),
    [
        ("12.5", "$12.50"),
        ("0.004", "<$0.01"),
        ("0", "$0.00"),
        ("1234.5", "$1,235"),
        ("4560000", "$4.56M"),
        (None, "unpriced"),
    ],
)
def test_usd_values_read_like_a_trading_screen(usd, text):
    assert format_usd(None if usd is None else Decimal(usd)) == text


def test_durations_read_as_a_trader_says_them():
    assert [format_duration(s) for s in (0, 45, 60, 119, 3599, 3600, 7200, 3 * 86400)] == [
        "0 s",
        "45 s",
        "1 min",
        "2 min",
        "1 h",
        "1 h",
        "2 h",
        "3 days",
    ]


def test_the_message_modules_import_no_django():
    code = "import sys, alerts.messages; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_DIR, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


# --- Telegram ---------------------------------------------------------------------------------------


def test_telegram_swap_request_is_sendmessage_in_html_with_previews_off():
    request = telegram_request(parse_event(swap_data()), bot_token="123:ABC", chat_id=42, site_url=SITE)

    assert (request.method, request.url_path, request.headers) == (
        "POST",
        "/bot123:ABC/sendMessage",
        {"Content-Type": "application/json"},
    )
    wallet = f'<a href="{SITE}/wallets/{ALICE}/">alice</a>'
    assert json.loads(request.body) == {
        "chat_id": 42,
        "text": "\n".join(
            [
                "<b>🟢 BUY BONK</b>",
                f"{wallet} bought <b>1,000 BONK</b> for <b>$12.50</b>",
                f'Token: <a href="{SITE}/tokens/{BONK}/">BONK</a> · Bonk',
                f"Wallet: {wallet} <code>7xKX…gAsU</code>",
                "Amount: 1,000 BONK",
                "Value: $12.50 · $0.0125 each",
                "Time: 2025-11-24 16:00:00 UTC",
                f'Solscan: <a href="https://solscan.io/account/{ALICE}">wallet</a> · '
                f'<a href="https://solscan.io/token/{BONK}">token</a>',
            ]
        ),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }


def test_telegram_sell_links_the_transaction_on_solscan_when_the_signature_is_known():
    text = telegram_body(swap_data(side="sell", signature=SIGNATURE))["text"]

    assert text.startswith("<b>🔴 SELL BONK</b>\n")
    assert " sold <b>1,000 BONK</b>" in text
    assert f'<a href="https://solscan.io/tx/{SIGNATURE}">transaction</a>' in text


def test_telegram_signal_says_who_and_why():
    visible = telegram_visible(telegram_body(signal_data())["text"])

    assert visible.splitlines() == [
        "🐋 Whale accumulation: WIF",
        "3 tracked wallets are buying WIF · score 82/100",
        "Token: WIF · dogwifhat",
        "Score: 82/100",
        "Wallets (3): 7xKX…gAsU, bob, 5Q54…e4j1",
        "Fired: 2025-11-24 16:01:00 UTC",
        "Why",
        "• 3 tracked wallets net-bought $41,200 within 30 min",
        "• alice: win rate 64% over 25 cycles",
        "Solscan: token",
    ]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("where", ["symbol", "name", "label", "reason"])
def test_telegram_escapes_every_hostile_string_so_the_html_parses_and_shows_it_literally(hostile, where):
    if where == "reason":
        data = signal_data(reasons=[hostile])
    elif where == "label":
        data = swap_data(wallet={"address": ALICE, "label": hostile})
    else:
        data = swap_data(token={"mint": BONK, "symbol": "BONK", "name": "Bonk", where: hostile})

    visible = telegram_visible(telegram_body(data)["text"])  # fails on any tag or entity Telegram would refuse

    shown = clean_text(hostile)
    assert (shown[:23] if where == "symbol" else shown) in visible
    assert "\x00" not in visible and "\u202e" not in visible


def test_telegram_shows_markup_in_names_as_text_not_tags():
    text = telegram_body(swap_data(token={"mint": BONK, "symbol": "</b>", "name": "&amp; <script>"}))["text"]

    assert text.startswith("<b>🟢 BUY &lt;/b&gt;</b>\n")
    assert "· &amp;amp; &lt;script&gt;\n" in text
    assert "<script>" not in text


def test_telegram_clips_a_10000_character_name_and_label_and_stays_valid():
    data = swap_data(
        wallet={"address": ALICE, "label": "W" * 10_000},
        token={"mint": BONK, "symbol": "S" * 10_000, "name": "&" * 10_000},
    )

    visible = telegram_visible(telegram_body(data)["text"])

    assert visible.splitlines()[0] == "🟢 BUY " + "S" * 23 + "…"
    assert "Token: " + "S" * 23 + "… · " + "&" * 63 + "…\n" in visible
    assert "Wallet: " + "W" * 47 + "… 7xKX…gAsU\n" in visible
    assert len(visible) < 4096


def test_telegram_cuts_at_4096_visible_characters_never_inside_an_entity():
    message = Message(title=(Text("Title"),), summary=(Text("&" * 6000),))

    text = telegram_text(message)

    visible = telegram_visible(text)
    assert len(visible) == 4096
    assert visible == "Title\n" + "&" * 4089 + "…"
    assert text.endswith("&amp;&amp;…")


def test_telegram_cut_closes_the_tag_it_falls_in():
    message = Message(title=(Text("T"),), summary=(bold("<" * 5000),))

    text = telegram_text(message)

    assert text == "<b>T</b>\n<b>" + "&lt;" * 4093 + "</b>…"
    assert len(telegram_visible(text)) == 4096


def test_telegram_keeps_a_huge_signal_within_4096_and_valid():
    reasons = [("&<>" * 200) for _ in range(50)]
    wallets = [{"address": ALICE, "label": "@everyone <b>" * 10}] * 40
    data = signal_data(reasons=reasons, wallets=wallets, token={"mint": WIF, "symbol": "&" * 99, "name": "<" * 999})

    text = telegram_body(data)["text"]

    visible = telegram_visible(text)
    assert len(visible) <= 4096
    assert "… and 40 more reasons" in visible or visible.endswith("…")
    assert len(text.encode()) <= 32768


def test_telegram_path_holds_the_token_and_refuses_path_syntax_in_it():
    assert telegram_path("123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11") == (
        "/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage"
    )
    for bad in ("", "123:ab/../x", "123:ab?x", "12 3"):
        with pytest.raises(ValueError):
            telegram_path(bad)


# --- Discord ----------------------------------------------------------------------------------------


def test_discord_swap_request_is_one_embed_with_mentions_off():
    request = discord_request(parse_event(swap_data()), webhook_path="/api/webhooks/1/tok?wait=true", site_url=SITE)

    assert (request.method, request.url_path) == ("POST", "/api/webhooks/1/tok?wait=true")
    wallet = f"[alice]({SITE}/wallets/{ALICE}/)"
    assert json.loads(request.body) == {
        "username": "AURA",
        "content": "alice bought **1,000 BONK** for **$12.50**",
        "allowed_mentions": {"parse": []},
        "embeds": [
            {
                "title": "🟢 BUY BONK",
                "url": f"{SITE}/tokens/{BONK}/",
                "description": f"{wallet} bought **1,000 BONK** for **$12.50**\n"
                f"Solscan\\: [wallet](https://solscan.io/account/{ALICE}) · [token](https://solscan.io/token/{BONK})",
                "color": 0x2ECC71,
                "fields": [
                    {"name": "Token", "value": f"[BONK]({SITE}/tokens/{BONK}/) · Bonk", "inline": True},
                    {"name": "Wallet", "value": f"{wallet} `7xKX…gAsU`", "inline": True},
                    {"name": "Amount", "value": "1,000 BONK", "inline": True},
                    {"name": "Value", "value": "$12.50 · $0.0125 each", "inline": True},
                    {"name": "Time", "value": "2025\\-11\\-24 16\\:00\\:00 UTC", "inline": False},
                ],
                "footer": {"text": "AURA · swap alert"},
                "timestamp": "2025-11-24T16:00:00.000Z",
            }
        ],
    }


def test_discord_colours_a_sell_red():
    assert discord_body(swap_data(side="sell"))["embeds"][0]["color"] == 0xE74C3C


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("where", ["symbol", "name", "label", "reason"])
def test_discord_neutralises_markdown_and_mentions_in_every_hostile_string(hostile, where):
    if where == "reason":
        data = signal_data(reasons=[hostile])
    elif where == "label":
        data = swap_data(wallet={"address": ALICE, "label": hostile})
    else:
        data = swap_data(token={"mint": BONK, "symbol": "BONK", "name": "Bonk", where: hostile})

    body = discord_body(data)

    check_discord_limits(body)
    texts = [body["content"], body["embeds"][0]["title"], body["embeds"][0].get("description", "")]
    texts += [field["value"] for field in body["embeds"][0]["fields"]]
    shown = [discord_unescape(text) for text in texts]  # fails on a dangling escape or a bare @
    expected = clean_text(hostile)
    assert any(expected[:23] in text for text in shown)
    for text in all_strings(body):
        assert "@everyone" not in text and "@here" not in text
        assert not re.search(r"(?<!\\)<[@#]", text), text  # <@id>, <@&role>, <#channel> only escaped


def test_discord_escapes_names_character_by_character():
    body = discord_body(swap_data(token={"mint": BONK, "symbol": "**@everyone**", "name": "<@123> [x](https://e.x)"}))

    embed = body["embeds"][0]
    assert embed["title"] == "🟢 BUY \\*\\*@\u200beveryone\\*\\*"
    assert embed["fields"][0]["value"] == (
        f"[\\*\\*@\u200beveryone\\*\\*]({SITE}/tokens/{BONK}/) · \\<@\u200b123\\> \\[x\\]\\(https\\://e.x\\)"
    )
    assert body["content"] == "alice bought **1,000 \\*\\*@\u200beveryone\\*\\*** for **$12.50**"


def test_discord_keeps_every_limit_for_10000_character_strings_and_huge_lists():
    data = signal_data(
        reasons=["*" * 10_000 for _ in range(200)],
        wallets=[{"address": ALICE, "label": "@" * 10_000}] * 300,
        token={"mint": WIF, "symbol": "`" * 10_000, "name": "_" * 10_000},
    )

    body = discord_body(data)

    check_discord_limits(body)
    for text in (body["content"], body["embeds"][0]["description"], *[f["value"] for f in body["embeds"][0]["fields"]]):
        discord_unescape(text)


def test_discord_cuts_the_description_at_4096_without_splitting_an_escape():
    message = Message(title=(Text("T"),), summary=(Text("*" * 5000),))

    embed = discord_payload(message)["embeds"][0]

    assert embed["description"] == "\\*" * 2047 + "…"
    assert len(embed["description"]) == 4095
    assert discord_unescape(embed["description"]) == "*" * 2047 + "…"


def test_discord_cuts_mentions_whole():
    message = Message(title=(Text("T"),), summary=(Text("@" * 2500),))

    content = discord_payload(message)["content"]

    assert content == "@\u200b" * 999 + "…"
    discord_unescape(content)


def test_discord_gives_way_to_the_6000_total_with_25_fields_at_most():
    fields = tuple(Field(f"F{i}", (Text("x" * 2000),)) for i in range(30))
    message = Message(title=(Text("T" * 1000),), summary=(Text("s" * 9000),), fields=fields, footer="AURA")

    body = discord_payload(message)

    check_discord_limits(body)
    assert len(body["embeds"][0]["fields"]) == 25
    assert len(body["embeds"][0]["title"]) == 256


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://discord.com/api/webhooks/123/abc-DEF_1", "/api/webhooks/123/abc-DEF_1?wait=true"),
        ("https://discordapp.com/api/webhooks/123/abc", "/api/webhooks/123/abc?wait=true"),
        ("https://discord.com/api/v10/webhooks/123/abc/", "/api/webhooks/123/abc?wait=true"),
        ("https://canary.discord.com/api/webhooks/9/z?thread_id=77", "/api/webhooks/9/z?wait=true&thread_id=77"),
    ],
)
def test_discord_webhook_urls_become_paths_that_wait_for_discords_answer(url, path):
    assert discord_webhook_path(url) == path


@pytest.mark.parametrize(
    "url",
    [
        "http://discord.com/api/webhooks/123/abc",
        "https://evil.example/api/webhooks/123/abc",
        "https://discord.com/api/webhooks/123",
        "https://discord.com/api/webhooks/abc/def",
        "https://discord.com/api/webhooks/123/abc/extra",
        "not a url",
    ],
)
def test_discord_refuses_what_is_not_a_discord_webhook_url(url):
    with pytest.raises(ValueError):
        discord_webhook_path(url)


# --- email ------------------------------------------------------------------------------------------


def test_email_has_a_one_line_subject_text_and_escaped_html():
    data = swap_data(token={"mint": BONK, "symbol": "<b>X", "name": "line1\r\nBcc: victim@example.com"})

    mail = email_content(parse_event(data), site_url=SITE)

    assert mail.subject == "AURA: 🟢 BUY <b>X · alice bought 1,000 <b>X for $12.50"
    assert "Token: <b>X <https://aura.example/tokens/" in mail.text
    assert "· line1 Bcc: victim@example.com\n" in mail.text
    assert "&lt;b&gt;X" in mail.html and "<b>X" not in mail.html
    assert f'<a href="{SITE}/wallets/{ALICE}/">alice</a> bought <strong>1,000 &lt;b&gt;X</strong>' in mail.html


def test_email_subject_stays_one_short_line_for_a_10000_character_label():
    label = "\n" + "L" * 10_000
    mail = email_content(parse_event(swap_data(wallet={"address": ALICE, "label": label})), site_url=SITE)

    assert mail.subject == "AURA: 🟢 BUY BONK · " + "L" * 47 + "… bought 1,000 BONK for $12.50"
    assert "\n" not in mail.subject and "\r" not in mail.subject


# --- digests and channel tests ------------------------------------------------------------------------


def burst(count: int, tokens: list[str], *, wallet: str = ALICE, label: str = "alice", side: str = "buy") -> list:
    return [
        parse_event(
            swap_data(
                wallet={"address": wallet, "label": label},
                side=side,
                token={"mint": tokens[i % len(tokens)], "symbol": f"T{i % len(tokens)}"},
                block_time=BLOCK_TIME + i * 20,
            )
        )
        for i in range(count)
    ]


def test_a_burst_of_one_whale_reads_as_one_sentence():
    digest = make_digest(burst(7, [BONK, WIF, JUP, USDC]))

    visible = telegram_visible(telegram_text(message_for(digest, LINKS)))

    assert visible.splitlines()[:2] == ["🧾 AURA digest: 7 alerts", "alice made 7 buys of 4 tokens in 2 min"]
    assert "16:00:00 🟢 alice bought 1,000 T0 ($12.50)" in visible
    assert "16:02:00 🟢 alice bought 1,000 T2 ($12.50)" in visible


def test_a_digest_of_several_wallets_counts_buys_sells_tokens_and_signals():
    events = burst(5, [BONK, WIF]) + burst(2, [BONK], wallet=BOB, label="bob", side="sell")
    events.append(parse_event(signal_data()))

    digest = make_digest(events, window_start=BLOCK_TIME, window_end=BLOCK_TIME + 3600)

    summary = telegram_visible(telegram_text(message_for(digest, LINKS))).splitlines()[1]
    assert summary == "2 wallets made 5 buys and 2 sells of 2 tokens in 1 h, plus 1 signal"
    assert [event.occurred_at for event in digest.events] == sorted(event.occurred_at for event in digest.events)


def test_a_digest_of_signals_only():
    digest = make_digest([parse_event(signal_data()), parse_event(signal_data(token={"mint": BONK}))])

    assert (
        telegram_visible(telegram_text(message_for(digest, LINKS))).splitlines()[1] == "2 signals on 2 tokens at once"
    )


def test_fifty_swaps_in_a_minute_become_one_digest_that_fits_every_channel():
    events = [
        parse_event(swap_data(block_time=BLOCK_TIME + i, token={"mint": BONK, "symbol": "@everyone<b>&"}))
        for i in range(50)
    ]
    digest = make_digest(events)

    text = telegram_text(message_for(digest, LINKS))
    body = discord_payload(message_for(digest, LINKS))

    visible = telegram_visible(text)
    assert visible.splitlines()[1] == "alice made 50 buys of 1 token in 49 s"
    assert visible.count("🟢 alice bought 1,000 @everyone<b>&") == 20
    assert visible.endswith("… and 30 more in AURA")
    assert f'<a href="{SITE}/feed/">… and 30 more in AURA</a>' in text
    check_discord_limits(body)
    assert "@everyone" not in json.dumps(body, ensure_ascii=False)


def test_a_digest_needs_events_and_a_window_that_runs_forward():
    with pytest.raises(InvalidEvent):
        make_digest([])
    with pytest.raises(InvalidEvent):
        make_digest(burst(2, [BONK]), window_start=BLOCK_TIME, window_end=BLOCK_TIME - 1)


def test_the_channel_test_message_names_the_channel_escaped():
    test = make_channel_test(BLOCK_TIME, channel_label="<b>desk</b>")

    text = telegram_text(message_for(test, LINKS))
    body = discord_payload(message_for(test, LINKS))

    assert text == (
        "<b>✅ AURA test message</b>\n"
        "“&lt;b&gt;desk&lt;/b&gt;” works: the alerts you route here will arrive like this.\n"
        "Sent: 2025-11-24 16:00:00 UTC"
    )
    assert body["content"] == "“\\<b\\>desk\\</b\\>” works\\: the alerts you route here will arrive like this."
    check_discord_limits(body)


def test_discord_markup_counts_escapes_against_the_limits():
    assert DISCORD_MARKDOWN.text_cost("a*b@c") == len("a\\*b@\u200bc")
