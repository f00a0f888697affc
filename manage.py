#!/usr/bin/env python
"""Django's command-line utility for AURA.

Configuration and connection problems end in one line on stderr that names the cause, not a
traceback: a newcomer with a typo in DATABASE_URL should read what is wrong at once.
"""

import os
import sys

# The CLI contracts (file in, JSON out) and the market simulator sign nothing, serve no page of ours and
# touch no database, so they run on a machine that has none of the serving secrets (SECRET_KEY, ALLOWED_HOSTS).
OFFLINE_COMMANDS = {"parse_swaps", "pnl", "score_signals", "render_alert", "simulate_market"}


def is_offline_command(argv: list[str]) -> bool:
    """`manage.py parse_swaps ...`, `manage.py help pnl` and the like."""
    words = argv[1:3]
    if words[:1] == ["help"]:
        words = words[1:]
    return bool(words) and words[0] in OFFLINE_COMMANDS


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aura.settings")
    if is_offline_command(sys.argv):
        os.environ["AURA_OFFLINE_COMMAND"] = "true"
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        sys.exit(f"error: configuration: {error}")
    except OperationalError as error:
        from aura.health import describe_database_error

        sys.exit(f"error: {describe_database_error(error)}")


if __name__ == "__main__":
    main()
