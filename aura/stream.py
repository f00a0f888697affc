"""Live events for the API's WebSocket (aura/api_stream.py): compact JSON, each with a sequence number.

Beside the HTML pushed to pages (aura/realtime.py), writers publish events to the same groups the pages
use (`feed.trades`, `wallet.<address>`, `token.<mint>`, `follows.<user id>`, `feed.signals`). Each event
gets the next number of one sequence (Redis INCR), is appended to the log of each of its groups in
Redis (a sorted set by sequence, the last API_STREAM_KEEP events of each group kept) — numbering and
logging are one script, one round trip — and is sent through the channel layer to the sockets in the
group's API twin (`api.<group>`), when one listens there (`aura.listeners`: the socket notes its groups).

A reconnecting phone says the last sequence it saw; the socket replays what its groups logged since,
then carries on live, sending each sequence number once. Like every push, publishing happens in
writers after commit, so no event names a row that was rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
import redis.asyncio
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from redis.commands.core import Script

from aura import listeners, realtime

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


def _tail(event: Event) -> str:
    """An event's JSON text after its sequence number: what the log script splices the number into."""
    return json.dumps({"kind": event.kind, "data": event.data}, cls=DjangoJSONEncoder, separators=(",", ":"))[1:]


def _numbered_text(seq: int, tail: str) -> str:
    """An event's JSON text: its sequence number first, as the log script writes it too."""
    return f'{{"seq":{seq},{tail}'


# Numbers the events and appends them to their groups' logs in one round trip, so the numbers and the
# logs agree whoever publishes at the same time. KEYS: the sequence, then each group's log. ARGV: how
# many to keep, the logs' lifetime, the number of events n, each event's text after its number (n of
# them), then per log the positions (1-based, space-separated) of the events it gets. Returns the last number.
_LOG_SCRIPT = """
local n = tonumber(ARGV[3])
local last = redis.call('INCRBY', KEYS[1], n)
local first = last - n
for g = 2, #KEYS do
  local entries = {}
  for position in string.gmatch(ARGV[3 + n + g - 1], '%d+') do
    local seq = string.format('%d', first + tonumber(position))
    entries[#entries + 1] = seq
    entries[#entries + 1] = '{"seq":' .. seq .. ',' .. ARGV[3 + tonumber(position)]
  end
  redis.call('ZADD', KEYS[g], unpack(entries))
  redis.call('ZREMRANGEBYRANK', KEYS[g], 0, -tonumber(ARGV[1]) - 1)
  redis.call('EXPIRE', KEYS[g], ARGV[2])
end
return last
"""


@cache
def _log_script() -> Script:
    return _client().register_script(_LOG_SCRIPT)


@dataclass(frozen=True)
class _Numbered:
    """An event as logged: its sequence number and its JSON text."""

    seq: int
    event: Event
    text: str


def _log(events: Iterable[Event]) -> list[_Numbered]:
    """Number `events` (in order) and append each to the logs of its groups, where reconnecting sockets
    read what they missed; one Redis round trip. Raises while Redis is unreachable."""
    events = [event for event in events if event.groups]
    if not events:
        return []
    tails = [_tail(event) for event in events]
    groups = list(dict.fromkeys(group for event in events for group in event.groups))
    positions = [
        " ".join(str(position) for position, event in enumerate(events, 1) if group in event.groups) for group in groups
    ]
    last = int(
        _log_script()(
            keys=[sequence_key(), *(log_key(group) for group in groups)],
            args=[settings.API_STREAM_KEEP, settings.API_STREAM_TTL_SECONDS, len(events), *tails, *positions],
        )
    )
    first = last - len(events)
    return [
        _Numbered(first + position, event, _numbered_text(first + position, tail))
        for position, (event, tail) in enumerate(zip(events, tails, strict=True), 1)
    ]


def publish(events: Iterable[Event]) -> list[int]:
    """Number, log and send `events` (in order) to the API sockets listening; returns their sequence
    numbers. Raises while Redis is unreachable (the caller's sweep publishes again later, as it pushes
    HTML again)."""
    numbered = _log(events)
    if not numbered:
        return []
    # Logged first: a socket noted as listening after this check still finds the events in the log.
    heard = listeners.listened({api_group(group) for item in numbered for group in item.event.groups})
    realtime.send_messages(
        [
            (api_group(group), {"type": EVENT, "seq": item.seq, "text": item.text})
            for item in numbered
            for group in item.event.groups
            if api_group(group) in heard
        ]
    )
    return [item.seq for item in numbered]


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
