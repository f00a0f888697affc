#!/usr/bin/env python
"""Django's command-line utility for AURA.

Configuration and connection problems end in one line on stderr that names the cause, not a
traceback: a newcomer with a typo in DATABASE_URL should read what is wrong at once.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aura.settings")
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
