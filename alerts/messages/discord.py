"""Discord "Execute Webhook" with one rich embed.

Discord renders markdown in content, embed titles, descriptions and fields, and resolves mentions in
text; `allowed_mentions: {"parse": []}` stops every ping, and the text is neutralised too so a token
called `@everyone` or `<@123>` does not even *look* like a mention: markdown characters get a backslash
and `@` a zero-width space after it. Discord counts its limits on the text as sent (escapes included),
so that is what is measured here. Pure: no Django, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from alerts.messages.compose import message_for
from alerts.messages.document import Field, Markup, Message, join_lines, measure, render_within
from alerts.messages.events import Alert
from alerts.messages.request import DISCORD, OutgoingRequest, json_body
from alerts.messages.text import Links, iso_time

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000  # title + description + field names and values + footer, across all embeds
FIELDS_LIMIT = 25
USERNAME = "AURA"

# Markdown and the characters that start Discord's own syntax (<@id>, <#id>, <t:…>, :emoji:). A backslash
# before any of them renders the character itself; `\:` also keeps `https://…` in a name from linking.
_ESCAPED = frozenset("\\*_~`|>#-[]()<:")
_ZERO_WIDTH_SPACE = "\u200b"
_WEBHOOK_HOSTS = ("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com")
_WEBHOOK_PATH = re.compile(r"/api(?:/v\d+)?/webhooks/(\d{1,20})/([A-Za-z0-9_-]{1,100})/?")
PLACEHOLDER_PATH = "/api/webhooks/{DISCORD_WEBHOOK_ID}/{DISCORD_WEBHOOK_TOKEN}?wait=true"


class DiscordMarkdown(Markup):
    counts_markup = True  # limits count the text as sent

    def __init__(self, links: bool = True) -> None:
        self.links = links  # embed titles and plain content show link text only

    def escape_char(self, char: str) -> str:
        if char in _ESCAPED:
            return "\\" + char
        if char == "@":
            return "@" + _ZERO_WIDTH_SPACE
        return char

    def strong(self, inner: str) -> str:
        return f"**{inner}**"

    def link(self, url: str, inner: str) -> str:
        return f"[{inner}]({url})" if self.links else inner

    def code(self, text: str) -> str:
        return f"`{text}`"


DISCORD_MARKDOWN = DiscordMarkdown()
DISCORD_TEXT_ONLY = DiscordMarkdown(links=False)


def discord_payload(message: Message) -> dict:
    """The Execute Webhook JSON body for `message`, inside every Discord limit."""
    title = render_within(message.title, DISCORD_TEXT_ONLY, TITLE_LIMIT)
    footer = message.footer[:FOOTER_LIMIT]
    fields = list(message.fields[:FIELDS_LIMIT])
    names = [field.name[:FIELD_NAME_LIMIT] for field in fields]  # ours: no attacker text, nothing to escape
    value_limits = [FIELD_VALUE_LIMIT] * len(fields)
    description_nodes = join_lines([message.summary, *message.lines])
    wanted_description = min(measure(description_nodes, DISCORD_MARKDOWN), DESCRIPTION_LIMIT)
    while True:
        values = [_field_value(field, limit) for field, limit in zip(fields, value_limits, strict=True)]
        fixed = len(title) + len(footer) + sum(map(len, names)) + sum(map(len, values))
        description_room = min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - fixed)
        # Field values give way to the description only when both cannot fit whole; never needed by real
        # alerts, whose fields are a few hundred characters.
        if description_room >= min(wanted_description, 1000) or max(value_limits, default=1) <= 1:
            break
        largest = max(range(len(value_limits)), key=lambda index: len(values[index]))
        value_limits[largest] = max(1, len(values[largest]) // 2)
    embed: dict = {"title": title}
    if message.url:
        embed["url"] = message.url
    description = render_within(description_nodes, DISCORD_MARKDOWN, max(description_room, 0))
    if description:
        embed["description"] = description
    embed["color"] = message.colour
    if fields:
        embed["fields"] = [
            {"name": name, "value": value, "inline": field.inline}
            for field, name, value in zip(fields, names, values, strict=True)
        ]
    embed["footer"] = {"text": footer}
    if message.timestamp is not None:
        embed["timestamp"] = iso_time(message.timestamp).replace("Z", ".000Z")
    return {
        "username": USERNAME,
        # The summary again as plain text: it is what phones show in the notification.
        "content": render_within(message.summary, DISCORD_TEXT_ONLY, CONTENT_LIMIT),
        "allowed_mentions": {"parse": []},
        "embeds": [embed],
    }


def _field_value(field: Field, limit: int) -> str:
    return render_within(field.value, DISCORD_MARKDOWN, limit) or "—"  # Discord refuses an empty value


def discord_webhook_path(webhook_url: str) -> str:
    """The path (with `?wait=true`) of a Discord webhook URL the user pasted; ValueError when it is not
    one. `wait=true` makes Discord answer with the created message or an error: without it a message
    Discord fails to save is dropped silently with a 204."""
    parts = urlsplit(webhook_url.strip())
    if parts.scheme != "https" or parts.hostname not in _WEBHOOK_HOSTS:
        raise ValueError("a Discord webhook URL starts with https://discord.com/api/webhooks/")
    match = _WEBHOOK_PATH.fullmatch(parts.path)
    if not match:
        raise ValueError("a Discord webhook URL looks like https://discord.com/api/webhooks/<id>/<token>")
    query = {"wait": "true"}
    thread_id = parse_qs(parts.query).get("thread_id")
    if thread_id and thread_id[0].isdigit():
        query["thread_id"] = thread_id[0]
    return f"/api/webhooks/{match[1]}/{match[2]}?{urlencode(query)}"


def discord_request(alert: Alert, *, webhook_path: str, site_url: str) -> OutgoingRequest:
    """The Execute Webhook request delivering `alert`; `webhook_path` from `discord_webhook_path`."""
    return OutgoingRequest(
        channel=DISCORD,
        method="POST",
        url_path=webhook_path,
        headers={"Content-Type": "application/json"},
        body=json_body(discord_payload(message_for(alert, Links(site_url)))),
    )
