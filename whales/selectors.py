"""The reads the pages and the API share, so both show the same rows in the same order."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Q, QuerySet

from whales.models import Position, PositionCycle, Swap, Token, TrackedWallet

TOKEN_HOLDERS_LIMIT = 100


def swap_feed(
    wallet: TrackedWallet | None = None, token: Token | None = None, followed_by: AbstractBaseUser | None = None
) -> QuerySet[Swap]:
    """Swaps newest first (by block time, then arrival), optionally of one wallet, one token, or the
    wallets a user follows."""
    swaps = Swap.objects.select_related("wallet", "token").order_by("-block_time", "-id")
    if wallet is not None:
        swaps = swaps.filter(wallet=wallet)
    if token is not None:
        swaps = swaps.filter(token=token)
    if followed_by is not None:
        swaps = swaps.filter(wallet__followers__user=followed_by)
    return swaps


def open_positions(wallet: TrackedWallet) -> QuerySet[Position]:
    """What the wallet holds, biggest cost basis first."""
    return (
        Position.objects.filter(wallet=wallet, holdings__gt=0)
        .select_related("token")
        .order_by(F("cost_basis").desc(nulls_last=True))
    )


def closed_cycles(wallet: TrackedWallet) -> QuerySet[PositionCycle]:
    """The wallet's round trips, latest close first."""
    return (
        PositionCycle.objects.filter(wallet=wallet)
        .exclude(closed_at=None)
        .select_related("token")
        .order_by("-closed_at", "-id")
    )


def token_holders(token: Token) -> QuerySet[Position]:
    """Tracked wallets that hold `token` or have bought it, biggest holdings first."""
    return (
        Position.objects.filter(token=token)
        .filter(Q(holdings__gt=0) | Q(bought_usd__gt=0))
        .select_related("wallet")
        .order_by(F("holdings").desc(), "-bought_usd", "wallet_id")[:TOKEN_HOLDERS_LIMIT]
    )



def positions_waiting_for_a_price(wallet: TrackedWallet) -> QuerySet[Position]:
    """Tokens the wallet traded whose trades all wait for a USD price: not open in its books yet."""
    return Position.objects.filter(wallet=wallet, holdings=0, pending_trades__gt=0).select_related("token")
