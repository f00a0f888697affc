"""Reads of stored signals for pages and the API: newest evidence first, filtered as asked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from signals.models import Kind, KindScore, Period, Signal

FEED_SIZE = 50


@dataclass(frozen=True)
class SignalFilter:
    """What a reader asked to see: a kind ("" any), a minimum score (None: any), a token by symbol
    or mint ("" any). Nonsense is ignored, never an error: a filter is a view, not a command."""

    kind: str = ""
    min_score: int | None = None
    token: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> SignalFilter:
        kind = query.get("kind", "")
        score = query.get("min_score", "").strip()
        return cls(
            kind=kind if kind in Kind.values else "",
            min_score=min(int(score), 100) if score.isdigit() and len(score) < 4 else None,
            token=query.get("token", "").strip()[:64],
        )

    def params(self) -> dict[str, str]:
        values = {
            "kind": self.kind,
            "min_score": "" if self.min_score is None else str(self.min_score),
            "token": self.token,
        }
        return {name: value for name, value in values.items() if value}

    def apply(self, signals: QuerySet[Signal]) -> QuerySet[Signal]:
        if self.kind:
            signals = signals.filter(kind=self.kind)
        if self.min_score is not None:
            signals = signals.filter(score__gte=self.min_score)
        if self.token:
            signals = signals.filter(Q(token__mint=self.token) | Q(token__symbol__iexact=self.token))
        return signals


def signal_feed(narrowed: SignalFilter | None = None) -> QuerySet[Signal]:
    signals = Signal.objects.select_related("token").order_by("-updated_at", "-id")
    return narrowed.apply(signals) if narrowed else signals


def token_signals(token_id: int) -> QuerySet[Signal]:
    return Signal.objects.filter(token_id=token_id).select_related("token").order_by("-updated_at", "-id")


def scoreboard() -> list[tuple[str, str, list[tuple[str, str, KindScore | None]]]]:
    """[(period, label, [(kind, label, its KindScore or None)])] for every period and kind."""
    rows = {(score.period, score.kind): score for score in KindScore.objects.all()}
    return [
        (period, label, [(kind, kind_label, rows.get((period, kind))) for kind, kind_label in Kind.choices])
        for period, label in Period.choices
    ]
