"""Template filters for signal reasons, which carry times as plain seconds."""

from __future__ import annotations

from datetime import timedelta

from django import template

from aura.templatetags.numbers import duration

register = template.Library()


@register.filter
def seconds(value: object) -> str:
    """A number of seconds as `duration` writes a timedelta ("30 min"); "—" when not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return duration(None)
    return duration(timedelta(seconds=value))


@register.filter
def for_kind(scores: object, kind: str) -> object:
    """The entry of `kind` in a mapping of kind → score (None when it has none)."""
    return scores.get(kind) if isinstance(scores, dict) else None
