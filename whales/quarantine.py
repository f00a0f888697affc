"""What cannot be stored is kept aside, raw, with the reason (`Quarantined`), for a person to look at."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import DataError, IntegrityError, connection
from django.utils import timezone

from whales.models import Quarantined
from whales.sanitise import clean_text, raw_text

logger = logging.getLogger(__name__)


# What the database refusing one transaction's rows looks like (as opposed to the database being
# unavailable, OperationalError, which fails the whole call so that it is retried).
DATA_ERRORS = (DataError, IntegrityError, ValueError, ArithmeticError)


def quarantine(kind: str, items: Iterable[tuple[str, Any, str]], via: str) -> None:
    """Keep (key, what arrived, why) aside as `Quarantined` rows of `kind`; something quarantined
    before is counted again (`times_seen`) with its latest reason."""
    now = timezone.now()
    table = connection.ops.quote_name(Quarantined._meta.db_table)
    with connection.cursor() as cursor:
        for key, raw, why in items:
            logger.warning("quarantined %s %s (%s): %s", kind, key, via, why)
            cursor.execute(
                f"INSERT INTO {table} (kind, key, arrived_via, reason, raw, first_seen_at, last_seen_at, times_seen)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, 1)"
                " ON CONFLICT (kind, key) DO UPDATE SET arrived_via = EXCLUDED.arrived_via,"
                f" reason = EXCLUDED.reason, raw = EXCLUDED.raw, last_seen_at = EXCLUDED.last_seen_at,"
                f" times_seen = {table}.times_seen + 1",
                [kind, clean_text(key)[:200], via[:20], clean_text(why), raw_text(raw), now, now],
            )


def error_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:500]
