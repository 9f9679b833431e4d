"""What every written file says about itself: one provenance record, carried by every format.

The record (:func:`record`) is a JSON object: ``tool`` (``idc-sql``), ``version`` (the tool's),
``format``, ``written_at`` (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), ``cohort``, ``idc_version``
(``v25``; ``current`` when BigQuery's ``idc_current`` could not be resolved), ``engine``,
``source`` (what the rows were read from), ``digest`` (of the specification), the counts
``series``, ``studies``, ``patients``, ``collections``, the total size as ``size_bytes`` and
``size_mb``; a table adds its ``columns``, a manifest its ``cloud``, ``endpoint``,
``destination`` (the root) and ``layout``. Where each format keeps it:

- s5cmd manifests, csv and tsv: a comment header, ``#`` lines before anything else, read by
  people (:func:`summary_lines`) and, on its ``# provenance:`` line, by programs: the record as
  one line of JSON (every non-ASCII or control character escaped, so it cannot break the line);
- parquet: the file's key-value metadata, under the key ``idc_sql``, as JSON;
- jsonl: a sidecar file beside it, ``<file>.json`` (none when written to standard output);
- manifest-json: the document's ``provenance`` member.

>>> line = provenance_line({"cohort": "x\\u2028y", "series": 2})
>>> line, len(line.splitlines())
('provenance: {"cohort": "x\\\\u2028y", "series": 2}', 1)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..summary import Summary, human_size
from .target import header_safe

if TYPE_CHECKING:
    from ..release import Release

#: the key of parquet's key-value metadata that holds the record
PARQUET_KEY = "idc_sql"
#: how the header's machine-readable line begins (after ``# ``)
PROVENANCE_PREFIX = "provenance: "


@dataclass(frozen=True)
class Provenance:
    """What produced a result: enough to reproduce it. Built once, by the pipeline."""

    cohort: str
    engine: str
    #: the release read, settled by the engine (``idc_current`` resolved when it could be)
    settled: Release
    source: str
    digest: str
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    #: the bytes the engine estimated it would process (None: it bills nothing)
    estimate_bytes: int | None = None
    #: the values a template ran with, every parameter's (None: a cohort, whose specification
    #: holds its values and is what the digest is of)
    arguments: dict[str, Any] | None = None

    @property
    def release(self) -> str:
        """``v25``; ``current`` when ``idc_current`` could not be resolved."""
        return self.settled.label

    @property
    def idc_version(self) -> int | str:
        """What the specification asked for: a release number or ``current``."""
        return self.settled.requested


def now() -> str:
    """The current time, UTC, to the second: ``2025-06-01T12:00:00Z``."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def counted(result: Any) -> Summary | int:
    """What a header counts: the summary of a result of series, else its number of rows (a
    template's rows need not be series)."""
    if getattr(result, "is_series", True):
        summary: Summary = result.summary
        return summary
    return int(result.row_count)


def record(
    p: Provenance, s: Summary | int, fmt: str, written_at: str, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The provenance record of a file of format ``fmt`` (``extra``: what the format adds)."""
    given = {} if p.arguments is None else {"params": jsonable(p.arguments)}
    counts: dict[str, Any] = (
        {"rows": s}
        if isinstance(s, int)
        else {
            "series": s.series,
            "studies": s.studies,
            "patients": s.patients,
            "collections": s.collections,
            "size_bytes": round(s.size_mb * 1e6),
            "size_mb": round(s.size_mb, 6),
        }
    )
    return {
        "tool": "idc-sql",
        "version": __version__,
        "format": fmt,
        "written_at": written_at,
        "cohort": p.cohort,
        "idc_version": p.release,
        "engine": p.engine,
        "source": p.source,
        "digest": p.digest,
        **given,
        **counts,
        **extra,
    }


def jsonable(value: Any) -> Any:
    """A parameter's value as JSON holds it: dates and times in ISO 8601, NUMERIC as text (no
    digit lost to a float), bytes as text (invalid UTF-8 replaced), arrays as lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_json(value: Mapping[str, Any], *, indent: int | None = None) -> str:
    """JSON with every non-ASCII and control character escaped (one line without ``indent``)."""
    return json.dumps(value, ensure_ascii=True, indent=indent)


def provenance_line(rec: Mapping[str, Any]) -> str:
    """The header line programs read: ``provenance: {...}``."""
    return PROVENANCE_PREFIX + to_json(rec)


def summary_lines(p: Provenance, s: Summary | int) -> list[str]:
    """What a header tells people: the release, the digest, the counts and the size."""
    given = [f"parameters: {to_json(jsonable(p.arguments))}"] if p.arguments else []
    if isinstance(s, int):
        return [
            f"IDC version: {header_safe(p.release)} ({header_safe(p.source)})",
            f"digest: {header_safe(p.digest)}",
            *given,
            f"rows: {s}",
        ]
    return [
        f"IDC version: {header_safe(p.release)} ({header_safe(p.source)})",
        f"{'digest' if p.arguments is not None else 'spec digest'}: {header_safe(p.digest)}",
        *given,
        f"series: {s.series}  studies: {s.studies}  patients: {s.patients}  "
        f"collections: {s.collections}",
        f"size: {human_size(s.size_mb)} ({s.size_mb:.3f} MB)",
    ]


def written_line(written_at: str) -> str:
    return f"written by idc-sql {__version__} at {written_at}"


def comment_header(
    p: Provenance, s: Summary | int, fmt: str, written_at: str, extra: Mapping[str, Any]
) -> str:
    """The comment header of a csv or tsv file (``extra``: what the format adds)."""
    lines = [
        *summary_lines(p, s),
        provenance_line(record(p, s, fmt, written_at, extra)),
        written_line(written_at),
    ]
    first = (
        f"idc-sql {fmt}, {len(lines) + 1} comment lines, then a header row and "
        f"{'the rows' if isinstance(s, int) else 'a row per series'}: "
        f"cohort {header_safe(p.cohort)}"
    )
    return comment([first, *lines])


def comment(lines: list[str]) -> str:
    """``lines`` as a comment header: each begins with ``# ``; none can hold a line break."""
    for line in lines:
        assert len(line.splitlines()) <= 1, line  # every value in them is escaped
    return "".join(f"# {line}\n" for line in lines)


def read_header(text: str) -> dict[str, Any]:
    """The record of a comment header (the inverse of :func:`provenance_line`)."""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if body.startswith(PROVENANCE_PREFIX):
            found: dict[str, Any] = json.loads(body[len(PROVENANCE_PREFIX) :])
            return found
    raise ValueError("no provenance line in the header")
