"""Pushing server-rendered HTML fragments to browsers over the channel layer.

One message shape: {"type": "html.push", "html": "..."}; every consumer forwards the HTML to its
socket and the htmx ws extension swaps it in by element id (out-of-band). Pushes happen only from
actions and only after the transaction commits (`transaction.on_commit`), so a browser never shows a
row that was rolled back.
"""

from __future__ import annotations

import asyncio
import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

FEED_TRADES = "feed.trades"
FEED_SIGNALS = "feed.signals"
# Channel-layer group names allow only ASCII letters, digits, hyphens, underscores and periods.
BASE58_ADDRESS = r"[1-9A-HJ-NP-Za-km-z]{32,44}"
GROUP_PATTERN = re.compile(
    rf"^(feed\.(trades|signals)|leaderboard\.(24h|7d|30d|all)|wallet\.{BASE58_ADDRESS}|token\.{BASE58_ADDRESS})$"
)


def wallet_group(address: str) -> str:
    return f"wallet.{address}"


def token_group(mint: str) -> str:
    return f"token.{mint}"


def leaderboard_group(window: str) -> str:
    return f"leaderboard.{window}"


def follows_group(user_id: int) -> str:
    """Swaps of the wallets this user follows (joined by the Following page)."""
    return f"follows.{user_id}"


def user_group(user_id: int) -> str:
    """What only this user's open pages hear (their alert notices): every page socket of theirs joins it."""
    return f"user.{user_id}"


def is_public_group(name: str) -> bool:
    """Groups any logged-in page may join (its own user's follows group it asks for as "follows")."""
    return bool(GROUP_PATTERN.match(name))


def send_html(group: str, html: str) -> None:
    send_many([(group, html)])


def send_many(messages: list[tuple[str, str]]) -> None:
    """Send each (group, html) at once: one hop into the event loop for all of them, not one each."""
    send_messages([(group, {"type": "html.push", "html": html}) for group, html in messages])


def send_messages(messages: list[tuple[str, dict]]) -> None:
    """Send each (group, channel-layer message) at once, in one hop into the event loop."""
    if not messages:
        return
    layer = get_channel_layer()

    async def send_all() -> None:
        await asyncio.gather(*(layer.group_send(group, message) for group, message in messages))

    async_to_sync(send_all)()
