"""The signal fragments pages render first and pushes send later: one template, stable ids.

A signal's row is `signals/_signal.html` (id `signal-<id>`). A push carries every changed row twice
over: out-of-band by id (a row the page shows is replaced in place) and inside `#signal-feed`'s
`afterbegin` (a new one goes on top; the page drops a copy of a row it already shows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import CharField
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from aura import realtime, stream
from aura.prepared import Bind, Prepared
from signals.models import KindScore, Period, Signal

QUOTED_PERIOD = Period.MONTH


_SCORES_OF_PERIOD = Prepared(lambda: KindScore.objects.filter(period=Bind("period", CharField())))


def scores_by_kind(period: str = QUOTED_PERIOD) -> dict[str, KindScore]:
    """How each kind did over `period`, to quote beside its signals ("right 41 % of 212 times in 30 d")."""
    return {score.kind: score for score in _SCORES_OF_PERIOD.rows(period=period)}


def signal_row(signal: Signal, scores: dict[str, KindScore], oob: bool = False) -> str:
    return render_to_string(
        "signals/_signal.html", {"signal": signal, "kind_score": scores.get(signal.kind), "oob": oob}
    )


def signal_push(signals: Sequence[Signal], scores: dict[str, KindScore]) -> str:
    """Newest first: replace the rows a page shows, and put new ones on top of its #signal-feed."""
    replaced = "".join(signal_row(signal, scores, oob=True) for signal in signals)
    rows = "".join(signal_row(signal, scores) for signal in signals)
    return render_to_string("signals/_signal_push.html", {"replaced": mark_safe(replaced), "rows": mark_safe(rows)})


def push_signals(signal_ids: Iterable[int]) -> list[int]:
    """Send these signals to the live signal feed and to their tokens' pages, and publish them as events
    for the API's socket; returns the events' sequence numbers."""
    signals = list(
        Signal.objects.filter(id__in=list(signal_ids)).select_related("token").order_by("-updated_at", "-id")
    )
    if not signals:
        return []
    scores = scores_by_kind()
    by_token: dict[str, list[Signal]] = {}
    for signal in signals:
        by_token.setdefault(signal.token.mint, []).append(signal)
    messages = [(realtime.FEED_SIGNALS, signal_push(signals, scores))]
    messages += [(realtime.token_group(mint), signal_push(group, scores)) for mint, group in by_token.items()]
    realtime.send_many(messages)
    return stream.publish(signal_events(signals))


def signal_data(signal: Signal) -> dict:
    """A signal in few keys for the API's socket: its reasons come with `GET /api/v1/signals/{id}/`."""
    return {
        "id": signal.id,
        "kind": signal.kind,
        "mint": signal.token.mint,
        "symbol": signal.token.symbol,
        "side": signal.side or None,
        "score": signal.score,
        "wallets": signal.wallet_count,
        "fired_at": signal.fired_at.isoformat().replace("+00:00", "Z"),
        "updated_at": signal.updated_at.isoformat().replace("+00:00", "Z"),
    }


def signal_events(signals: Sequence[Signal]) -> list[stream.Event]:
    """An event per new or changed signal, oldest change first, for the signal feed and its token's page."""
    ordered = sorted(signals, key=lambda signal: (signal.updated_at, signal.id))
    return [
        stream.Event(
            kind="signal",
            data=signal_data(signal),
            groups=[realtime.FEED_SIGNALS, realtime.token_group(signal.token.mint)],
        )
        for signal in ordered
    ]
