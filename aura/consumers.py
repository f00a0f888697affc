"""The one WebSocket endpoint of browser pages: authenticate, join groups, forward pushed HTML."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from aura.realtime import follows_group, is_public_group, user_group

CLOSE_UNAUTHENTICATED = 4401
MAX_GROUPS = 20
# A message that swaps nothing. A dropped network leaves a WebSocket looking open on both ends; the
# page takes a silence of a few heartbeats as a dead socket and reconnects (static/js/aura.js).
HEARTBEAT = "<!-- heartbeat -->"


class LiveConsumer(AsyncWebsocketConsumer):
    """Joins the groups named in `?groups=a,b` (validated) plus the user's own group.

    "follows" stands for the user's own follows group: a page can only ask for its own user's.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        requested = [follows_group(user.id) if name == "follows" else name for name in self.requested_groups()]
        self.groups_joined = [user_group(user.id), *requested]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.heartbeat = asyncio.ensure_future(self.beat(settings.LIVE_HEARTBEAT_SECONDS))

    async def beat(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.send(text_data=HEARTBEAT)

    def requested_groups(self) -> list[str]:
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        names = [name for value in query.get("groups", []) for name in value.split(",")]
        return [name for name in dict.fromkeys(names) if name == "follows" or is_public_group(name)][:MAX_GROUPS]

    async def disconnect(self, code: int) -> None:
        heartbeat = getattr(self, "heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def dispatch(self, message: dict) -> None:
        # Channels closes stale database connections (a hop to the sync thread) before every handler.
        # A push touches no database; skipping that hop makes a fan-out to 1,000 sockets ~2.5x cheaper.
        if message["type"] == "html.push":
            await self.html_push(message)
        else:
            await super().dispatch(message)

    async def html_push(self, event: dict) -> None:
        await self.send(text_data=event["html"])
