"""The signal fragments pages render first and pushes send later: one template, stable ids.

A signal's row is `signals/_signal.html` (id `signal-<id>`). A push carries every changed row twice
over: out-of-band by id (a row the page shows is replaced in place) and inside `#signal-feed`'s
`afterbegin` (a new one goes on top; the page drops a copy of a row it already shows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from aura import realtime
from signals.models import KindScore, Period, Signal

QUOTED_PERIOD = Period.MONTH


def scores_by_kind(period: str = QUOTED_PERIOD) -> dict[str, KindScore]:
    """How each kind did over `period`, to quote beside its signals ("right 41 % of 212 times in 30 d")."""
    return {score.kind: score for score in KindScore.objects.filter(period=period)}


def signal_row(signal: Signal, scores: dict[str, KindScore], oob: bool = False) -> str:
    return render_to_string(
        "signals/_signal.html", {"signal": signal, "kind_score": scores.get(signal.kind), "oob": oob}
    )


def signal_push(signals: Sequence[Signal], scores: dict[str, KindScore]) -> str:
    """Newest first: replace the rows a page shows, and put new ones on top of its #signal-feed."""
    replaced = "".join(signal_row(signal, scores, oob=True) for signal in signals)
    rows = "".join(signal_row(signal, scores) for signal in signals)
    return render_to_string("signals/_signal_push.html", {"replaced": mark_safe(replaced), "rows": mark_safe(rows)})


def push_signals(signal_ids: Iterable[int]) -> None:
    """Send these signals to the live signal feed and to their tokens' pages."""
    signals = list(
        Signal.objects.filter(id__in=list(signal_ids)).select_related("token").order_by("-updated_at", "-id")
    )
    if not signals:
        return
    scores = scores_by_kind()
    by_token: dict[str, list[Signal]] = {}
    for signal in signals:
        by_token.setdefault(signal.token.mint, []).append(signal)
    messages = [(realtime.FEED_SIGNALS, signal_push(signals, scores))]
    messages += [(realtime.token_group(mint), signal_push(group, scores)) for mint, group in by_token.items()]
    realtime.send_many(messages)
