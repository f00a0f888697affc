"""Whale accumulation and distribution: the score and reasons of a cluster signal (SIGNALS.md §2)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from signals.scoring.core import (
    DEFAULT_PARAMETERS,
    Parameters,
    Signal,
    SignalWallet,
    _quality,
    _score_reason,
    _wallet_reason,
)
from signals.scoring.numbers import _EXACT, _RATIOS, ZERO, _round_points, _shown, _tier_points, decimal_text

# --- Score table (part of SIGNALS.md v1: changing one is a new version) ----------------------------

CLUSTER_WALLET_POINTS_EACH = 10
CLUSTER_WALLET_POINTS_MAX = 50
CLUSTER_NET_USD_POINTS = ((Decimal(1_000), 5), (Decimal(10_000), 10), (Decimal(50_000), 15), (Decimal(100_000), 20))
CLUSTER_QUALITY_POINTS_MAX = 30


class _ClusterTally:
    """Running sums of a cluster signal's wallets, so a join costs what joins, not the whole signal.

    `wallet_reasons` are the signal's `wallet` reasons in order; they never change once made, so
    successive snapshots share them.
    """

    __slots__ = ("net", "flow", "quality", "wallet_reasons")

    def __init__(self) -> None:
        self.net = ZERO
        self.flow = ZERO
        self.quality = ZERO
        self.wallet_reasons: list[dict[str, Any]] = []

    @classmethod
    def of(cls, signal: Signal, params: Parameters, reuse_reasons: bool = False) -> _ClusterTally:
        """The tally of a signal's wallets; with `reuse_reasons` (a signal handed in from storage), the
        sums and wallet reasons its reasons already hold are taken as they are when they have the v1
        layout, so resuming a signal of hundreds of wallets costs little."""
        tally = cls()
        members = list(signal.wallets.values())
        count, reasons = len(members), signal.reasons
        if (
            reuse_reasons
            and len(reasons) == count + 4
            and reasons[0].get("reason") == "cluster"
            and reasons[0].get("wallets") == count
            and reasons[count + 2].get("component") == "net_usd"
        ):
            # The v1 layout (§4): the sums are in the reasons; only the quality sum is worked out again.
            tally.net = Decimal(reasons[0]["net_usd"])
            tally.flow = Decimal(reasons[count + 2]["value"])
            min_cycles = params.min_cycles_for_quality
            for member in members:
                if member.win_rate is not None and member.cycles is not None and member.cycles >= min_cycles:
                    tally.quality = _EXACT.add(tally.quality, member.win_rate)
            tally.wallet_reasons = reasons[1 : count + 1]
        else:
            tally.add(members, params)
        return tally

    def add(self, members: Iterable[SignalWallet], params: Parameters) -> None:
        min_cycles = params.min_cycles_for_quality
        for member in members:
            self.net = _EXACT.add(self.net, member.usd)
            self.flow = _EXACT.add(self.flow, abs(member.usd))
            self.quality = _EXACT.add(self.quality, _quality(member.win_rate, member.cycles, min_cycles))
            self.wallet_reasons.append(_wallet_reason(member, "net_usd"))


def cluster_score(signal: Signal, params: Parameters = DEFAULT_PARAMETERS) -> tuple[int, list[dict[str, Any]]]:
    """Score and reasons of a whale-accumulation or whale-distribution signal (SIGNALS.md §2).

    wallets: 10 points a wallet, at most 50 · net USD (Σ |net| of its wallets): 5/10/15/20 points from
    $1k/$10k/$50k/$100k · wallet quality: 30 × the mean over its wallets of their win rate, counted
    only for wallets with at least `min_cycles_for_quality` rated cycles (0 for the others).
    """
    return _cluster_verdict(signal, _ClusterTally.of(signal, params), params)


def _cluster_verdict(signal: Signal, tally: _ClusterTally, params: Parameters) -> tuple[int, list[dict[str, Any]]]:
    count = len(tally.wallet_reasons)
    mean_quality = _RATIOS.divide(tally.quality, Decimal(count)) if count else ZERO
    wallet_points = min(CLUSTER_WALLET_POINTS_MAX, CLUSTER_WALLET_POINTS_EACH * count)
    flow_points = _tier_points(tally.flow, CLUSTER_NET_USD_POINTS)
    quality_points = _round_points(CLUSTER_QUALITY_POINTS_MAX * mean_quality)
    reasons: list[dict[str, Any]] = [
        {
            "reason": "cluster",
            "side": signal.side,
            "wallets": count,
            "min_wallets": params.min_wallets,
            "window_seconds": params.window_seconds,
            "cooldown_seconds": params.cooldown_seconds,
            "net_usd": decimal_text(tally.net),
        },
        *tally.wallet_reasons,
        _score_reason("wallets", count, wallet_points, CLUSTER_WALLET_POINTS_MAX),
        _score_reason("net_usd", decimal_text(tally.flow), flow_points, CLUSTER_NET_USD_POINTS[-1][1]),
        _score_reason(
            "wallet_quality",
            _shown(mean_quality),
            quality_points,
            CLUSTER_QUALITY_POINTS_MAX,
            min_cycles=params.min_cycles_for_quality,
        ),
    ]
    return wallet_points + flow_points + quality_points, reasons
