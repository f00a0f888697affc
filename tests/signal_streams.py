"""Swap streams for the signal tests: numbered swaps, the events and final signals a Detector makes of them."""

from __future__ import annotations

from decimal import Decimal

from signals.scoring import DEFAULT_PARAMETERS, Detector, Signal, Swap

D = Decimal
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
WIF = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"
HOUR = 3600
SIX_HOURS = 6 * HOUR


class Stream:
    """Swaps numbered in the order they are written, as the CLI numbers a file's swaps."""

    def __init__(self) -> None:
        self.swaps: list[Swap] = []

    def buy(self, t: int, wallet: str, usd: str | int = 100, token: str = BONK) -> Stream:
        self.swaps.append(Swap(len(self.swaps), t, wallet, token, "buy", D(usd)))
        return self

    def sell(self, t: int, wallet: str, usd: str | int = 100, token: str = BONK) -> Stream:
        self.swaps.append(Swap(len(self.swaps), t, wallet, token, "sell", D(usd)))
        return self


def events_of(stream: Stream, wallets=None, params=DEFAULT_PARAMETERS) -> list[tuple]:
    """(action, kind, token, fired_at, sorted wallets) of every event, in order."""
    events = Detector(params).process(stream.swaps, wallets)
    return [(e.action, e.signal.kind, e.signal.token, e.signal.fired_at, e.signal.wallet_addresses()) for e in events]


def final_signals(stream: Stream, wallets=None, params=DEFAULT_PARAMETERS) -> list[Signal]:
    """Each signal once, in firing order, as it stands at the end (what the CLI prints)."""
    signals: dict[tuple, Signal] = {}
    for event in Detector(params).process(stream.swaps, wallets):
        signals[event.signal.key] = event.signal
    return list(signals.values())


def summary(signals: list[Signal]) -> list[tuple]:
    return [(s.kind, s.token, s.fired_at, s.wallet_addresses(), s.score) for s in signals]
