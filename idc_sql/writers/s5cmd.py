"""s5cmd manifests: a comment header that says how to use the file, then one line per series::

    cp s3://<aws_bucket>/<crdc_series_uuid>/* <destination>

``destination`` may name result fields in braces to give each series a folder of its own,
e.g. ``data/{collection_id}/{PatientID}/{StudyInstanceUID}/{SeriesInstanceUID}/``.
s5cmd and idc-index both read these files as they are.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import string
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from .. import __version__
from ..errors import Option, UsageError
from ..summary import Summary, human_size
from .copying import copy, csv_options

if TYPE_CHECKING:
    from ..result import CohortResult, Provenance

#: what every manifest line reads besides the destination's fields
NEEDS = ("aws_bucket", "crdc_series_uuid")
#: fields a destination template may name: identifiers without spaces or slashes
TEMPLATE_FIELDS = (
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "crdc_series_uuid",
)
#: the endpoint of IDC's public buckets
S3_ENDPOINT = "https://s3.amazonaws.com"
_UNSAFE_DESTINATION = re.compile(r"[\s\"'#\\]")


def download_command(manifest: str) -> str:
    """The command that downloads the series of ``manifest`` (no account needed)."""
    return f"s5cmd --no-sign-request --endpoint-url {S3_ENDPOINT} run {shlex.quote(manifest)}"


def check_destination(destination: str) -> list[tuple[str, str | None]]:
    """Split a destination template into (literal, field) pieces, refusing what s5cmd misreads."""
    if not destination:
        raise UsageError(Option("destination"), " must not be empty")
    if _UNSAFE_DESTINATION.search(destination):
        raise UsageError(
            Option("destination", destination),
            " holds a space, quote, # or backslash, which s5cmd cannot read in a manifest line",
        )
    try:
        pieces = [(lit, name) for lit, name, _, _ in string.Formatter().parse(destination)]
    except ValueError as e:
        raise UsageError(Option("destination", destination), f": {e}") from None
    for _, name in pieces:
        if name is not None and name not in TEMPLATE_FIELDS:
            raise UsageError(
                Option("destination"),
                f" names {{{name}}}; a destination may name "
                + ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS),
            )
    return pieces


def needs(destination: str) -> tuple[str, ...]:
    """The fields a manifest with ``destination`` reads."""
    named = [n for _, n in check_destination(destination) if n is not None]
    return tuple(dict.fromkeys((*NEEDS, *named)))


def write_manifest(result: CohortResult, tmp: Path, shown: str, destination: str) -> None:
    """The header, then the lines, written without a second copy of the lines.

    The header needs the summary, which is counted on a second core while DuckDB writes the
    lines. DuckDB writes them straight into the manifest after a first line that reserves
    room for the header (the CSV header row, named by a comment of blanks wide enough for any
    summary); the header is then written over it, its last line padded with spaces to the
    same length. Copying the lines after a header would write the whole file twice (12 MB for
    the reference cohort).
    """
    pieces = check_destination(destination)
    room = len(header_text(result.provenance, largest(), shown).encode("utf-8"))
    reserve = exp.to_identifier("#" + " " * (room - 2), quoted=True)
    with ThreadPoolExecutor(1) as pool:
        summary = pool.submit(lambda: result.summary)
        copy(
            result,
            manifest_lines(result, pieces, alias=reserve),
            tmp,
            csv_options(header=True, quote=""),
        )
        summary.result()
    text = header(result, shown).encode("utf-8")
    if len(text) > room:  # a summary beyond largest(): make room the slow way
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


def manifest_lines(
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


def header(result: CohortResult, shown: str) -> str:
    """The comment header of an s5cmd manifest: how to use it and what it holds."""
    return header_text(result.provenance, result.summary, shown)


def header_text(p: Provenance, s: Summary, shown: str) -> str:
    lines = [
        f"idc-sql manifest of cohort {p.cohort}",
        "download with s5cmd (no account needed):",
        f"  {download_command(shown)}",
        f"or with idc-index: idc download {shown}",
        f"IDC version: {p.release} ({p.source})",
        f"spec digest: {p.digest}",
        f"series: {s.series}  studies: {s.studies}  patients: {s.patients}  "
        f"collections: {s.collections}",
        f"size: {human_size(s.size_mb)} ({s.size_mb:.3f} MB)",
        f"written by idc-sql {__version__}",
    ]
    return "".join(f"# {line}\n" for line in lines)


def largest() -> Summary:
    """The widest summary a header is made room for: counts at BIGINT's limit, 1,000 EB."""
    most = 2**63 - 1
    return Summary(series=most, studies=most, patients=most, collections=most, size_mb=1e15)
