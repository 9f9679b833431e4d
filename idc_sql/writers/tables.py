"""The chosen columns as a table: csv, tsv, parquet, jsonl."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from .copying import copy, csv_options, option

if TYPE_CHECKING:
    from ..result import CohortResult


def write_csv(result: CohortResult, tmp: Path, shown: str, destination: str) -> None:
    copy(result, result.select(), tmp, csv_options(header=True))


def write_tsv(result: CohortResult, tmp: Path, shown: str, destination: str) -> None:
    copy(result, result.select(), tmp, csv_options(header=True, delimiter="\t"))


def write_parquet(result: CohortResult, tmp: Path, shown: str, destination: str) -> None:
    copy(result, result.select(), tmp, [option("FORMAT", exp.var("parquet"))])


def write_jsonl(result: CohortResult, tmp: Path, shown: str, destination: str) -> None:
    copy(result, result.select(), tmp, [option("FORMAT", exp.var("json"))])
