"""One root error and a few subclasses, each naming the place, the operation and the engine.

The command line maps :attr:`IdcSqlError.exit_code` to its exit status: 2 for anything the user
can fix in the command or the specification, 1 for failures while running.

A message may name an option the caller can change. The library speaks of its parameters
(``max_gb=2100``, ``engine="bigquery"``); the command line renders the same error with its flags
(``--max-gb 2100``, ``--engine bigquery``). Such a message is built from text and
:class:`Option` pieces, so that user values in the text are never reinterpreted:

>>> e = UsageError("raise the cap with ", Option("max_gb", 2100), " if you mean it")
>>> str(e)
'raise the cap with max_gb=2100 if you mean it'
>>> e.render(lambda o: f"--{o.name.replace('_', '-')} {o.value}")
'raise the cap with --max-gb 2100 if you mean it'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    """An option named in a message: a library parameter (and its value, if one is meant)."""

    name: str
    value: Any = None

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value!r}"


Piece = str | Option
Spelling = Callable[[Option], str]


def render(pieces: tuple[Piece, ...], spell: Spelling | None = None) -> str:
    """The text of ``pieces``, options spelt by ``spell`` (default: as library parameters)."""
    return "".join(
        p if isinstance(p, str) else (spell(p) if spell is not None else str(p)) for p in pieces
    )


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    r"""``text`` with every character that is not printable shown as an escape (as ``repr`` does).

    >>> printable("a\tb\x00c\u2028d é")
    'a\\tb\\x00c\\u2028d é'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(c: str) -> str:
    code = ord(c)
    if c in _ESCAPES:
        return _ESCAPES[c]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


#: a place longer than this many parts (keys and [indexes]) is shortened in the middle
_LONGEST_PLACE = 12
_PART = re.compile(r"\[\d+\]|[^.\[]+")


def _short(location: str) -> str:
    """``location`` with the middle of a long path left out: never hundreds of words."""
    origin, sep, path = location.rpartition(": ")
    spans = [m.span() for m in _PART.finditer(path)]
    if len(spans) <= _LONGEST_PLACE:
        return location
    head, tail = spans[4][1], spans[-3][0]
    omitted = len(spans) - 8
    return f"{origin}{sep}{path[:head]}…({omitted} more)…{path[tail:].removeprefix('.')}"


class IdcSqlError(Exception):
    """Root of every error idc-sql raises on purpose."""

    exit_code = 1

    def __init__(self, *pieces: Piece) -> None:
        self.pieces: tuple[Piece, ...] = pieces
        super().__init__(render(pieces))

    def render(self, spell: Spelling | None = None) -> str:
        """The message, with the options it names spelt by ``spell``."""
        return render(self.pieces, spell)


class UsageError(IdcSqlError):
    """A command-line argument or API argument is wrong."""

    exit_code = 2


class SpecError(IdcSqlError):
    r"""A cohort specification is malformed or means nothing.

    ``location`` names the place: the file and the path inside the specification,
    e.g. ``cohort.yaml: where.all[2].SliceThickness.lte``. A long path is shortened in the
    middle, and characters that are not printable are shown escaped, in the place and the message:

    >>> print(SpecError("c.yaml: where" + ".not" * 70, "nested too deep"))
    c.yaml: where.not.not.not.not…(63 more)…not.not.not: nested too deep
    >>> print(SpecError("where.Moda\nlity\u2028", "unknown field 'Moda\x00'"))
    where.Moda\nlity\u2028: unknown field 'Moda\x00'
    """

    exit_code = 2

    def __init__(self, location: str, *message: Piece) -> None:
        location = _short(printable(location))
        message = tuple(printable(p) if isinstance(p, str) else p for p in message)
        self.location = location
        self.message = render(message)
        super().__init__(*((location, ": ", *message) if location else message))


class UnsupportedError(SpecError):
    """The spec is valid but the engine cannot answer it; the message names one that can."""


class UnknownFieldError(SpecError):
    """A field neither the catalog nor (when it was read) the live dicom_all schema knows."""

    def __init__(self, location: str, message: str, name: str, schema_checked: bool) -> None:
        super().__init__(location, message)
        self.name = name
        self.schema_checked = schema_checked


#: the problems of a specification listed at most; the others are counted
MAX_PROBLEMS = 20


class SpecProblems(SpecError):
    r"""Several problems of one specification, each a :class:`SpecError`, told one a line.

    ``location`` and ``message`` are the first problem's; ``problems`` lists them (at most
    :data:`MAX_PROBLEMS`; ``more`` counts the others):

    >>> e = several([SpecError("x.yaml: limit", "must be > 0"), SpecError("x.yaml: name", "bad")])
    >>> print(e)
    x.yaml: limit: must be > 0
    x.yaml: name: bad
    >>> several([SpecError(f"where.a{i}", "bad") for i in range(22)]).render().splitlines()[-1]
    'and 2 more problems'
    """

    def __init__(self, problems: tuple[SpecError, ...], more: int = 0) -> None:
        first = problems[0]
        SpecError.__init__(self, first.location, first.message)
        self.problems = problems
        self.more = more
        self.args = (self.render(),)

    def render(self, spell: Spelling | None = None) -> str:
        lines = [p.render(spell) for p in self.problems]
        if self.more:
            lines.append(f"and {self.more:,} more problem{'s' if self.more > 1 else ''}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class UnknownFieldProblems(SpecProblems, UnknownFieldError):
    """Several problems, a field nobody knows among them (a caller may look it up elsewhere)."""

    def __init__(self, problems: tuple[SpecError, ...], more: int = 0) -> None:
        super().__init__(problems, more)
        unknown = next(p for p in problems if isinstance(p, UnknownFieldError))
        self.name = unknown.name
        self.schema_checked = unknown.schema_checked


def several(problems: list[SpecError]) -> SpecError:
    """One error telling ``problems`` (the first :data:`MAX_PROBLEMS`, in order, each once):
    the problem itself when there is one."""
    distinct = list({(p.location, p.render()): p for p in problems}.values())
    if len(distinct) == 1:
        return distinct[0]
    shown = tuple(distinct[:MAX_PROBLEMS])
    more = len(distinct) - len(shown)
    if any(isinstance(p, UnknownFieldError) for p in shown):
        return UnknownFieldProblems(shown, more)
    return SpecProblems(shown, more)


class LicenseError(SpecError):
    """A cohort holds series under a license its specification's ``licenses`` does not allow.

    Exit status 2, as for the cost guard's refusal: nothing was written, and the specification
    (its ``where`` or its ``licenses``) decides.
    """

    def __init__(self, location: str, *message: Piece, found: Any = None) -> None:
        super().__init__(location, *message)
        #: each license refused: (license or None, series, collections)
        self.found = found


class EngineError(IdcSqlError):
    """An engine failed while running a query."""


class CostError(EngineError):
    """A query was refused by the cost guard (exit status 2: the user decides)."""

    exit_code = 2


class DownloadError(IdcSqlError):
    """A download could not run to its end (an endpoint that cannot be reached or went
    silent); what arrived is kept."""


class IncompleteDownload(DownloadError):
    """A download ended, but what is on disk is not every file of every series."""

    def __init__(self, *pieces: Piece, report: Any = None) -> None:
        super().__init__(*pieces)
        #: the download's report (:class:`idc_sql.downloads.Report`): what is where, what lacks
        self.report = report


class StateError(IdcSqlError):
    """A refresh state cannot be used: a file of it is missing or damaged, or the file system
    offers no locks."""


class BusyError(StateError):
    """Another process held a lock (a refresh of the same state) longer than the caller waits.

    Exit status 75 (EX_TEMPFAIL of sysexits.h): nothing was done; try again later.
    """

    exit_code = 75


class OutputError(IdcSqlError):
    """A result could not be written."""


class StdoutError(OutputError):
    """Standard output cannot be written: it is closed, or its device failed or is full."""

    exit_code = 1


class BrokenPipe(OutputError):
    """The reader of standard output went away (``| head``): stop quietly, as Unix tools do."""

    exit_code = 141


def interrupted(error: BaseException) -> bool:
    """Whether ``error`` is, or was caused by, a Ctrl-C: DuckDB turns one that arrives while a
    query runs into ``RuntimeError('Query interrupted')`` or its ``InterruptException``.

    >>> interrupted(RuntimeError("Query interrupted")), interrupted(RuntimeError("other"))
    (True, False)
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt):
            return True
        if type(current).__name__ == "InterruptException":  # duckdb's
            return True
        if type(current) is RuntimeError and str(current) == "Query interrupted":
            return True
        current = current.__cause__ or current.__context__
    return False


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived while an output was written; its exit status is 128 + signum."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(self.exit_code)
