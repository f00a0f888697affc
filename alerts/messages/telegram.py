"""Telegram Bot API `sendMessage` in HTML parse mode.

Telegram's HTML mode knows a handful of tags and refuses the whole message ("can't parse entities")
at the first unknown tag or raw `<`; its limit is 4096 characters *after* tags are stripped and
entities decoded, counted in code points. Only `<b>`, `<a href>` and `<code>` are written here; every
text character is escaped (`&`, `<`, `>`), and cuts happen before escaping, so never inside an entity
or a tag. Pure: no Django, no I/O.
"""

from __future__ import annotations

import html
import re

from alerts.messages.compose import message_for
from alerts.messages.document import Inline, Markup, Message, Strong, Text, join_lines, render_within
from alerts.messages.events import Alert
from alerts.messages.request import TELEGRAM, OutgoingRequest, json_body
from alerts.messages.text import Links

TEXT_LIMIT = 4096  # characters after entity parsing
RAW_LIMIT = 32768  # UTF-8 bytes of the text as sent, checked before parsing
_TOKEN_SAFE = re.compile(r"[^/?#\s]+")


class TelegramHTML(Markup):
    counts_markup = False  # tags and entities do not count against the 4096

    def escape_char(self, char: str) -> str:
        return html.escape(char, quote=False)

    def strong(self, inner: str) -> str:
        return f"<b>{inner}</b>"

    def link(self, url: str, inner: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{inner}</a>'

    def code(self, text: str) -> str:
        return f"<code>{self.escape(text)}</code>"


TELEGRAM_HTML = TelegramHTML()


def telegram_text(message: Message, limit: int = TEXT_LIMIT) -> str:
    """The message as Telegram HTML: bold title, summary, `Name: value` lines, then the extra lines."""
    lines: list[tuple[Inline, ...]] = [(Strong(message.title),), message.summary]
    lines += [(Text(f"{field.name}: "), *field.value) for field in message.fields]
    lines += list(message.lines)
    nodes = join_lines(lines)
    text = render_within(nodes, TELEGRAM_HTML, limit)
    # Escapes and hrefs can make the raw text outgrow Telegram's byte cap long before 4096 visible
    # characters in theory; shrink the visible budget until it fits (never needed by real alerts).
    while len(text.encode("utf-8")) > RAW_LIMIT and limit > 1:
        limit //= 2
        text = render_within(nodes, TELEGRAM_HTML, limit)
    return text


def telegram_path(bot_token: str) -> str:
    """`/bot<token>/sendMessage`. The token goes into the path as it is, so it may not hold path syntax."""
    if not _TOKEN_SAFE.fullmatch(bot_token):
        raise ValueError("a Telegram bot token cannot be empty or contain '/', '?', '#' or whitespace")
    return f"/bot{bot_token}/sendMessage"


def telegram_request(alert: Alert, *, bot_token: str, chat_id: int | str, site_url: str) -> OutgoingRequest:
    """The `sendMessage` request that delivers `alert` to `chat_id`. Link previews are off: a preview of
    the first link would only repeat the message."""
    text = telegram_text(message_for(alert, Links(site_url)))
    payload = {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    return OutgoingRequest(
        channel=TELEGRAM,
        method="POST",
        url_path=telegram_path(bot_token),
        headers={"Content-Type": "application/json"},
        body=json_body(payload),
    )
