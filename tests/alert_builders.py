"""Events and checkers shared by the alert rendering tests: contract-shaped event dicts, and strict
readers of Telegram HTML and Discord markdown that fail where the platforms would."""

from __future__ import annotations

import html
import re
from typing import Any

SITE = "https://aura.example"
ALICE = "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU"
BOB = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
CAROL = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
WIF = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"
JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
SIGNATURE = "2TG2oq9nxC2iKTPg3Gw49P8HHHGNR8A1dBhCoH1JPAwPj42KVLg73zLNMN4XDq3MeBWHFymRaYF1Hy6dTqVNvdDo"
BLOCK_TIME = 1764000000  # 2025-11-24 16:00:00 UTC

# Token symbols, names, labels and reasons come from the chain or from users: each of these is a real trick.
HOSTILE = [
    "<script>alert(1)</script>",
    "</b>",
    "&amp;",
    "@everyone",
    "@here",
    "<@123>",
    "<@&456> <#789>",
    "**PUMP**",
    "`rm -rf /`",
    "||spoiler|| ~~x~~ __u__",
    "[claim](https://evil.example)",
    '<a href="https://evil.example">x</a>',
    "a\x00b",
    "\u202eyub",
    "# head\n> quote\n- item",
]


def swap_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "swap",
        "wallet": {"address": ALICE, "label": "alice"},
        "side": "buy",
        "token": {"mint": BONK, "symbol": "BONK", "name": "Bonk"},
        "token_amount": "1000",
        "usd": "12.5",
        "block_time": BLOCK_TIME,
    }
    data.update(overrides)
    return data


def signal_data(**overrides: Any) -> dict[str, Any]:
    signal: dict[str, Any] = {
        "kind": "whale_accumulation",
        "token": {"mint": WIF, "symbol": "WIF", "name": "dogwifhat"},
        "score": 82,
        "wallets": [ALICE, {"address": BOB, "label": "bob"}, CAROL],
        "reasons": ["3 tracked wallets net-bought $41,200 within 30 min", "alice: win rate 64% over 25 cycles"],
        "fired_at": BLOCK_TIME + 60,
    }
    signal.update(overrides)
    return {"kind": "signal", "signal": signal}


_TELEGRAM_TAG = re.compile(r'<(/?)(b|a|code)(?: href="([^"<>]*)")?>')
_TELEGRAM_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def telegram_visible(text: str) -> str:
    """The text a Telegram reader sees, parsing as strictly as AURA promises: only `<b>`, `<a href>` and
    `<code>`, properly closed, nothing inside `<code>`, and every `<`, `>` and `&` of the text escaped.
    AssertionError at the first thing Telegram would refuse (or that AURA should not send)."""
    visible: list[str] = []
    open_tags: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            tag = _TELEGRAM_TAG.match(text, position)
            assert tag, f"unsupported tag or raw '<' at {position}: {text[position : position + 30]!r}"
            closing, name, href = tag.groups()
            if closing:
                assert open_tags and open_tags[-1] == name, f"unmatched </{name}> at {position}"
                open_tags.pop()
            else:
                assert (name == "a") == (href is not None), f"<{name}> with wrong attributes at {position}"
                assert name not in open_tags and "code" not in open_tags, f"<{name}> nested at {position}"
                assert name != "code" or not open_tags, f"<code> inside {open_tags} at {position}"
                open_tags.append(name)
            position = tag.end()
        elif char == "&":
            entity = _TELEGRAM_ENTITY.match(text, position)
            assert entity, f"raw '&' at {position}: {text[position : position + 12]!r}"
            visible.append(html.unescape(entity.group()))
            position = entity.end()
        else:
            assert char != ">", f"raw '>' at {position}"
            visible.append(char)
            position += 1
    assert not open_tags, f"unclosed {open_tags}"
    return "".join(visible)


DISCORD_ESCAPED = set("\\*_~`|>#-[]()<:")


def discord_unescape(text: str) -> str:
    """Discord markdown source → the characters shown, for text AURA escaped: every backslash must
    escape one of the characters AURA escapes (a dangling or cut escape fails), and every `@` must be
    followed by a zero-width space (so nothing reads as a mention; the space is dropped here)."""
    shown: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            assert position + 1 < len(text) and text[position + 1] in DISCORD_ESCAPED, (
                f"dangling backslash at {position}: {text[position : position + 5]!r}"
            )
            shown.append(text[position + 1])
            position += 2
            continue
        if char == "@":
            assert text[position + 1 : position + 2] == "\u200b", f"bare @ at {position}: {text[position:][:12]!r}"
            shown.append(char)
            position += 2
            continue
        shown.append(char)
        position += 1
    return "".join(shown)


def all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in all_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in all_strings(item)]
    return []
