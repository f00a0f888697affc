"""The one WebSocket endpoint of browser pages: authenticate, join groups, forward pushed HTML."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from aura import listeners
from aura.realtime import follows_group, is_public_group, user_group

logger = logging.getLogger(__name__)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TRY_AGAIN_LATER = 1013
MAX_GROUPS = 20
# A message that swaps nothing. A dropped network leaves a WebSocket looking open on both ends, and
# a Redis that is down leaves it open but deaf to every push; the page takes a silence of a few
# heartbeats as either and reconnects, then catches up (static/js/aura.js).
HEARTBEAT = "<!-- heartbeat -->"


class LiveConsumer(AsyncWebsocketConsumer):
    """Joins the groups named in `?groups=a,b` (validated), and its own user's group.

    "follows" stands for the user's own follows group: a page can only ask for its own user's.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        requested = [follows_group(user.id) if name == "follows" else name for name in self.requested_groups()]
        self.groups_joined = [user_group(user.id), *requested]
        try:
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
            await listeners.listen(self.channel_name, self.groups_joined, self.channel_layer_alias)
        except Exception as error:  # noqa: BLE001 - Redis unreachable: no pushes could reach this socket
            logger.warning("live socket refused, the channel layer is unreachable: %r", error)
            await self.close(code=CLOSE_TRY_AGAIN_LATER)  # the page tries again, backing off
            return
        await self.accept()
        self.heartbeat = asyncio.ensure_future(self.beat(settings.LIVE_HEARTBEAT_SECONDS))

    async def beat(self, seconds: float) -> None:
        """Every `seconds`, a heartbeat to this socket through the channel layer — the road every push
        takes (Redis), not straight down the socket: while pushes cannot get through, neither does the
        heartbeat, so the page learns it and catches up once they can. Each beat renews the socket's
        listener notes (aura.listeners)."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await asyncio.wait_for(
                    self.channel_layer.send(self.channel_name, {"type": "html.push", "html": HEARTBEAT}), seconds
                )
                await asyncio.wait_for(
                    listeners.listen(self.channel_name, self.groups_joined, self.channel_layer_alias), seconds
                )
            except Exception as error:  # noqa: BLE001 - whatever stops it, the page must hear silence
                logger.debug("live socket %s: no heartbeat through the channel layer: %r", self.channel_name, error)

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
        groups = getattr(self, "groups_joined", [])
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        if groups:
            try:
                await listeners.stop_listening(self.channel_name, groups, self.channel_layer_alias)
            except Exception as error:  # noqa: BLE001 - the notes expire on their own
                logger.debug("live socket %s: listener notes left to expire: %r", self.channel_name, error)

    async def dispatch(self, message: dict) -> None:
        # Channels closes stale database connections (a hop to the sync thread) before every handler.
        # A push touches no database; skipping that hop makes a fan-out to 1,000 sockets ~2.5x cheaper.
        if message["type"] == "html.push":
            await self.html_push(message)
        else:
            await super().dispatch(message)

    async def html_push(self, event: dict) -> None:
        await self.send(text_data=event["html"])
