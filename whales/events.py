"""The API socket's events about swaps (aura/stream.py): compact JSON, the same groups as the pages' pushes."""

from __future__ import annotations

from collections.abc import Sequence

from aura import realtime
from aura.stream import Event
from whales.models import Swap


def swap_data(swap: Swap) -> dict:
    """A swap in few keys (its wallet and token loaded): amounts and money as decimal strings, time ISO 8601."""
    return {
        "id": swap.id,
        "signature": swap.signature,
        "wallet": swap.wallet.address,
        "wallet_label": swap.wallet.label,
        "mint": swap.token.mint,
        "symbol": swap.token.symbol,
        "side": swap.side,
        "token_amount": str(swap.token_amount),
        "quote_asset": swap.quote_asset,
        "quote_amount": str(swap.quote_amount),
        "usd_value": None if swap.usd_value is None else str(swap.usd_value),
        "block_time": swap.block_time.isoformat().replace("+00:00", "Z"),
    }


def swap_events(swaps: Sequence[Swap], followers: dict[int, list[int]]) -> list[Event]:
    """An event per swap, oldest first, for the feed of all swaps, its wallet's, its token's and its followers'."""
    return [
        Event(
            kind="swap",
            data=swap_data(swap),
            groups=[
                realtime.FEED_TRADES,
                realtime.wallet_group(swap.wallet.address),
                realtime.token_group(swap.token.mint),
                *(realtime.follows_group(user_id) for user_id in followers.get(swap.wallet_id, [])),
            ],
        )
        for swap in sorted(swaps, key=lambda swap: (swap.block_time, swap.id))
    ]
