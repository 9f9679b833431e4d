"""DuckDB's COPY over a result's rows: every format is written by DuckDB, no Python loop."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

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


def copy(result: CohortResult, query: exp.Select, path: Path, options: list[exp.Expr]) -> None:
    """Write the rows of ``query`` (built over ``result``'s rows) to ``path``."""
    statement = exp.Copy(
        this=exp.Subquery(this=query),
        kind=False,
        files=[exp.Literal.string(str(path))],
        params=options,
    )
    result.execute(statement)
