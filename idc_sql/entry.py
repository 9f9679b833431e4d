"""The ``idc-sql`` command's entry point, kept apart from the command itself so that a Ctrl-C
while its modules load ends like one at any later moment: ``idc-sql: interrupted``, status
130, no traceback (the command's package imports sqlglot, which takes a while)."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def console() -> None:
    """Load the command and run it (see :func:`idc_sql.cli.console`).

    A Ctrl-C is noted as it arrives, and then raised as Python does: an extension module that
    is loading when it arrives may turn it into an error of its own (pydantic-core's Rust
    start-up gives a ``PanicException``, which is no ``Exception``), and any failure after a
    Ctrl-C is the interruption."""
    seen: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        raise KeyboardInterrupt

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when ignored
        signal.signal(signal.SIGINT, note)
    try:
        # pydantic-core (Rust) imports datetime's C API as it loads, and a Ctrl-C that lands
        # inside that import makes it panic, with a message on standard error that nothing can
        # take back; decimal's C module warns when it is imported again after a Ctrl-C cut its
        # first import short. Loaded here first, under the handler, a Ctrl-C while they load
        # ends the command at once. The command's libraries load both anyway.
        import datetime  # noqa: F401
        import decimal  # noqa: F401

        from .outputs.stdout import leave
        from .templates.rerun import replay

        code = replay(sys.argv[1:])  # a template compiled before: run without compiling
        if code is not None:
            leave(code)

        from .cli import console as command

        command()
    except KeyboardInterrupt:  # while loading, or after the command's own handler
        interrupted()
    except SystemExit:
        raise
    except BaseException:
        if seen:
            interrupted()
        raise


def interrupted() -> None:
    """Say so and leave with status 130, as a shell reports a process ended by SIGINT."""
    try:
        if sys.stderr is not None:
            print("idc-sql: interrupted", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    os._exit(130)
