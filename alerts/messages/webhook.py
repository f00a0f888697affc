"""Signed generic webhooks (n8n, Zapier, Make): the `aura.alert.v1` JSON body and its signature.

    X-Aura-Timestamp: <unix seconds of this attempt>
    X-Aura-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
    X-Aura-Event-Id:  <the body's "id": the same on every retry of one alert>

The body is the same bytes on every attempt; only the timestamp and signature change. The schema is
documented field by field in docs/webhooks.md: change it only by adding fields, or by a new version.
Pure: no Django, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal, localcontext
from typing import Any
from urllib.parse import urlsplit

from alerts.messages.compose import message_for
from alerts.messages.document import PLAIN, render
from alerts.messages.events import Alert, ChannelProblem, ChannelTest, Digest, SignalEvent, SwapEvent, Token, Wallet
from alerts.messages.request import WEBHOOK, OutgoingRequest, json_body
from alerts.messages.text import Links, decimal_string, iso_time

SCHEMA = "aura.alert.v1"
SIGNATURE_PREFIX = "sha256="
TOLERANCE_SECONDS = 300
USER_AGENT = "AURA-Webhooks/1"
# The example n8n workflow's production path (docs/n8n-aura-alert-workflow.json).
EXAMPLE_PATH = "/webhook/aura-alert"


def sign_webhook(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """`sha256=<hex>` over `timestamp + "." + body`, the body as the exact bytes sent."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(key, str(timestamp).encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_webhook_signature(
    secret: str | bytes,
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the timestamp is recent (either way, within `tolerance`) and the signature
    matches the raw body, compared in constant time."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign_webhook(secret, sent_at, body), signature or "")


def webhook_url_path(url: str) -> str:
    """Path and query of the user's webhook URL (the sender joins them to its scheme and host)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"a webhook URL starts with https:// (or http://), got {url!r}")
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def webhook_request(
    alert: Alert,
    *,
    secret: str | bytes,
    timestamp: int,
    site_url: str,
    url_path: str = EXAMPLE_PATH,
    event_id: str | None = None,
) -> OutgoingRequest:
    """The signed POST delivering `alert`. `event_id` is the idempotency key (the app passes one per
    rule, event and channel); without it one is derived from the alert's content."""
    if not secret:
        raise ValueError("a webhook needs a signing secret")
    payload = webhook_payload(alert, Links(site_url), event_id=event_id)
    body = json_body(payload)
    return OutgoingRequest(
        channel=WEBHOOK,
        method="POST",
        url_path=url_path,
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Aura-Event-Id": payload["id"],
            "X-Aura-Timestamp": str(timestamp),
            "X-Aura-Signature": sign_webhook(secret, timestamp, body),
        },
        body=body,
    )


def webhook_payload(alert: Alert, links: Links, *, event_id: str | None = None) -> dict[str, Any]:
    """The `aura.alert.v1` document for `alert`."""
    if isinstance(alert, SwapEvent):
        content: dict[str, Any] = {"swap": swap_json(alert, links)}
    elif isinstance(alert, SignalEvent):
        content = {"signal": signal_json(alert, links)}
    elif isinstance(alert, Digest):
        content = {"digest": digest_json(alert, links)}
    elif isinstance(alert, ChannelTest):
        content = {"test": {"message": "AURA test message: this webhook works.", "channel_label": alert.channel_label}}
    elif isinstance(alert, ChannelProblem):
        content = {"channel_problem": {"channel_label": alert.channel_label, "error": alert.error}}
    else:
        raise TypeError(f"not an alert: {alert!r}")
    occurred_at = alert.occurred_at
    message = message_for(alert, links)
    return {
        "schema": SCHEMA,
        "id": event_id or getattr(alert, "event_id", None) or derived_event_id(alert.kind, content),
        "type": alert.kind,
        "occurred_at": None if occurred_at is None else iso_time(occurred_at),
        "occurred_at_unix": occurred_at,
        "summary": render(message.summary, PLAIN),
        **content,
    }


def derived_event_id(kind: str, content: dict[str, Any]) -> str:
    """A stable id from the alert's content: the same alert rendered twice gets the same id."""
    canonical = json.dumps({"type": kind, **content}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{kind}_{hashlib.sha256(canonical.encode('ascii')).hexdigest()[:32]}"


def wallet_json(wallet: Wallet, links: Links) -> dict[str, Any]:
    return {
        "address": wallet.address,
        "label": wallet.label,
        "url": links.wallet(wallet.address),
        "solscan_url": Links.solscan_account(wallet.address),
    }


def token_json(token: Token, links: Links) -> dict[str, Any]:
    return {
        "mint": token.mint,
        "symbol": token.symbol,
        "name": token.name,
        "url": links.token(token.mint),
        "solscan_url": Links.solscan_token(token.mint),
    }


def swap_json(swap: SwapEvent, links: Links) -> dict[str, Any]:
    price = None
    if swap.usd is not None:
        with localcontext() as context:
            context.prec = 12  # a derived figure: 12 significant digits say all it can
            price = decimal_string(swap.usd / swap.token_amount)
    return {
        "wallet": wallet_json(swap.wallet, links),
        "side": swap.side,
        "token": token_json(swap.token, links),
        "token_amount": decimal_string(swap.token_amount),
        "usd": None if swap.usd is None else decimal_string(swap.usd),
        "price_usd": price,
        "block_time": swap.block_time,
        "signature": swap.signature,
        "solscan_url": Links.solscan_tx(swap.signature) if swap.signature else None,
    }


def signal_json(signal: SignalEvent, links: Links) -> dict[str, Any]:
    return {
        "kind": signal.signal_kind,
        "token": token_json(signal.token, links),
        "score": signal.score,
        "wallets": [wallet_json(wallet, links) for wallet in signal.wallets],
        "reasons": list(signal.reasons),
        "fired_at": signal.fired_at,
    }


def digest_json(digest: Digest, links: Links) -> dict[str, Any]:
    swaps = digest.swaps
    events = []
    for event in digest.events:
        if isinstance(event, SwapEvent):
            body: dict[str, Any] = {"swap": swap_json(event, links)}
        else:
            body = {"signal": signal_json(event, links)}
        events.append({"id": event.event_id or derived_event_id(event.kind, body), "type": event.kind, **body})
    return {
        "window_start": digest.window_start,
        "window_end": digest.window_end,
        "swap_count": len(swaps),
        "buy_count": sum(1 for swap in swaps if swap.side == "buy"),
        "sell_count": sum(1 for swap in swaps if swap.side == "sell"),
        "signal_count": len(digest.signals),
        "wallet_count": len({swap.wallet.address for swap in swaps}),
        "token_count": len({swap.token.mint for swap in swaps} | {signal.token.mint for signal in digest.signals}),
        "usd_total": decimal_string(sum((swap.usd for swap in swaps if swap.usd is not None), Decimal(0))),
        "events": events,
    }
