"""Sending one rendered alert (`OutgoingRequest`) or email, and reading the platform's answer.

One error type, `SendFailed`, split the way every platform means it: permanent (403 bot blocked, 404
webhook deleted, 400 bad chat or bad markup, 401 bad token: sending again cannot help) or transient
(timeouts, connection errors, 5xx, 429: try again later, not before `retry_after`). One answer is
neither: Telegram's "group chat was upgraded to a supergroup chat" names the chat to send to instead
(`ChatMigrated`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from alerts.messages import EmailContent, OutgoingRequest

ANSWER_LIMIT = 1000


@dataclass(frozen=True)
class Sent:
    status: int
    answer: str
    answered_at: datetime = field(default_factory=timezone.now)


class SendFailed(Exception):
    def __init__(self, answer: str, *, permanent: bool, status: int | None = None, retry_after: float | None = None):
        super().__init__(answer)
        self.answer = answer[:ANSWER_LIMIT]
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
        self.answered_at = timezone.now()


class ChatMigrated(SendFailed):
    """Telegram: the group became a supergroup, whose id is `new_chat_id`; the message was not sent. Not
    permanent: sent to the new id, it goes through."""

    def __init__(self, answer: str, *, new_chat_id: int, status: int | None = None):
        super().__init__(answer, permanent=False, status=status)
        self.new_chat_id = new_chat_id


_clients: dict[int, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """This process's HTTP client: connections to Telegram and Discord are kept alive between alerts
    (a new TLS connection per message would cost more than the message). One per process, made after
    a Celery worker forks."""
    pid = os.getpid()
    with _clients_lock:
        client = _clients.get(pid)
        if client is None:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
            client = _clients[pid] = httpx.Client(timeout=settings.ALERTS_SEND_TIMEOUT_SECONDS, limits=limits)
        return client


def post(base_url: str, request: OutgoingRequest, client: httpx.Client | None = None) -> Sent:
    """POST `request` to `base_url` + its path. Returns what the platform answered on success."""
    url = base_url.rstrip("/") + request.url_path
    client = client or shared_client()
    try:
        response = client.request(request.method, url, headers=request.headers, content=request.body_bytes)
    except httpx.TimeoutException as error:
        raise SendFailed(f"timed out: {error}", permanent=False) from error
    except httpx.HTTPError as error:
        raise SendFailed(f"could not connect: {error}", permanent=False) from error
    answer = response.text[:ANSWER_LIMIT]
    if response.status_code < 300:
        return Sent(response.status_code, answer)
    description = _description(response) or answer or response.reason_phrase
    shown = f"{response.status_code} {description}"
    new_chat_id = _migrate_to_chat_id(response)
    if new_chat_id is not None:
        raise ChatMigrated(shown, new_chat_id=new_chat_id, status=response.status_code)
    if response.status_code == 429:
        raise SendFailed(shown, permanent=False, status=429, retry_after=_retry_after(response))
    if response.status_code >= 500 or response.status_code == 408:
        raise SendFailed(shown, permanent=False, status=response.status_code, retry_after=_retry_after(response))
    raise SendFailed(shown, permanent=True, status=response.status_code)


def send_email(to: str, content: EmailContent) -> Sent:
    message = EmailMultiAlternatives(content.subject, content.text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(content.html, "text/html")
    try:
        count = message.send()
    except OSError as error:  # SMTP refused or unreachable: the mail server may be back soon
        raise SendFailed(f"mail server: {error}", permanent=False) from error
    return Sent(250, f"accepted by the mail backend ({count})")


def origin_of(url: str) -> str:
    """Scheme and host of a URL the user gave (where a webhook's path is joined)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _description(response: httpx.Response) -> str:
    """Telegram's `description`, Discord's `message`: the one line that says what went wrong."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        for key in ("description", "message", "error"):
            if isinstance(data.get(key), str):
                return data[key][:300]
    return ""


def _migrate_to_chat_id(response: httpx.Response) -> int | None:
    """Telegram's `parameters.migrate_to_chat_id`: the supergroup a group chat was upgraded to."""
    try:
        data = response.json()
    except ValueError:
        return None
    parameters = data.get("parameters") if isinstance(data, dict) else None
    value = parameters.get("migrate_to_chat_id") if isinstance(parameters, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait: Telegram's `parameters.retry_after`, Discord's `retry_after`, or Retry-After."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for value in ((data.get("parameters") or {}).get("retry_after"), data.get("retry_after")):
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return float(value)
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(header) - timezone.now()).total_seconds())
            except (TypeError, ValueError):
                return None
    return None
