"""The API's WebSocket (/ws/api/v1/): live JSON events for the phone, numbered, resumable.

Protocol (JSON text frames):
- Authenticate with a JWT access token: `?token=<access>` in the URL, or as the first message
  `{"type": "auth", "token": "<access>"}` within API_STREAM_AUTH_SECONDS. Cookies are not read, so
  no other site's page can open this socket as a signed-in user. Answer: `{"type": "ready", "user":
  <username>, "seq": <latest sequence number>, "expires_at": <the token's expiry, ISO 8601>}`; a bad
  token closes the socket with code 4401.
- The socket lives as long as its access token: at `expires_at` it is closed with code 4440 (after an
  `error`), and no event goes out after it. To stay, send `{"type": "auth", "token": "<fresh access>"}`
  of the same user before then; answer `{"type": "renewed", "expires_at": ...}`. A token that is
  invalid, expired or another user's is refused with an `error` and changes nothing.
- Subscribe: `{"type": "subscribe", "groups": ["feed.trades", "follows", "wallet.<address>",
  "feed.signals", "token.<mint>"], "last_seq": <optional>}` — the groups the pages use ("follows"
  is the user's own). With `last_seq`, the events of those groups since then come first (oldest
  first; `{"type": "gap"}` before them when the kept log may not reach back that far). Answer:
  `{"type": "subscribed", "groups": [...]}`, after the replay.
- `{"type": "unsubscribe", "groups": [...]}` leaves groups.
- Events: `{"seq": n, "kind": "swap" | "signal", "data": {...}}`; each sequence number once per
  socket, whichever of its groups it came through. `{"type": "ping"}` every LIVE_HEARTBEAT_SECONDS
  (through Redis, as events travel): silence means a dead socket; reconnect with the last `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from rest_framework_simplejwt.authentication import JWTAuthentication

from aura import listeners, stream
from aura.consumers import CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHENTICATED, MAX_GROUPS
from aura.realtime import follows_group, is_public_group

logger = logging.getLogger(__name__)
REMEMBERED_SEQUENCES = 4096  # sent sequence numbers remembered per socket, so none goes out twice
# The access token the socket signed in with expired (440: the "login time-out" of some HTTP servers).
CLOSE_TOKEN_EXPIRED = 4440


@dataclass(frozen=True)
class SignIn:
    user: AbstractBaseUser
    expires_at: float  # the access token's `exp`, seconds since the epoch


@database_sync_to_async
def sign_in(token: str) -> SignIn | None:
    """The active user a JWT access token belongs to, until when; None when the token is invalid or expired."""
    authentication = JWTAuthentication()
    try:
        validated = authentication.get_validated_token(token.encode())
        return SignIn(authentication.get_user(validated), float(validated["exp"]))
    except Exception:  # noqa: BLE001 - invalid, expired, a deleted or inactive user: no user either way
        return None


def iso_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class ApiStreamConsumer(AsyncWebsocketConsumer):
    user: AbstractBaseUser | None = None
    signed_in_until = 0.0

    async def connect(self) -> None:
        self.groups_joined: set[str] = set()
        self.sent: set[int] = set()
        self.sent_order: deque[int] = deque()
        self.redis = stream.async_client()
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        if "token" in query:
            await self.authenticate(query["token"][0])
        else:
            self.waiting = asyncio.ensure_future(self.close_unless_authenticated(settings.API_STREAM_AUTH_SECONDS))

    async def close_unless_authenticated(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.user is None:
            await self.refuse("no token in time")

    async def refuse(self, reason: str, code: int = CLOSE_UNAUTHENTICATED) -> None:
        await self.send_json({"type": "error", "detail": f"Not authenticated: {reason}."})
        await self.close(code=code)

    async def authenticate(self, token: object) -> None:
        signed_in = await sign_in(token) if isinstance(token, str) and token else None
        if signed_in is None:
            await self.refuse("the token is invalid or expired")
            return
        self.user = signed_in.user
        self.keep_open_until(signed_in.expires_at)
        self.heartbeat = asyncio.ensure_future(self.beat(settings.LIVE_HEARTBEAT_SECONDS))
        await self.send_json(
            {
                "type": "ready",
                "user": self.user.get_username(),
                "seq": await stream.current_sequence(self.redis),
                "expires_at": iso_time(signed_in.expires_at),
            }
        )

    async def renew(self, token: object) -> None:
        """A fresh access token of the same user keeps the socket open until that token expires."""
        signed_in = await sign_in(token) if isinstance(token, str) and token else None
        if signed_in is None or signed_in.user.pk != self.user.pk:
            reason = "the token is invalid or expired" if signed_in is None else "the token is another user's"
            await self.send_json({"type": "error", "detail": f"Not renewed: {reason}."})
            return
        self.keep_open_until(max(signed_in.expires_at, self.signed_in_until))
        await self.send_json({"type": "renewed", "expires_at": iso_time(self.signed_in_until)})

    def keep_open_until(self, expires_at: float) -> None:
        self.signed_in_until = expires_at
        if getattr(self, "expiry", None) is None:
            self.expiry = asyncio.ensure_future(self.close_at_expiry())

    async def close_at_expiry(self) -> None:
        """Close the socket once `signed_in_until` is past (a renewal pushes it back while this waits)."""
        while (left := self.signed_in_until - time.time()) > 0:
            await asyncio.sleep(left)
        await self.refuse("the access token expired", code=CLOSE_TOKEN_EXPIRED)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            message = None
        if not isinstance(message, dict):
            await self.send_json({"type": "error", "detail": "Messages are JSON objects with a `type`."})
            return
        kind = message.get("type")
        if self.user is None:
            if kind == "auth":
                await self.authenticate(message.get("token"))
            else:
                await self.refuse('the first message must be {"type": "auth", "token": ...}')
            return
        if kind == "auth":
            await self.renew(message.get("token"))
        elif kind == "subscribe":
            await self.subscribe(message.get("groups"), message.get("last_seq"))
        elif kind == "unsubscribe":
            await self.unsubscribe(message.get("groups"))
        else:
            await self.send_json({"type": "error", "detail": f"Unknown message type {kind!r}."})

    def page_groups(self, names: object) -> list[str] | None:
        """The page groups named (each checked; "follows" is the user's own), or None when any is refused."""
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            return None
        groups = []
        for name in dict.fromkeys(names):
            if name == "follows":
                groups.append(follows_group(self.user.pk))
            elif is_public_group(name) and not name.startswith("leaderboard."):
                groups.append(name)
            else:
                return None
        return groups

    async def subscribe(self, names: object, last_seq: object) -> None:
        groups = self.page_groups(names)
        if groups is None or len(self.groups_joined | set(groups)) > MAX_GROUPS:
            await self.send_json(
                {
                    "type": "error",
                    "detail": "`groups` must list at most "
                    f"{MAX_GROUPS} of: feed.trades, feed.signals, follows, wallet.<address>, token.<mint>.",
                }
            )
            return
        if last_seq is not None and (not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0):
            await self.send_json({"type": "error", "detail": "`last_seq` must be a whole number."})
            return
        try:
            # Noted before the log is read: a publisher that found no socket listening logged its event
            # before that check, so the replay below holds it.
            await listeners.listen(self.channel_name, [stream.api_group(group) for group in groups])
            for group in groups:
                await self.channel_layer.group_add(stream.api_group(group), self.channel_name)
                self.groups_joined.add(group)
            # Joined first, then the log read: an event published in between comes both ways, and goes out once.
            if last_seq is not None:
                missed = await stream.backlog(self.redis, groups, last_seq)
                if missed.gap:
                    await self.send_json({"type": "gap", "detail": "Some events since `last_seq` are no longer kept."})
                for seq, text in missed.events:
                    await self.send_event(seq, text)
        except Exception as error:  # noqa: BLE001 - Redis unreachable: the phone tries again later
            logger.warning("API socket: cannot subscribe, Redis is unreachable: %r", error)
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.send_json({"type": "subscribed", "groups": sorted(self.shown(self.groups_joined))})

    def shown(self, groups: set[str]) -> list[str]:
        own = follows_group(self.user.pk)
        return ["follows" if group == own else group for group in groups]

    async def unsubscribe(self, names: object) -> None:
        groups = self.page_groups(names) or []
        left = [group for group in groups if group in self.groups_joined]
        for group in left:
            await self.channel_layer.group_discard(stream.api_group(group), self.channel_name)
            self.groups_joined.discard(group)
        if left:
            with contextlib.suppress(Exception):  # the notes expire on their own
                await listeners.stop_listening(self.channel_name, [stream.api_group(group) for group in left])
        await self.send_json({"type": "subscribed", "groups": sorted(self.shown(self.groups_joined))})

    async def send_event(self, seq: int, text: str) -> None:
        if seq in self.sent or time.time() >= self.signed_in_until:
            return
        self.sent.add(seq)
        self.sent_order.append(seq)
        if len(self.sent_order) > REMEMBERED_SEQUENCES:
            self.sent.discard(self.sent_order.popleft())
        await self.send(text_data=text)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

    async def beat(self, seconds: float) -> None:
        """A ping through the channel layer every `seconds`, renewing the socket's listener notes
        (see aura.consumers.LiveConsumer.beat)."""
        while True:
            await asyncio.sleep(seconds)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.channel_layer.send(self.channel_name, {"type": "api.ping"}), seconds)
                await asyncio.wait_for(
                    listeners.listen(self.channel_name, [stream.api_group(group) for group in self.groups_joined]),
                    seconds,
                )

    async def dispatch(self, message: dict) -> None:
        # As LiveConsumer: an event touches no database, so skip the hop that closes stale connections.
        if message["type"] == stream.EVENT:
            await self.send_event(message["seq"], message["text"])
        elif message["type"] == "api.ping":
            await self.send_json({"type": "ping"})
        else:
            await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        for task in (getattr(self, "heartbeat", None), getattr(self, "waiting", None), getattr(self, "expiry", None)):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for group in self.groups_joined:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(stream.api_group(group), self.channel_name)
        if self.groups_joined:
            with contextlib.suppress(Exception):  # the notes expire on their own
                await listeners.stop_listening(self.channel_name, [stream.api_group(g) for g in self.groups_joined])
        await self.redis.aclose()
