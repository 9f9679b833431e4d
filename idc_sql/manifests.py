"""Writers: a cohort result becomes a file, atomically (a temporary file, then a rename).

Formats: ``s5cmd`` (a download manifest for s5cmd and idc-index), ``csv``, ``tsv``, ``parquet``
and ``jsonl`` (the chosen columns). DuckDB does the writing for every engine's result, so a
manifest of 200,000 series costs milliseconds and no Python loop.

A manifest starts with a comment header that says how to use it, then one line per series::

    cp s3://<aws_bucket>/<crdc_series_uuid>/* <destination>

``destination`` may name result fields in braces to give each series a folder of its own,
e.g. ``data/{collection_id}/{PatientID}/{StudyInstanceUID}/{SeriesInstanceUID}/``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import string
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from . import __version__
from .errors import OutputError, UsageError

if TYPE_CHECKING:
    from .result import CohortResult, Provenance, Summary

FORMATS = ("s5cmd", "csv", "tsv", "parquet", "jsonl")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".s5cmd": "s5cmd",
    ".txt": "s5cmd",
}
#: fields a destination template may name: identifiers without spaces or slashes
TEMPLATE_FIELDS = (
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "crdc_series_uuid",
)
_UNSAFE_DESTINATION = re.compile(r"[\s\"'#\\]")


def resolve_format(path: str | None, fmt: str | None) -> str:
    """The format to write: ``fmt`` when given, else from the file's suffix, else s5cmd."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        suffix = Path(path).suffix.lower() if path not in (None, "-") else ""
        implied = _SUFFIXES.get(suffix) if suffix != ".txt" else None
        if implied is not None and implied != fmt:
            raise UsageError(
                f"{path} names a {implied} file but the format asked for is {fmt}; "
                f"name it *.{fmt}, or leave out the format"
            )
        return fmt
    if path is None or path == "-":
        return "s5cmd"
    return _SUFFIXES.get(Path(path).suffix.lower(), "s5cmd")


def check_output(path: str) -> None:
    """Refuse, before any query runs, an output that cannot be written."""
    if path == "-":
        return
    target = Path(path)
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: the folder {parent} does not exist")
    if target.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot write {path}: no permission to write in {parent}")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"cannot write {path}: the file is read-only")


def check_destination(destination: str) -> list[tuple[str, str | None]]:
    """Split a destination template into (literal, field) pieces, refusing what s5cmd misreads."""
    if not destination:
        raise UsageError("--destination must not be empty")
    if _UNSAFE_DESTINATION.search(destination):
        raise UsageError(
            f"--destination {destination!r} holds a space, quote, # or backslash, which s5cmd "
            "cannot read in a manifest line"
        )
    try:
        pieces = [(lit, name) for lit, name, _, _ in string.Formatter().parse(destination)]
    except ValueError as e:
        raise UsageError(f"--destination {destination!r}: {e}") from None
    for _, name in pieces:
        if name is not None and name not in TEMPLATE_FIELDS:
            raise UsageError(
                f"--destination names {{{name}}}; a destination may name "
                + ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS)
            )
    return pieces


def write(result: CohortResult, path: str, fmt: str | None, *, destination: str = ".") -> str:
    """Write ``result`` to ``path`` (``-`` for standard output) atomically. Returns the format."""
    fmt = resolve_format(path, fmt)
    pieces = check_destination(destination) if fmt == "s5cmd" else []
    lacking = [n for _, n in pieces if n is not None and n not in result.fields]
    if lacking:
        raise UsageError(
            f"the destination names {', '.join(lacking)}, which this result does not carry: "
            f"run the cohort with also={tuple(lacking)!r}, or add them to its columns"
        )
    check_output(path)
    if path == "-":
        return _to_stdout(result, fmt, pieces)
    target = Path(path)
    # beside the target (so the rename stays on one file system), within NAME_MAX
    tmp = target.with_name(f".{target.name[:200]}.{uuid.uuid4().hex[:12]}.part")
    try:
        _write(result, tmp, fmt, pieces, target.name)
        if target.exists():  # a replaced file keeps its permissions
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp, target)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return fmt


def _to_stdout(result: CohortResult, fmt: str, pieces: list[tuple[str, str | None]]) -> str:
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder) / f"out.{fmt}"
        _write(result, tmp, fmt, pieces, "MANIFEST")
        with tmp.open("rb") as f:
            shutil.copyfileobj(f, sys.stdout.buffer)
        sys.stdout.flush()
    return fmt


def _write(
    result: CohortResult,
    tmp: Path,
    fmt: str,
    pieces: list[tuple[str, str | None]],
    shown: str,
) -> None:
    if fmt == "s5cmd":
        _write_manifest(result, tmp, pieces, shown)
        return
    query = result.select()
    if fmt == "csv":
        _copy(result, query, tmp, csv_options(header=True))
    elif fmt == "tsv":
        _copy(result, query, tmp, csv_options(header=True, delimiter="\t"))
    elif fmt == "parquet":
        _copy(result, query, tmp, [_option("FORMAT", exp.var("parquet"))])
    else:
        _copy(result, query, tmp, [_option("FORMAT", exp.var("json"))])


def _write_manifest(
    result: CohortResult, tmp: Path, pieces: list[tuple[str, str | None]], shown: str
) -> None:
    """The header, then the lines, written without a second copy of the lines.

    The header needs the summary, which is counted on a second core while DuckDB writes the
    lines. DuckDB writes them straight into the manifest after a first line that reserves
    room for the header (the CSV header row, named by a comment of blanks wide enough for any
    summary); the header is then written over it, its last line padded with spaces to the
    same length. Copying the lines after a header would write the whole file twice (12 MB for
    the reference cohort).
    """
    room = len(_header_text(result.provenance, _largest(), shown).encode("utf-8"))
    reserve = exp.to_identifier("#" + " " * (room - 2), quoted=True)
    with ThreadPoolExecutor(1) as pool:
        summary = pool.submit(lambda: result.summary)
        _copy(
            result,
            _manifest_lines(result, pieces, alias=reserve),
            tmp,
            csv_options(header=True, quote=""),
        )
        summary.result()
    text = header(result, shown).encode("utf-8")
    if len(text) > room:  # a summary beyond _largest(): make room the slow way
        _replace_first_line(tmp, text)
        return
    reserved = b"#" + b" " * (room - 2) + b"\n"
    with tmp.open("r+b") as out:
        if out.read(room) != reserved:  # not the line asked for: make room the slow way
            out.close()
            _replace_first_line(tmp, text)
            return
        out.seek(0)
        out.write(text[:-1] + b" " * (room - len(text)) + b"\n")


def _replace_first_line(path: Path, first: bytes) -> None:
    moved = path.with_name(path.name + ".lines")
    try:
        with path.open("rb") as old, moved.open("wb") as new:
            old.readline()
            new.write(first)
            shutil.copyfileobj(old, new, 1 << 20)
        os.replace(moved, path)
    finally:
        moved.unlink(missing_ok=True)


def _manifest_lines(
    result: CohortResult, pieces: list[tuple[str, str | None]], *, alias: exp.Identifier
) -> exp.Select:
    """The cohort query yielding each series' manifest line, in a column named ``alias``."""
    parts: list[exp.Expr] = [
        exp.Literal.string("cp s3://"),
        exp.column("aws_bucket"),
        exp.Literal.string("/"),
        exp.column("crdc_series_uuid"),
        exp.Literal.string("/* "),
    ]
    for literal, name in pieces:
        if literal:
            parts.append(exp.Literal.string(literal))
        if name is not None:
            # a value with a space or a slash would break the line or the folder layout
            parts.append(
                exp.RegexpReplace(
                    this=exp.column(name),
                    expression=exp.Literal.string(r"[\s/\\]"),
                    replacement=exp.Literal.string("_"),
                    modifiers=exp.Literal.string("g"),
                )
            )
    line = exp.DPipe(this=parts[0], expression=parts[1], safe=True)
    for part in parts[2:]:
        line = exp.DPipe(this=line, expression=part, safe=True)
    return result.projected(exp.alias_(line, alias))


def csv_options(*, header: bool, delimiter: str = ",", quote: str | None = None) -> list[exp.Expr]:
    options = [
        _option("FORMAT", exp.var("csv")),
        _option("HEADER", exp.true() if header else exp.false()),
        _option("DELIMITER", exp.Literal.string(delimiter)),
    ]
    if quote is not None:
        options.append(_option("QUOTE", exp.Literal.string(quote)))
    return options


def _option(name: str, value: exp.Expr) -> exp.Expr:
    return exp.CopyParameter(this=exp.var(name), expression=value)


def _copy(result: CohortResult, query: exp.Select, path: Path, options: list[exp.Expr]) -> None:
    statement = exp.Copy(
        this=exp.Subquery(this=query),
        kind=False,
        files=[exp.Literal.string(str(path))],
        params=options,
    )
    result.execute(statement)


def header(result: CohortResult, shown: str) -> str:
    """The comment header of an s5cmd manifest: how to use it and what it holds."""
    return _header_text(result.provenance, result.summary, shown)


def _header_text(p: Provenance, s: Summary, shown: str) -> str:
    from .result import human_size

    lines = [
        f"idc-sql manifest of cohort {p.cohort}",
        "download with s5cmd (no account needed):",
        f"  s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run {shown}",
        f"or with idc-index: idc download {shown}",
        f"IDC version: {p.release} ({p.source})",
        f"spec digest: {p.digest}",
        f"series: {s.series}  studies: {s.studies}  patients: {s.patients}  "
        f"collections: {s.collections}",
        f"size: {human_size(s.size_mb)} ({s.size_mb:.3f} MB)",
        f"written by idc-sql {__version__}",
    ]
    return "".join(f"# {line}\n" for line in lines)


def _largest() -> Summary:
    """The widest summary a header is made room for: counts at BIGINT's limit, 1,000 EB."""
    from .result import Summary

    most = 2**63 - 1
    return Summary(series=most, studies=most, patients=most, collections=most, size_mb=1e15)
