"""Live events for the API's WebSocket (aura/api_stream.py): compact JSON, each with a sequence number.

Beside the HTML pushed to pages (aura/realtime.py), writers publish events to the same groups the pages
use (`feed.trades`, `wallet.<address>`, `token.<mint>`, `follows.<user id>`, `feed.signals`). Each event
gets the next number of one sequence (Redis INCR), is appended to the log of each of its groups in
Redis (a sorted set by sequence, the last API_STREAM_KEEP events of each group kept), and is sent
through the channel layer to the sockets in the group's API twin (`api.<group>`).

A reconnecting phone says the last sequence it saw; the socket replays what its groups logged since,
then carries on live, sending each sequence number once. Like every push, publishing happens in
writers after commit, so no event names a row that was rolled back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
import redis.asyncio
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

EVENT = "api.event"


@dataclass(frozen=True)
class Event:
    """An event to publish: `kind` ("swap", "signal", …), its `data`, and the page groups it belongs to."""

    kind: str
    data: dict[str, Any]
    groups: Sequence[str]


def api_group(group: str) -> str:
    """The channel-layer group of API sockets listening to page group `group`."""
    return f"api.{group}"


def _prefix() -> str:
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG'].get('prefix', 'aura')}.stream"


def sequence_key() -> str:
    return f"{_prefix()}.sequence"


def log_key(group: str) -> str:
    return f"{_prefix()}.log.{group}"


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def async_client() -> redis.asyncio.Redis:
    """A client of the event logs for one socket's event loop (close it with `aclose()`)."""
    return redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def encode(seq: int, event: Event) -> str:
    return json.dumps(
        {"seq": seq, "kind": event.kind, "data": event.data}, cls=DjangoJSONEncoder, separators=(",", ":")
    )


def publish(events: Iterable[Event]) -> list[int]:
    """Number, log and send `events` (in order); returns their sequence numbers. Raises while Redis
    is unreachable (the caller's sweep publishes again later, as it pushes HTML again)."""
    events = [event for event in events if event.groups]
    if not events:
        return []
    client = _client()
    last = client.incrby(sequence_key(), len(events))
    numbered = [
        (seq, event, encode(seq, event))
        for seq, event in zip(range(last - len(events) + 1, last + 1), events, strict=True)
    ]
    keep, ttl = settings.API_STREAM_KEEP, settings.API_STREAM_TTL_SECONDS
    with client.pipeline(transaction=False) as pipe:
        for group in {group for _, event, _ in numbered for group in event.groups}:
            entries = {text: seq for seq, event, text in numbered if group in event.groups}
            pipe.zadd(log_key(group), entries)
            pipe.zremrangebyrank(log_key(group), 0, -keep - 1)
            pipe.expire(log_key(group), ttl)
        pipe.execute()
    layer = get_channel_layer()

    async def send_all() -> None:
        await asyncio.gather(
            *(
                layer.group_send(api_group(group), {"type": EVENT, "seq": seq, "text": text})
                for seq, event, text in numbered
                for group in event.groups
            )
        )

    async_to_sync(send_all)()
    return [seq for seq, _, _ in numbered]


@dataclass
class Backlog:
    """What a group logged after a sequence number: `events` as (seq, text), oldest first, and whether
    older ones may have been dropped from the log (`gap`: the phone should reload by the REST API)."""

    events: list[tuple[int, str]]
    gap: bool


async def backlog(client: redis.asyncio.Redis, groups: Iterable[str], after: int) -> Backlog:
    """The events of `groups` with a sequence above `after`, each once, oldest first."""
    keep = settings.API_STREAM_KEEP
    seen: dict[int, str] = {}
    gap = False
    for group in groups:
        key = log_key(group)
        async with client.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(key, f"({after}", "+inf", withscores=True)
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
            entries, size, oldest = await pipe.execute()
        for text, seq in entries:
            seen.setdefault(int(seq), text.decode() if isinstance(text, bytes) else text)
        # A full log whose oldest entry is past what the phone saw may have dropped events it missed.
        if size >= keep and oldest and int(oldest[0][1]) > after + 1:
            gap = True
    return Backlog(events=sorted(seen.items()), gap=gap)


async def current_sequence(client: redis.asyncio.Redis) -> int:
    value = await client.get(sequence_key())
    return int(value or 0)
