"""DuckDB's COPY over a result's rows: every format is written by DuckDB, no Python loop."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

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


def copy(result: CohortResult, query: exp.Select, path: Path, options: list[exp.Expr]) -> int:
    """Write the rows of ``query`` (built over ``result``'s rows) to ``path``; how many."""
    statement = exp.Copy(
        this=exp.Subquery(this=query),
        kind=False,
        files=[exp.Literal.string(str(path))],
        params=options,
    )
    ((written,),) = result.fetch(statement)  # DuckDB's COPY answers with its count of rows
    return int(written)


def assemble(path: Path, head: str, body: Path, tail: str = "") -> None:
    """Write ``head``, the bytes of ``body`` and ``tail`` to ``path``, then remove ``body``.

    For a format whose rows DuckDB writes but whose first bytes it cannot (a comment header, a
    JSON document around an array): the rows are copied once, in large blocks.
    """
    try:
        with path.open("wb") as out, body.open("rb") as rows:
            out.write(head.encode("utf-8"))
            shutil.copyfileobj(rows, out, 1 << 20)
            out.write(tail.encode("utf-8"))
    finally:
        body.unlink(missing_ok=True)


def beside(path: Path, what: str) -> Path:
    """A scratch file next to ``path`` (in the output's private folder)."""
    return path.with_name(f"{path.name}.{what}")


def concurrently() -> ThreadPoolExecutor:
    """A second thread for the work a writer does while DuckDB writes (the summary's counts).

    sqlglot's DuckDB dialect is loaded first, in this thread: sqlglot registers a dialect
    before it has finished building it, so a thread that asked for it meanwhile could render
    SQL with the base dialect (``COPY INTO ...``, which DuckDB refuses). This happened to a
    result of BigQuery, the first SQL a process renders for DuckDB being the writer's.
    """
    Dialect.get_or_raise("duckdb")
    return ThreadPoolExecutor(1)
