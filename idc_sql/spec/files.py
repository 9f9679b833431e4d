r"""Files of values: ``{in_file: uids.txt}`` and ``{not_in_file: split.csv, column: PatientID}``.

A file is read by its suffix:

- ``.csv``, ``.tsv`` (or ``.tab``): a header row, then one row a line; the values are the
  column named by ``column`` (default: the field's own name). Quoting is CSV's.
- ``.parquet``: the column named by ``column`` (default: the field's name), read whole.
- ``.s5cmd``: a download manifest: ``cp s3://<bucket>/<crdc_series_uuid>/* <destination>``
  lines, whose ``crdc_series_uuid`` are the values.
- anything else: text, one value a line, surrounding spaces and tabs removed; blank lines and
  lines starting with ``#`` are left out.

Text is UTF-8 (a byte order mark is allowed). Every value must be non-empty and free of
control characters; a line that is not well formed is told by its number. Only the shape of
the file is checked here; whether its values can be what a field holds (a UID, a UUID) is
checked when the specification is planned, and told by line as well.

>>> f = parse_values("a.txt", b"# split\n1.2.3\n\n  1.2.4 \n", None, "a.txt")
>>> f.values, [f.place(i) for i in range(2)], f.kind
(('1.2.3', '1.2.4'), ['a.txt:2', 'a.txt:4'], 'text')
>>> try:
...     parse_values("a.csv", b"PatientID,split\nP1,train\nP2\n", "PatientID", "a.csv")
... except SpecError as e:
...     print(e)
a.csv:3: 1 field where the header has 2
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..errors import SpecError
from .limits import MAX_LIST, MAX_VALUES_FILE_BYTES

Kind = Literal["text", "csv", "tsv", "parquet", "manifest"]
KINDS: dict[str, Kind] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".s5cmd": "manifest",
}
#: characters no value holds: the C0 and C1 controls, DEL, and the Unicode line separators
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: the same, but for the newline and the tab, which a text file's lines are looked at for
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_MANIFEST_LINE = re.compile(
    r"cp\s+(?:--?[\w-]+(?:[= ]\S+)?\s+)*"  # s5cmd options, if any
    r"(?P<q>[\"']?)s3://[a-z0-9][a-z0-9.-]*/(?P<uuid>[^/\s\"']+)/\*(?P=q)\s+\S.*"
)


@dataclass(frozen=True)
class ValueFile:
    """The values read from one file, where each came from, and the file's digest."""

    #: the file as messages name it (the spec's folder joined with the path written)
    shown: str
    kind: Kind
    column: str | None
    values: tuple[str, ...]
    #: SHA-256 of the file's bytes (hex)
    sha256: str
    #: the line (text, csv, tsv, manifest) or row (parquet) of each value, from 1
    lines: array[int] = field(repr=False, compare=False)
    #: the file, resolved (None: read from bytes given)
    path: Path | None = field(default=None, compare=False)

    def place(self, i: int) -> str:
        """Where value ``i`` came from: ``file:line`` or ``file: row N``."""
        if self.kind == "parquet":
            return f"{self.shown}: row {self.lines[i]:,}"
        return f"{self.shown}:{self.lines[i]}"


def kind_of(path: str) -> Kind:
    return KINDS.get(Path(path).suffix.lower(), "text")


def read_values(path: Path, shown: str, column: str | None, default_column: str) -> ValueFile:
    """The values of the file at ``path`` (named ``shown`` in messages)."""
    kind = kind_of(path.name)
    if column is not None and kind not in ("csv", "tsv", "parquet"):
        raise SpecError(shown, f"column applies to .csv, .tsv and .parquet files, not to {kind}")
    try:
        size = path.stat().st_size
        if size > MAX_VALUES_FILE_BYTES:
            raise SpecError(
                shown,
                f"larger than the limit of {MAX_VALUES_FILE_BYTES // 2**20} MiB for a file of "
                "values",
            )
        if kind == "parquet":
            return _parquet(path, shown, column or default_column)
        raw = path.read_bytes()
        if len(raw) > MAX_VALUES_FILE_BYTES:  # grew since
            raise SpecError(shown, "changed while it was read")
    except FileNotFoundError:
        raise SpecError(shown, "no such file (paths are relative to the spec's folder)") from None
    except IsADirectoryError:
        raise SpecError(shown, "is a directory, not a file of values") from None
    except OSError as e:
        raise SpecError(shown, f"cannot read: {e.strerror or e}") from None
    read = parse_values(path.name, raw, column or default_column, shown)
    return replace(read, path=path.resolve())


def parse_values(name: str, raw: bytes, column: str | None, shown: str) -> ValueFile:
    """The values of a text, CSV, TSV or manifest file's bytes (``name`` gives its kind)."""
    kind = kind_of(name)
    digest = hashlib.sha256(raw).hexdigest()
    text = _decode(raw, shown)
    if kind in ("csv", "tsv"):
        assert column is not None
        values, lines = _delimited(text, shown, column, "," if kind == "csv" else "\t")
    else:
        values, lines = _lines(text, shown, kind)
    if not values:
        raise SpecError(shown, "holds no values")
    return ValueFile(shown, kind, column if kind in ("csv", "tsv") else None, values, digest, lines)


def _decode(raw: bytes, shown: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise SpecError(f"{shown}:{line}", "not UTF-8 text") from None
    return text.removeprefix("\ufeff")


def _too_many(place: str) -> SpecError:
    return SpecError(place, f"more values than the limit of {MAX_LIST:,} in one list")


def _bad(place: str, value: str, what: str) -> SpecError:
    return SpecError(place, f"{what} in {value!r}")


def _lines(text: str, shown: str, kind: Kind) -> tuple[tuple[str, ...], array[int]]:
    """One value a line (text), or the UUID of each ``cp`` line (manifest)."""
    text = text.replace("\r\n", "\n")
    bad = _CONTROL_IN_TEXT.search(text)
    if bad is not None:  # told with its line; a tab is looked for line by line below
        line = text.count("\n", 0, bad.start()) + 1
        value = text.split("\n")[line - 1]
        raise _bad(f"{shown}:{line}", value[:80], "a control character")
    if kind != "manifest":
        fast = _text_lines(text)
        if fast is not None:
            return fast
    return _checked_lines(text, shown, kind)


def _text_lines(text: str) -> tuple[tuple[str, ...], array[int]] | None:
    """The values of a text file and their lines, by whole-list steps that run in C; None when
    a line is not plain (a tab, what looks like a manifest line, one value too many), for
    :func:`_checked_lines` to find and tell the first such line, as it always has."""
    stripped = [line.strip(" \t") for line in text.split("\n")]
    lines = array("I", [n for n, v in enumerate(stripped, 1) if v and v[0] != "#"])
    values = [v for v in stripped if v and v[0] != "#"]
    if len(values) > MAX_LIST:
        return None
    if "\t" in text and any("\t" in v for v in values):
        return None
    if "cp " in text and any(v[:3] == "cp " and "s3://" in v for v in values):
        return None
    return tuple(values), lines


def _checked_lines(text: str, shown: str, kind: Kind) -> tuple[tuple[str, ...], array[int]]:
    """:func:`_lines` a line at a time, telling the first line that is not well formed."""
    tabs = "\t" in text
    values: list[str] = []
    lines = array("I")
    manifest = kind == "manifest"
    for number, line_text in enumerate(text.split("\n"), 1):
        value = line_text.strip(" \t")
        if not value or value[0] == "#":
            continue
        if manifest:
            match = _MANIFEST_LINE.fullmatch(value)
            if match is None:
                raise SpecError(
                    f"{shown}:{number}",
                    "not a manifest line (cp s3://<bucket>/<crdc_series_uuid>/* <destination>): "
                    f"{value[:80]!r}",
                )
            value = match["uuid"]
        elif tabs and "\t" in value:
            raise SpecError(
                f"{shown}:{number}",
                f"a tab in {value[:80]!r} (one value a line; a .tsv file is read by column)",
            )
        elif value[:3] == "cp " and "s3://" in value:
            raise SpecError(
                f"{shown}:{number}",
                "a manifest line in a text file (a manifest is read as one when its name ends "
                "in .s5cmd)",
            )
        if len(values) == MAX_LIST:
            raise _too_many(f"{shown}:{number}")
        values.append(value)
        lines.append(number)
    return tuple(values), lines


def _delimited(
    text: str, shown: str, column: str, delimiter: str
) -> tuple[tuple[str, ...], array[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise SpecError(shown, "holds no values (a header row is expected first)")
        index = _column_index(header, column, shown)
        values: list[str] = []
        lines = array("I")
        end = reader.line_num
        for row in reader:
            first, end = end + 1, reader.line_num
            place = f"{shown}:{first}"
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                fields = f"{len(row)} field{'s' if len(row) != 1 else ''}"
                raise SpecError(place, f"{fields} where the header has {len(header)}")
            value = row[index].strip(" \t")
            if not value:
                raise SpecError(place, f"no value in column {header[index]!r}")
            if _CONTROL.search(value):
                raise _bad(place, value[:80], "a control character")
            if len(values) == MAX_LIST:
                raise _too_many(place)
            values.append(value)
            lines.append(first)
    except csv.Error as e:
        raise SpecError(f"{shown}:{reader.line_num}", f"malformed: {e}") from None
    return tuple(values), lines


def _column_index(header: list[str], column: str, shown: str) -> int:
    names = [h.strip() for h in header]
    if column in names:
        return names.index(column)
    folded = [i for i, h in enumerate(names) if h.casefold() == column.casefold()]
    if len(folded) == 1:
        return folded[0]
    listed = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    raise SpecError(f"{shown}:1", f"no column {column!r} (columns: {listed}); name one with column")


def _parquet(path: Path, shown: str, column: str) -> ValueFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise SpecError(shown, f"cannot read as parquet: {e}") from None
    names = parquet.schema_arrow.names
    index = _column_index(names, column, shown)
    if parquet.metadata.num_rows > MAX_LIST:
        raise _too_many(shown)
    kind = parquet.schema_arrow.field(index).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise SpecError(shown, f"column {names[index]!r} holds {kind}, not text")
    values: list[Any] = parquet.read(columns=[names[index]]).column(0).to_pylist()
    for i, value in enumerate(values):
        place = f"{shown}: row {i + 1:,}"
        if value is None or not value.strip(" \t"):
            raise SpecError(place, f"no value in column {names[index]!r}")
        if _CONTROL.search(value):
            raise _bad(place, value[:80], "a control character")
    stripped = tuple(v.strip(" \t") for v in values)
    if not stripped:
        raise SpecError(shown, "holds no values")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = array("I", range(1, len(stripped) + 1))
    return ValueFile(shown, "parquet", names[index], stripped, digest, rows, path.resolve())
