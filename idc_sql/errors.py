"""One root error and a few subclasses, each naming the place, the operation and the engine.

The command line maps :attr:`IdcSqlError.exit_code` to its exit status: 2 for anything the user
can fix in the command or the specification, 1 for failures while running.
"""

from __future__ import annotations


class IdcSqlError(Exception):
    """Root of every error idc-sql raises on purpose."""

    exit_code = 1


class UsageError(IdcSqlError):
    """A command-line argument or API argument is wrong."""

    exit_code = 2


class SpecError(IdcSqlError):
    """A cohort specification is malformed or means nothing.

    ``location`` names the place: the file and the path inside the specification,
    e.g. ``cohort.yaml: where.all[2].SliceThickness.lte``.
    """

    exit_code = 2

    def __init__(self, location: str, message: str) -> None:
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}" if location else message)


class UnsupportedError(SpecError):
    """The spec is valid but the engine cannot answer it; the message names one that can."""


class EngineError(IdcSqlError):
    """An engine failed while running a query."""


class OutputError(IdcSqlError):
    """A result could not be written."""
