"""s5cmd manifests: a comment header that says how to use the file, then one line per series::

    cp s3://<bucket>/<crdc_series_uuid>/* <destination>

``<destination>`` is the series' folder under the destination root, ending in ``/`` (see
:mod:`.layout`); ``<bucket>`` is ``aws_bucket``, or its GCS mirror for ``cloud="gcs"`` (see
:mod:`.safety`). Every line has exactly this form: the bucket and uuid are checked, the
destination holds only ``A-Z a-z 0-9 . _ - /``, so a line has four words, no quote, no ``#``
and no line break. s5cmd and idc-index both read these files as they are.

The header, every line beginning with ``# ``, in this order (programs should read the
``provenance`` line, the others are for people and may change)::

    # idc-sql manifest of cohort <name>
    # download with s5cmd (no account needed):
    #   s5cmd --no-sign-request --endpoint-url <endpoint> run <file>
    # or with idc-index: idc download <file>          (AWS only)
    # IDC version: <v25> (<source>)
    # spec digest: <digest>
    # series: <n>  studies: <n>  patients: <n>  collections: <n>
    # size: <1.23 GB> (<1234.567> MB)
    # destination: <root>/<layout>/
    # provenance: <the record as one line of JSON, see provenance.py>
    # written by idc-sql <version> at <YYYY-MM-DDTHH:MM:SSZ>

The last line is padded with spaces to the room reserved for the header (see
:func:`write_manifest`). Names in the header (the output's own, the cohort's, the source) have
every character that could break a line escaped.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from ..outputs import header_safe
from ..outputs.provenance import comment, provenance_line, record, summary_lines, written_line
from ..summary import Summary
from .copying import concurrently, copy, csv_options
from .layout import Layout, check_collisions, concat
from .safety import CLOUDS, Cloud, bucket_of, guarded, naming_offenders

if TYPE_CHECKING:
    from ..result import CohortResult, Provenance
    from . import Job

#: what every manifest line reads besides the layout's fields
NEEDS = ("aws_bucket", "crdc_series_uuid")
#: the endpoint of IDC's public buckets on AWS
S3_ENDPOINT = CLOUDS["aws"].endpoint


def download_command(manifest: str, cloud: Cloud = CLOUDS["aws"]) -> str:
    """The command that downloads the series of ``manifest`` (no account needed)."""
    return f"s5cmd --no-sign-request --endpoint-url {cloud.endpoint} run {shlex.quote(manifest)}"


def write_manifest(result: CohortResult, tmp: Path, job: Job) -> None:
    """The header, then the lines, written without a second copy of the lines.

    The header needs the summary, which is counted on a second core while DuckDB writes the
    lines (as is, for a layout that is not unique by construction, the check that no two series
    share a folder). DuckDB writes them straight into the manifest after a first line that
    reserves room for the header (the CSV header row, named by a comment of blanks wide enough
    for any summary); the header is then written over it, its last line padded with spaces to
    the same length. Copying the lines after a header would write the whole file twice (12 MB
    for the reference cohort).
    """
    layout, cloud = job.manifest()
    room = len(header_text(result.provenance, largest(), job).encode("utf-8"))
    reserve = exp.to_identifier("#" + " " * (room - 2), quoted=True)
    with concurrently() as pool:
        summary = pool.submit(lambda: result.summary)
        clashes = pool.submit(check_collisions, result, layout)
        with naming_offenders(result, cloud):
            copy(
                result,
                manifest_lines(result, layout, cloud, alias=reserve),
                tmp,
                csv_options(header=True, quote=""),
            )
        summary.result()
        clashes.result()
    text = header(result, job).encode("utf-8")
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
    result: CohortResult, layout: Layout, cloud: Cloud, *, alias: exp.Identifier
) -> exp.Select:
    """The cohort query yielding each series' manifest line, in a column named ``alias``.

    A series whose bucket or uuid has another shape stops the query (see :mod:`.safety`).
    """
    line = concat(
        [
            "cp s3://",
            bucket_of(cloud),
            "/",
            exp.column("crdc_series_uuid"),
            "/* ",
            layout.destination(),
        ]
    )
    return result.projected(exp.alias_(guarded(cloud, line), alias))


def header(result: CohortResult, job: Job) -> str:
    """The comment header of an s5cmd manifest: how to use it and what it holds."""
    return header_text(result.provenance, result.summary, job)


def header_text(p: Provenance, s: Summary, job: Job) -> str:
    layout, cloud = job.manifest()
    lines = [
        f"idc-sql manifest of cohort {header_safe(p.cohort)}",
        "download with s5cmd (no account needed):",
        f"  {download_command(job.shown, cloud)}",
    ]
    if cloud.buckets is None:
        lines.append(f"or with idc-index: idc download {job.shown}")
    lines += summary_lines(p, s)
    lines += [
        f"destination: {layout.shown}/",
        provenance_line(record(p, s, job.format, job.written_at, job.extra())),
        written_line(job.written_at),
    ]
    return comment(lines)


def largest() -> Summary:
    """The widest summary a header is made room for: counts at BIGINT's limit, 1,000 EB."""
    most = 2**63 - 1
    return Summary(series=most, studies=most, patients=most, collections=most, size_mb=1e15)
