"""The ``idc-sql`` command's entry point, kept apart from the command itself so that a Ctrl-C
while its modules load ends like one at any later moment: ``idc-sql: interrupted``, status
130, no traceback (the command's package imports sqlglot, which takes a while)."""

from __future__ import annotations

import os
import sys


def console() -> None:
    """Load the command and run it (see :func:`idc_sql.cli.console`)."""
    try:
        from .cli import console as command

        command()
    except KeyboardInterrupt:  # while loading, or after the command's own handler
        interrupted()


def interrupted() -> None:
    """Say so and leave with status 130, as a shell reports a process ended by SIGINT."""
    try:
        if sys.stderr is not None:
            print("idc-sql: interrupted", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    os._exit(130)
