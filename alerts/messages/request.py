"""The HTTP request a channel sends, exactly: what the sender POSTs and what `render_alert` prints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TELEGRAM = "telegram"
DISCORD = "discord"
WEBHOOK = "webhook"
CHANNELS = (TELEGRAM, DISCORD, WEBHOOK)


@dataclass(frozen=True)
class OutgoingRequest:
    """One request, byte for byte. `url_path` is joined to the channel's base URL by the sender
    (Telegram's API URL, Discord's, or the scheme and host of the user's webhook URL)."""

    channel: str  # one of CHANNELS
    method: str
    url_path: str
    headers: dict[str, str]
    body: str  # sent as its UTF-8 bytes; the webhook signature covers exactly these

    @property
    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8")

    def as_contract(self) -> dict[str, Any]:
        """The `render_alert` contract's shape: the body as a JSON object for Telegram and Discord, and
        as the raw string for signed webhooks (a signature verifies over that string, not a reparse)."""
        body: Any = self.body if self.channel == WEBHOOK else json.loads(self.body)
        return {"method": self.method, "url_path": self.url_path, "headers": dict(self.headers), "body": body}


def json_body(payload: Any) -> str:
    """Compact JSON, ASCII only: the bytes on the wire are then the same in every encoding a receiver
    might wrongly assume, so a signature never fails over a decode."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
