"""Writers: a result becomes a file, atomically (a temporary file, then a rename).

Each writer is data in :data:`WRITERS`: its name, the suffixes that imply it, the fields the
rows must carry for it, and the function that writes. DuckDB does the writing for every
engine's result, so a manifest of 200,000 series costs milliseconds and no Python loop.

>>> [w.name for w in WRITERS.values()]
['s5cmd', 'csv', 'tsv', 'parquet', 'jsonl']
>>> resolve_format("cohort.parquet", None), resolve_format(None, None)
('parquet', 's5cmd')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Option, OutputError, UsageError
from ..outputs import atomic_output, check_output, header_safe
from . import s5cmd, tables

if TYPE_CHECKING:
    from ..result import CohortResult

#: writes a result to a temporary path; ``shown`` is the output's name as a user gave it
WriteFn = Callable[["CohortResult", Path, str, str], None]


@dataclass(frozen=True)
class Writer:
    """One output format."""

    name: str
    description: str
    #: suffixes that imply this format when none is given
    suffixes: tuple[str, ...]
    #: the fields the rows must carry, given the destination template
    needs: Callable[[str], tuple[str, ...]]
    write: WriteFn
    #: takes a destination template
    destination: bool = False


def _none(destination: str) -> tuple[str, ...]:
    return ()


WRITERS: dict[str, Writer] = {
    w.name: w
    for w in (
        Writer(
            "s5cmd",
            "a download manifest for s5cmd and idc-index",
            (".s5cmd", ".txt"),
            s5cmd.needs,
            s5cmd.write_manifest,
            destination=True,
        ),
        Writer("csv", "the chosen columns, comma-separated", (".csv",), _none, tables.write_csv),
        Writer("tsv", "the chosen columns, tab-separated", (".tsv",), _none, tables.write_tsv),
        Writer(
            "parquet", "the chosen columns, Parquet", (".parquet",), _none, tables.write_parquet
        ),
        Writer(
            "jsonl",
            "the chosen columns, one JSON object a line",
            (".jsonl", ".ndjson"),
            _none,
            tables.write_jsonl,
        ),
    )
}
FORMATS = tuple(WRITERS)
DEFAULT_FORMAT = "s5cmd"
DEFAULT_DESTINATION = "."
#: suffixes that name a format only weakly (a manifest may be called anything.txt)
_WEAK = (".txt",)


def implied_by(path: str | None) -> Writer | None:
    """The writer a file name's suffix implies, if any."""
    if path in (None, "-"):
        return None
    suffix = Path(path).suffix.lower()
    return next((w for w in WRITERS.values() if suffix in w.suffixes), None)


def resolve_format(path: str | None, fmt: str | None) -> str:
    """The format to write: ``fmt`` when given, else from the file's suffix, else s5cmd."""
    if fmt is not None:
        if fmt not in WRITERS:
            raise UsageError(
                Option("format", fmt), f" is not a format; choose one of {', '.join(FORMATS)}"
            )
        implied = implied_by(path)
        if (
            implied is not None
            and implied.name != fmt
            and Path(str(path)).suffix.lower() not in _WEAK
        ):
            raise UsageError(
                f"{path} names a {implied.name} file but the format asked for is {fmt}; "
                f"name it *.{fmt}, or leave out the format"
            )
        return fmt
    implied = implied_by(path)
    return implied.name if implied is not None else DEFAULT_FORMAT


def needs(fmt: str, destination: str | None = None) -> tuple[str, ...]:
    """The fields a result must carry to be written as ``fmt`` (with ``destination``)."""
    writer = WRITERS[fmt]
    if destination is not None and not writer.destination:
        raise UsageError(
            Option("destination"),
            f" applies to s5cmd manifests; a {fmt} file lists the columns only",
        )
    return writer.needs(destination or DEFAULT_DESTINATION)


def all_needs() -> tuple[str, ...]:
    """The fields every writer together needs (what a result of the Python API carries)."""
    return tuple(dict.fromkeys(n for w in WRITERS.values() for n in w.needs(DEFAULT_DESTINATION)))


def write(
    result: CohortResult, path: str, fmt: str | None = None, *, destination: str | None = None
) -> str:
    """Write ``result`` to ``path`` (``-`` for standard output) atomically. Returns the format.

    Only a regular file (or a link to one) is replaced; see :mod:`idc_sql.outputs`.
    """
    fmt = resolve_format(path, fmt)
    writer = WRITERS[fmt]
    if destination is None or not writer.destination:
        destination = DEFAULT_DESTINATION if writer.destination else ""
    lacking = [n for n in writer.needs(destination or ".") if n not in result.fields]
    if lacking:
        raise UsageError(
            f"writing {fmt} needs {', '.join(lacking)}, which this result does not carry: "
            "run the cohort with ",
            Option("also", tuple(lacking)),
            ", or add them to its columns",
        )
    target = check_output(path)
    shown = "MANIFEST" if target.is_stdout else header_safe(Path(target.given).name)
    try:
        with atomic_output(target) as tmp:
            writer.write(result, tmp, shown, destination)
    except OSError as e:
        raise OutputError(f"cannot write {target.shown}: {e.strerror or e}") from e
    return fmt
