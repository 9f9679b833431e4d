"""Writers: a result becomes a file, atomically (a temporary file, then a rename).

Each writer is data in :data:`WRITERS`: its name, the suffixes that imply it, the fields the
rows must carry for it, and the function that writes. DuckDB does the writing for every
engine's result, so a manifest of 200,000 series costs milliseconds and no Python loop.

Manifests (``s5cmd``, ``manifest-json``) take a destination root, a layout (see
:mod:`.layout`) and a cloud (see :mod:`.safety`); every format carries the result's provenance
(see :mod:`.provenance`), jsonl in a sidecar ``<file>.json`` written atomically beside it.

>>> [w.name for w in WRITERS.values()]
['s5cmd', 'manifest-json', 'csv', 'tsv', 'parquet', 'jsonl']
>>> resolve_format("cohort.parquet", None), resolve_format(None, None)
('parquet', 's5cmd')
>>> needs("s5cmd", layout="{collection_id}/{crdc_series_uuid}")
('aws_bucket', 'crdc_series_uuid', 'collection_id')
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Option, OutputError, UsageError
from ..formats import DEFAULT_LAYOUT, DEFAULT_ROOT
from ..outputs import atomic_output, check_output, header_safe
from ..outputs.provenance import now
from . import manifest_json, s5cmd, tables
from .layout import Layout, parse_layout
from .safety import CLOUDS, DEFAULT_CLOUD, Cloud

if TYPE_CHECKING:
    from ..result import CohortResult

__all__ = [
    "CLOUDS",
    "DEFAULT_FORMAT",
    "DEFAULT_LAYOUT",
    "DEFAULT_ROOT",
    "FORMATS",
    "WRITERS",
    "Job",
    "Writer",
    "all_needs",
    "default_name",
    "needs",
    "paths_written",
    "resolve_format",
    "write",
]


@dataclass(frozen=True)
class Job:
    """One file to write: what a writer needs besides the result."""

    format: str
    #: the output's name, made safe for a header
    shown: str
    #: when the file was written (UTC), for its provenance
    written_at: str
    #: the chosen columns (a table's)
    columns: tuple[str, ...] = ()
    #: a manifest's destination root and layout, and its cloud
    layout: Layout | None = None
    cloud: Cloud | None = None
    #: the temporary path of the sidecar, when the format has one and the output is a file
    sidecar: Path | None = field(default=None, compare=False)

    def manifest(self) -> tuple[Layout, Cloud]:
        assert self.layout is not None, "not a manifest's job"
        assert self.cloud is not None, "not a manifest's job"
        return self.layout, self.cloud

    def extra(self) -> dict[str, Any]:
        """What this format adds to the provenance record."""
        if self.layout is None or self.cloud is None:
            return {"columns": list(self.columns)}
        return {
            "cloud": self.cloud.name,
            "endpoint": self.cloud.endpoint,
            "destination": self.layout.root,
            "layout": self.layout.template,
        }


#: writes a result to a temporary path
WriteFn = Callable[["CohortResult", Path, Job], None]


@dataclass(frozen=True)
class Writer:
    """One output format."""

    name: str
    description: str
    #: suffixes that imply this format when none is given (the first names a default output)
    suffixes: tuple[str, ...]
    #: the fields the rows must carry (a manifest's layout adds its own)
    fields: tuple[str, ...]
    write: WriteFn
    #: takes a destination root, a layout and a cloud
    manifest: bool = False
    #: its provenance goes to a sidecar ``<file>.json``
    sidecar: bool = False


WRITERS: dict[str, Writer] = {
    w.name: w
    for w in (
        Writer(
            "s5cmd",
            "a download manifest for s5cmd and idc-index",
            (".s5cmd", ".txt"),
            s5cmd.NEEDS,
            s5cmd.write_manifest,
            manifest=True,
        ),
        Writer(
            "manifest-json",
            "every series with its bucket, uuid, destination, instance count and size (JSON)",
            (".json",),
            manifest_json.NEEDS,
            manifest_json.write_manifest_json,
            manifest=True,
        ),
        Writer("csv", "the chosen columns, comma-separated", (".csv",), (), tables.write_csv),
        Writer("tsv", "the chosen columns, tab-separated", (".tsv",), (), tables.write_tsv),
        Writer("parquet", "the chosen columns, Parquet", (".parquet",), (), tables.write_parquet),
        Writer(
            "jsonl",
            "the chosen columns, one JSON object a line",
            (".jsonl", ".ndjson"),
            (),
            tables.write_jsonl,
            sidecar=True,
        ),
    )
}
FORMATS = tuple(WRITERS)
DEFAULT_FORMAT = "s5cmd"
#: suffixes that name a format only weakly (a manifest may be called anything.txt)
_WEAK = (".txt",)
#: a sidecar's name: the output's, and this
SIDECAR_SUFFIX = ".json"


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
                f"name it *{WRITERS[fmt].suffixes[0]}, or leave out the format"
            )
        return fmt
    implied = implied_by(path)
    return implied.name if implied is not None else DEFAULT_FORMAT


def default_name(cohort: str, fmt: str) -> str:
    """The output's name when none is given: ``<cohort><the format's first suffix>``."""
    return cohort + WRITERS[fmt].suffixes[0]


def paths_written(path: str, fmt: str) -> tuple[str, ...]:
    """Every path writing ``path`` as ``fmt`` replaces: the output, and its sidecar if any."""
    if path == "-" or not WRITERS[fmt].sidecar:
        return (path,)
    return (path, path + SIDECAR_SUFFIX)


def _options(
    fmt: str, destination: str | None, layout: str | None, cloud: str | None
) -> tuple[Layout | None, Cloud | None]:
    """A manifest's layout and cloud, checked; None for a table (which takes neither)."""
    writer = WRITERS[fmt]
    if not writer.manifest:
        given = [
            n
            for n, v in (("destination", destination), ("layout", layout), ("cloud", cloud))
            if v is not None
        ]
        if given:
            raise UsageError(
                Option(given[0]),
                f" applies to manifests (s5cmd, manifest-json); a {fmt} file lists the "
                "columns only",
            )
        return None, None
    if cloud is not None and cloud not in CLOUDS:
        raise UsageError(
            Option("cloud", cloud), f" is not a cloud; choose one of {', '.join(CLOUDS)}"
        )
    return parse_layout(layout, destination), CLOUDS[cloud or DEFAULT_CLOUD]


def needs(
    fmt: str,
    destination: str | None = None,
    layout: str | None = None,
    cloud: str | None = None,
) -> tuple[str, ...]:
    """The fields a result must carry to be written as ``fmt`` (with these options, checked)."""
    checked, _ = _options(fmt, destination, layout, cloud)
    named = checked.fields if checked is not None else ()
    return tuple(dict.fromkeys((*WRITERS[fmt].fields, *named)))


def all_needs() -> tuple[str, ...]:
    """The fields every writer together needs with its defaults (what a result of the Python
    API carries, so that any format can be written from it)."""
    return tuple(dict.fromkeys(n for fmt in WRITERS for n in needs(fmt)))


def write(
    result: CohortResult,
    path: str,
    fmt: str | None = None,
    *,
    destination: str | None = None,
    layout: str | None = None,
    cloud: str | None = None,
) -> str:
    """Write ``result`` to ``path`` (``-`` for standard output) atomically. Returns the format.

    A manifest's series go to ``destination`` (default ``.``) laid out by ``layout`` (default
    :data:`DEFAULT_LAYOUT`), read from ``cloud`` (``aws``, the default, or ``gcs``). Only a
    regular file (or a link to one) is replaced; see :mod:`idc_sql.outputs`.
    """
    fmt = resolve_format(path, fmt)
    writer = WRITERS[fmt]
    checked, where = _options(fmt, destination, layout, cloud)
    required = needs(fmt, destination, layout, cloud)
    lacking = [n for n in required if n not in result.fields]
    if lacking:
        raise UsageError(
            f"writing {fmt} needs {', '.join(lacking)}, which this result does not carry: "
            "run the cohort with ",
            Option("also", tuple(lacking)),
            ", or add them to its columns",
        )
    targets = [check_output(p) for p in paths_written(path, fmt)]
    target = targets[0]
    shown = "MANIFEST" if target.is_stdout else header_safe(Path(target.given).name)
    job = Job(fmt, shown, now(), result.columns, checked, where)
    try:
        with ExitStack() as stack:
            # the sidecar is put in place just before the file it describes
            tmp = stack.enter_context(atomic_output(target))
            if len(targets) > 1:
                job = replace(job, sidecar=stack.enter_context(atomic_output(targets[1])))
            writer.write(result, tmp, job)
    except OSError as e:
        raise OutputError(f"cannot write {target.shown}: {e.strerror or e}") from e
    return fmt
