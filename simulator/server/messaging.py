"""Telegram's Bot API and Discord's webhooks, played locally: what AURA's alerts reach in the demo, tests
and benchmarks (the real ones are unreachable here).

Telegram: `/bot<token>/getMe`, `deleteWebhook`, `getUpdates` (long polling, offsets as Telegram keeps
them), `sendMessage` — which checks HTML the way Telegram does (an unknown tag or a raw `<` is a 400
"Bad Request: can't parse entities: …"; over 4096 characters after parsing is "message is too long"),
answers 403 for a chat that blocked the bot, and 400 with `parameters.migrate_to_chat_id` for a group
that was upgraded to a supergroup (its old id keeps answering that; the new one takes messages).
Discord: `POST /api/webhooks/<id>/<token>` checks the documented limits and answers the created message
(`?wait=true`) or 204; a deleted webhook is a 404.

Control (`/sim/…`): read what was received (`GET /sim/messages`), forget it (`DELETE`), inject failures
(`POST /sim/messaging/faults`: the next N requests of a platform get 429 with retry_after, 403 or a
5xx), have a user write to the bot (`POST /sim/telegram/updates`), block a chat, upgrade a group to a
supergroup (`POST /sim/telegram/migrated`), delete a webhook.

`Messaging` is the state and the routes, answered by the market simulator (`make run`'s demo) and by
`MessagingServer`, a server of its own for tests and benchmarks.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
TELEGRAM_TEXT_LIMIT = 4096
DISCORD_CONTENT_LIMIT = 2000
_TELEGRAM_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)$")
_DISCORD_PATH = re.compile(r"^/api(?:/v\d+)?/webhooks/(\d{1,20})/([A-Za-z0-9_-]{1,100})/?$")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);")
_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")


class ParseError(ValueError):
    pass


def telegram_visible_text(text: str) -> str:
    """The text Telegram shows for `text` in HTML parse mode; ParseError the way TDLib words it."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            offset = len(text[:position].encode("utf-8"))
            end = text.find(">", position)
            if text.startswith("</", position):
                if end < 0:
                    raise ParseError(f"Unclosed end tag at byte offset {offset}")
                name = text[position + 2 : end].strip().lower()
                if not stack:
                    raise ParseError(f"Unexpected end tag at byte offset {offset}")
                if stack[-1] != name:
                    raise ParseError(
                        f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", found "</{name}>"'
                    )
                stack.pop()
                position = end + 1
                continue
            name = _TAG_NAME.match(text, position + 1).group(0).lower()
            if name not in TELEGRAM_TAGS:
                raise ParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
            if end < 0:
                raise ParseError(f"Unclosed start tag at byte offset {offset}")
            stack.append(name)
            position = end + 1
            continue
        if char == "&":
            match = _ENTITY.match(text, position)
            if match:
                entity = match.group(1)
                if entity.startswith("#x"):
                    out.append(chr(int(entity[2:], 16)))
                elif entity.startswith("#"):
                    out.append(chr(int(entity[1:])))
                elif entity in _NAMED_ENTITIES:
                    out.append(_NAMED_ENTITIES[entity])
                else:
                    out.append(match.group(0))  # other named entities stay as text
                position = match.end()
                continue
        out.append(char)
        position += 1
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


@dataclass
class MessagingFault:
    platform: str  # "telegram" | "discord"
    status: int
    remaining: int = 1
    retry_after: int | None = None
    description: str = ""


@dataclass
class Messaging:
    """What the platforms received, what users wrote to the bot, and the failures asked for."""

    received: list[dict[str, Any]] = field(default_factory=list)
    faults: list[MessagingFault] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    migrated_chats: dict[int, int] = field(default_factory=dict)  # group id → its supergroup's id
    deleted_webhooks: set[str] = field(default_factory=set)
    updates: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    _next_update_id: int = 53192527
    _next_message_id: int = 100
    _confirmed_offset: int = 0

    # --- routes ------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes, headers: Any = None) -> tuple[int, Any] | None:
        """(status, JSON answer, None for an empty 204) for a request of this module's, else None."""
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if path.startswith("/receiver/") and method == "POST":
            return self._receive_webhook(path, body, headers)
        telegram = _TELEGRAM_PATH.match(path)
        if telegram:
            return self._telegram(telegram[2], query, body)
        discord = _DISCORD_PATH.match(path)
        if discord and method == "POST":
            return self._discord(discord[1], query, body)
        if path == "/sim/messages":
            if method == "DELETE":
                with self.lock:
                    self.received.clear()
                return 200, {"ok": True}
            return 200, self.messages(query.get("platform", [None])[0], float(query.get("since", ["0"])[0]))
        if path == "/sim/messaging/faults" and method == "POST":
            data = _json(body)
            fault = MessagingFault(
                platform=str(data.get("platform", "telegram")),
                status=int(data.get("status", 500)),
                remaining=int(data.get("count", 1)),
                retry_after=data.get("retry_after"),
                description=str(data.get("description", "")),
            )
            with self.lock:
                self.faults.append(fault)
            return 200, {"ok": True}
        if path == "/sim/telegram/updates" and method == "POST":
            data = _json(body)
            return 200, {"ok": True, "update_id": self.user_writes(int(data["chat_id"]), str(data["text"]))}
        if path == "/sim/telegram/blocked" and method == "POST":
            with self.lock:
                self.blocked_chats.add(int(_json(body)["chat_id"]))
            return 200, {"ok": True}
        if path == "/sim/telegram/migrated" and method == "POST":
            data = _json(body)
            to_chat_id = None if data.get("to_chat_id") is None else int(data["to_chat_id"])
            supergroup = self.upgrade_to_supergroup(int(data["chat_id"]), to_chat_id)
            return 200, {"ok": True, "migrate_to_chat_id": supergroup}
        if path == "/sim/discord/deleted" and method == "POST":
            with self.lock:
                self.deleted_webhooks.add(str(_json(body)["webhook_id"]))
            return 200, {"ok": True}
        return None

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.faults.clear()
            self.blocked_chats.clear()
            self.migrated_chats.clear()
            self.deleted_webhooks.clear()
            self.updates.clear()

    def messages(self, platform: str | None = None, since: float = 0.0) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.received if (platform is None or m["platform"] == platform) and m["at"] >= since]

    def user_writes(self, chat_id: int, text: str, first_name: str = "Alice") -> int:
        """A Telegram user writes `text` to the bot (what getUpdates then returns)."""
        with self.lock:
            update_id = self._next_update_id
            self._next_update_id += 1
            self._next_message_id += 1
            entities = (
                [{"offset": 0, "length": len(text.split(" ", 1)[0]), "type": "bot_command"}]
                if text.startswith("/")
                else []
            )
            self.updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": self._next_message_id,
                        "from": {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": "en"},
                        "chat": {"id": chat_id, "first_name": first_name, "type": "private"},
                        "date": int(time.time()),
                        "text": text,
                        "entities": entities,
                    },
                }
            )
            self.lock.notify_all()
        return update_id

    def upgrade_to_supergroup(self, chat_id: int, supergroup_id: int | None = None) -> int:
        """Telegram upgrades group `chat_id` to a supergroup (by default `-100<digits of the group's id>`,
        the shape of supergroup ids); returns the supergroup's id."""
        supergroup = supergroup_id if supergroup_id is not None else int(f"-100{abs(chat_id)}")
        with self.lock:
            self.migrated_chats[chat_id] = supergroup
        return supergroup

    def _take_fault(self, platform: str) -> MessagingFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.platform == platform and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    def _receive_webhook(self, path: str, body: bytes, headers: Any) -> tuple[int, Any]:
        """A generic webhook receiver (what n8n would be): keeps the raw body and the headers."""
        fault = self._take_fault("webhook")
        if fault is not None:
            answer: dict[str, Any] = {"error": fault.description or "failure asked for"}
            if fault.retry_after is not None:
                answer["retry_after"] = fault.retry_after  # also sent as a Retry-After header
            return fault.status, answer
        with self.lock:
            self.received.append(
                {
                    "platform": "webhook",
                    "at": time.time(),
                    "path": path,
                    "raw_body": body.decode("utf-8", "replace"),
                    "headers": {k.lower(): v for k, v in (headers or {}).items()},
                }
            )
        return 200, {"received": True}

    # --- Telegram ----------------------------------------------------------------------------------

    def _telegram(self, method: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        params = {key: values[-1] for key, values in query.items()}
        if body:
            data = _json(body, form=True)
            if data is None:
                return _telegram_error(400, "Bad Request: invalid request body")
            params.update(data)
        name = method.lower()
        if name == "getme":
            return 200, {
                "ok": True,
                "result": {
                    "id": 7000000001,
                    "is_bot": True,
                    "first_name": "AURA",
                    "username": "AuraAlertsBot",
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                },
            }
        if name in ("deletewebhook", "setmycommands"):
            return 200, {"ok": True, "result": True}
        if name == "getupdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if name == "sendmessage":
            return self._send_message(params)
        return _telegram_error(404, "Not Found")

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 30.0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self.lock:
            if offset:
                self._confirmed_offset = max(self._confirmed_offset, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                pending = [u for u in self.updates if u["update_id"] >= self._confirmed_offset][:limit]
                left = deadline - time.monotonic()
                if pending or left <= 0:
                    return pending
                self.lock.wait(left)

    def _send_message(self, params: dict[str, Any]) -> tuple[int, Any]:
        fault = self._take_fault("telegram")
        if fault is not None:
            return _telegram_fault(fault)
        chat_id, text = params.get("chat_id"), params.get("text")
        if chat_id in (None, ""):
            return _telegram_error(400, "Bad Request: chat_id is empty")
        if not text:
            return _telegram_error(400, "Bad Request: message text is empty")
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            return _telegram_error(400, "Bad Request: chat not found")
        if chat in self.blocked_chats:
            return _telegram_error(403, "Forbidden: bot was blocked by the user")
        if chat in self.migrated_chats:
            return _telegram_error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated_chats[chat],
            )
        parse_mode = str(params.get("parse_mode") or "")
        try:
            visible = telegram_visible_text(text) if parse_mode.lower() == "html" else text
        except ParseError as error:
            return _telegram_error(400, f"Bad Request: can't parse entities: {error}")
        if len(visible) > TELEGRAM_TEXT_LIMIT:
            return _telegram_error(400, "Bad Request: message is too long")
        with self.lock:
            self._next_message_id += 1
            message_id = self._next_message_id
            self.received.append(
                {
                    "platform": "telegram",
                    "at": time.time(),
                    "chat_id": chat,
                    "text": text,
                    "visible_text": visible,
                    "parse_mode": parse_mode,
                    "message_id": message_id,
                    "body": params,
                }
            )
        result = {
            "message_id": message_id,
            "from": {"id": 7000000001, "is_bot": True, "first_name": "AURA", "username": "AuraAlertsBot"},
            "chat": {"id": chat, "type": "private"},
            "date": int(time.time()),
            "text": visible,
        }
        return 200, {"ok": True, "result": result}

    # --- Discord -----------------------------------------------------------------------------------

    def _discord(self, webhook_id: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        fault = self._take_fault("discord")
        if fault is not None:
            if fault.status == 429:
                retry = fault.retry_after if fault.retry_after is not None else 1
                return 429, {"message": "You are being rate limited.", "retry_after": retry, "global": False}
            return fault.status, {"message": fault.description or "Internal Server Error", "code": 0}
        if webhook_id in self.deleted_webhooks:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        data = _json(body)
        if not isinstance(data, dict):
            return 400, {"message": "Cannot send an empty message", "code": 50006}
        problems = _discord_problems(data)
        if problems:
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": problems}
        with self.lock:
            self._next_message_id += 1
            message_id = str(1_200_000_000_000_000_000 + self._next_message_id)
            self.received.append(
                {
                    "platform": "discord",
                    "at": time.time(),
                    "webhook_id": webhook_id,
                    "message_id": message_id,
                    "body": data,
                }
            )
        if query.get("wait", ["false"])[-1].lower() == "true":
            return 200, {"id": message_id, "type": 0, "channel_id": "1", "webhook_id": webhook_id, **data}
        return 204, None


def _discord_problems(data: dict[str, Any]) -> dict[str, str]:
    problems = {}
    content = data.get("content") or ""
    if not content and not data.get("embeds"):
        problems["content"] = "Cannot send an empty message"
    if len(content) > DISCORD_CONTENT_LIMIT:
        problems["content"] = "Must be 2000 or fewer in length."
    total = 0
    for index, embed in enumerate(data.get("embeds") or []):
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                problems[f"embeds.{index}.{key}"] = f"Must be {limit} or fewer in length."
        for number, item in enumerate(embed.get("fields") or []):
            total += len(item.get("name", "")) + len(item.get("value", ""))
            if len(item.get("value", "")) > 1024 or not item.get("value"):
                problems[f"embeds.{index}.fields.{number}.value"] = "Must be between 1 and 1024 in length."
        total += len((embed.get("footer") or {}).get("text", ""))
    if total > 6000:
        problems["embeds"] = "Embed size exceeds maximum size of 6000"
    return problems


def _telegram_error(
    status: int, description: str, retry_after: int | None = None, migrate_to_chat_id: int | None = None
) -> tuple[int, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    parameters = {"retry_after": retry_after, "migrate_to_chat_id": migrate_to_chat_id}
    if any(value is not None for value in parameters.values()):
        body["parameters"] = {key: value for key, value in parameters.items() if value is not None}
    return status, body


def _telegram_fault(fault: MessagingFault) -> tuple[int, Any]:
    if fault.status == 429:
        retry = fault.retry_after if fault.retry_after is not None else 1
        return _telegram_error(429, f"Too Many Requests: retry after {retry}", retry)
    if fault.status == 403:
        return _telegram_error(403, fault.description or "Forbidden: bot was blocked by the user")
    return _telegram_error(fault.status, fault.description or "Internal Server Error")


def _json(body: bytes, form: bool = False) -> Any:
    try:
        return json.loads(body or b"{}")
    except (ValueError, RecursionError):
        if form:
            try:
                return {key: values[-1] for key, values in parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
            except (ValueError, UnicodeDecodeError):
                return None
        return None


def reply_headers(status: int, payload: Any) -> dict[str, str]:
    """A 429's `Retry-After` header, as both platforms send it beside the body's retry_after."""
    if status == 429 and isinstance(payload, dict):
        retry = (payload.get("parameters") or {}).get("retry_after", payload.get("retry_after"))
        if retry is not None:
            return {"Retry-After": str(retry)}
    return {}


# --- a server of its own ---------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    messaging: Messaging
    protocol_version = "HTTP/1.1"  # keep-alive, as the senders keep their connections
    # Headers and body go out in separate writes: with Nagle on, the client's delayed ACK stalls them.
    disable_nagle_algorithm = True

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.messaging.handle(method, self.path, body, dict(self.headers.items()))
        status, payload = reply if reply is not None else (404, {"ok": False, "description": "Not Found"})
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in reply_headers(status, payload).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._answer("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


class MessagingServer:
    """`Messaging` on a local port of its own (0: a free one), in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.messaging = Messaging()
        handler = type("Handler", (_Handler,), {"messaging": self.messaging})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="messaging-sim", daemon=True)

    def __enter__(self) -> MessagingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
