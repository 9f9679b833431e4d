"""The chosen columns as a table: csv, tsv, parquet, jsonl, each with its provenance.

csv and tsv begin with a comment header, ``#`` lines before the header row; its first line
(``# idc-sql csv, 7 comment lines, ...``) says how many lines it has, for readers that skip
lines by number (pandas: ``read_csv(path, skiprows=N)``; DuckDB: ``read_csv(path, skip=N)``).
Parquet keeps the record in its key-value metadata, jsonl in a sidecar ``<file>.json``. See
:mod:`.provenance`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..outputs.atomic import assemble, beside
from ..outputs.provenance import (
    PARQUET_KEY,
    comment_header,
    counted,
    record,
    to_json,
)
from .copying import METADATA_PARAM, concurrently, copy, csv_options, option

if TYPE_CHECKING:
    from ..result import CohortResult
    from . import Job


#: the delimited formats, and their delimiters
DELIMITERS = {"csv": ",", "tsv": "\t"}


def write_csv(result: CohortResult, tmp: Path, job: Job) -> None:
    _delimited(result, tmp, job)


def write_tsv(result: CohortResult, tmp: Path, job: Job) -> None:
    _delimited(result, tmp, job)


def delimited_options(fmt: str) -> list[exp.Expr]:
    """The COPY options of a csv or tsv file's rows (its header is put before them)."""
    return csv_options(header=True, delimiter=DELIMITERS[fmt])


def _delimited(result: CohortResult, tmp: Path, job: Job) -> None:
    """The rows by DuckDB (the summary counted meanwhile), then the header put before them."""
    rows = beside(tmp, "rows")
    _copy_and_count(result, rows, delimited_options(job.format))
    assemble(tmp, text_header(result, job), rows)


def _copy_and_count(result: CohortResult, path: Path, options: list[exp.Expr]) -> None:
    """The rows by DuckDB, and what a header counts: the summary of series, counted meanwhile
    on the second core; any other rows (a template's report) are counted by the copy itself,
    so that their query, a GROUP BY say, runs once and not twice at the same time."""
    if getattr(result, "is_series", True):
        with concurrently() as pool:
            summary = pool.submit(lambda: counted(result))
            copy(result, result.select(), path, options)
            summary.result()
    else:  # a template's rows (TemplateResult.row_count)
        rows: Any = result
        rows.row_count = copy(result, result.select(), path, options)


def text_header(result: CohortResult, job: Job) -> str:
    """The comment header of a csv or tsv file."""
    return comment_header(
        result.provenance, counted(result), job.format, job.written_at, job.extra()
    )


def write_parquet(result: CohortResult, tmp: Path, job: Job) -> None:
    """Parquet, the record in its key-value metadata (the summary is counted first)."""
    p = result.provenance
    rec = record(p, counted(result), job.format, job.written_at, job.extra())
    copy(result, result.select(), tmp, parquet_options(), {METADATA_PARAM: to_json(rec)})


def parquet_options() -> list[exp.Expr]:
    """The COPY options of a parquet file: its record in the key-value metadata, bound."""
    metadata = exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=exp.to_identifier(PARQUET_KEY), expression=exp.Placeholder(this=METADATA_PARAM)
            )
        ]
    )
    return [option("FORMAT", exp.var("parquet")), option("KV_METADATA", metadata)]


def table_options(fmt: str) -> list[exp.Expr]:
    """The COPY options of a csv, tsv or parquet file's rows."""
    return parquet_options() if fmt == "parquet" else delimited_options(fmt)


def write_jsonl(result: CohortResult, tmp: Path, job: Job) -> None:
    """One JSON object a line; the record in the sidecar, when there is one."""
    _copy_and_count(result, tmp, [option("FORMAT", exp.var("json"))])
    if job.sidecar is not None:
        p = result.provenance
        rec = record(p, counted(result), job.format, job.written_at, job.extra())
        job.sidecar.write_text(to_json(rec, indent=2) + "\n", encoding="utf-8")
