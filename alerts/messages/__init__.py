"""Alert messages: from one event (or a digest of many, or a channel test) to the exact request each
channel is sent. The sender POSTs what these functions return and nothing else.

    event = parse_event(data)                     # SwapEvent | SignalEvent, or InvalidEvent
    telegram_request(event, bot_token=…, chat_id=…, site_url=…)
    discord_request(event, webhook_path=discord_webhook_path(url), site_url=…)
    webhook_request(event, secret=…, timestamp=…, site_url=…, url_path=webhook_url_path(url), event_id=…)
    email_content(event, site_url=…)              # subject, text, html
    make_digest([event, …]) / make_channel_test(sent_at) → any of the above

Pure: no Django, no I/O, no clock (times are passed in).
"""

from alerts.messages.discord import discord_payload, discord_request, discord_webhook_path
from alerts.messages.events import (
    Alert,
    AlertEvent,
    ChannelProblem,
    ChannelTest,
    Digest,
    InvalidEvent,
    SignalEvent,
    SwapEvent,
    Token,
    Wallet,
    make_channel_problem,
    make_channel_test,
    make_digest,
    parse_event,
)
from alerts.messages.mail import EmailContent, email_content
from alerts.messages.request import CHANNELS, DISCORD, TELEGRAM, WEBHOOK, OutgoingRequest
from alerts.messages.telegram import telegram_path, telegram_request, telegram_text
from alerts.messages.webhook import (
    SCHEMA,
    sign_webhook,
    verify_webhook_signature,
    webhook_payload,
    webhook_request,
    webhook_url_path,
)

__all__ = [
    "CHANNELS",
    "DISCORD",
    "SCHEMA",
    "TELEGRAM",
    "WEBHOOK",
    "Alert",
    "AlertEvent",
    "ChannelProblem",
    "ChannelTest",
    "Digest",
    "EmailContent",
    "InvalidEvent",
    "OutgoingRequest",
    "SignalEvent",
    "SwapEvent",
    "Token",
    "Wallet",
    "discord_payload",
    "discord_request",
    "discord_webhook_path",
    "email_content",
    "make_channel_problem",
    "make_channel_test",
    "make_digest",
    "parse_event",
    "sign_webhook",
    "telegram_path",
    "telegram_request",
    "telegram_text",
    "verify_webhook_signature",
    "webhook_payload",
    "webhook_request",
    "webhook_url_path",
]
