"""A table's rows in one call (whales.rows): `{% swap_rows swaps %}`, `{% leaderboard_rows rows %}`, ..."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString, mark_safe

from whales import rows as rendered
from whales.models import Swap, WalletStats

register = template.Library()


@register.simple_tag
def swap_rows(swaps: Iterable[Swap]) -> SafeString:
    return mark_safe(rendered.swap_rows(swaps))  # escaped value by value in whales.rows


@register.simple_tag(takes_context=True)
def leaderboard_rows(context: template.Context, rows: Iterable[WalletStats]) -> SafeString:
    token = str(context.get("csrf_token") or "")
    return mark_safe(rendered.leaderboard_rows(rows, csrf_token="" if token == "NOTPROVIDED" else token))


@register.simple_tag
def position_rows(positions: Iterable[object], waiting: Iterable[object]) -> SafeString:
    return mark_safe(rendered.position_rows(positions, waiting))


@register.simple_tag
def cycle_rows(cycles: Iterable[object]) -> SafeString:
    return mark_safe(rendered.cycle_rows(cycles))


@register.simple_tag
def holder_rows(positions: Iterable[object], holding: bool = True) -> SafeString:
    return mark_safe(rendered.holder_rows(positions, holding=holding))
