"""The one WebSocket endpoint of browser pages: authenticate, join groups, forward pushed HTML."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from aura.realtime import is_public_group, user_group

CLOSE_UNAUTHENTICATED = 4401
MAX_GROUPS = 20


class LiveConsumer(AsyncWebsocketConsumer):
    """Joins the groups named in `?groups=a,b` (validated) plus the user's own group."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.groups_joined = [user_group(user.id), *self.requested_groups()]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    def requested_groups(self) -> list[str]:
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        names = [name for value in query.get("groups", []) for name in value.split(",")]
        return [name for name in dict.fromkeys(names) if is_public_group(name)][:MAX_GROUPS]

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def html_push(self, event: dict) -> None:
        await self.send(text_data=event["html"])
