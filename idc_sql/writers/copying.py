"""DuckDB's COPY over a result's rows: every format is written by DuckDB, no Python loop."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

if TYPE_CHECKING:
    from ..result import CohortResult


def csv_options(*, header: bool, delimiter: str = ",", quote: str | None = None) -> list[exp.Expr]:
    options = [
        option("FORMAT", exp.var("csv")),
        option("HEADER", exp.true() if header else exp.false()),
        option("DELIMITER", exp.Literal.string(delimiter)),
    ]
    if quote is not None:
        options.append(option("QUOTE", exp.Literal.string(quote)))
    return options


def option(name: str, value: exp.Expr) -> exp.Expr:
    return exp.CopyParameter(this=exp.var(name), expression=value)


#: the parameter a COPY's file is bound to (a name no template parameter may take)
OUTPUT_PARAM = "idc_sql_output_file"
#: the parameter a parquet file's provenance record is bound to
METADATA_PARAM = "idc_sql_provenance"


def copy_statement(query: exp.Select, options: list[exp.Expr]) -> exp.Copy:
    """``COPY (query) TO $idc_sql_output_file (options)``: the file is a bound parameter."""
    return exp.Copy(
        this=exp.Subquery(this=query),
        kind=False,
        files=[exp.Placeholder(this=OUTPUT_PARAM)],
        params=options,
    )


def copy(
    result: CohortResult,
    query: exp.Select,
    path: Path,
    options: list[exp.Expr],
    bound: dict[str, Any] | None = None,
) -> int:
    """Write the rows of ``query`` (built over ``result``'s rows) to ``path``; how many.
    ``bound``: the values of the options' own parameters."""
    statement = copy_statement(query, options)
    # DuckDB's COPY answers with its count of rows
    ((written,),) = result.fetch(statement, extra={**(bound or {}), OUTPUT_PARAM: str(path)})
    return int(written)


def concurrently() -> ThreadPoolExecutor:
    """A second thread for the work a writer does while DuckDB writes (the summary's counts).

    sqlglot's DuckDB dialect is loaded first, in this thread: sqlglot registers a dialect
    before it has finished building it, so a thread that asked for it meanwhile could render
    SQL with the base dialect (``COPY INTO ...``, which DuckDB refuses). This happened to a
    result of BigQuery, the first SQL a process renders for DuckDB being the writer's.
    """
    Dialect.get_or_raise("duckdb")
    return ThreadPoolExecutor(1)
