"""The tables a template reads, as IDC's documentation writes them, and what each one is.

- **IDC's BigQuery tables**: ``bigquery-public-data.idc_current.dicom_all``, a release pinned
  with ``idc_v24``, the clinical datasets ``idc_v24_clinical`` / ``idc_current_clinical``
  (wildcard tables such as ``nlst_*`` included), and the legacy project ``canceridc-data``
  (``idc_views`` was its ``idc_current``). Read on BigQuery.
- **IDC's indices**: ``idc_index``, ``collections_index``, ``seg_index``, ... written without a
  dataset, as idc-index names them. Read locally from parquet, and on BigQuery through IDC's own
  SQL for each (see :mod:`idc_sql.templates.inline`).

Anything else is refused when the template is loaded, with the line it is on: a table outside
IDC's datasets, a name that is neither an index nor one of the template's own CTEs, a table an
IDC dataset does not hold. A template reads one release: naming two is refused.

>>> import sqlglot
>>> node = sqlglot.parse_one("SELECT 1 FROM `canceridc-data.idc_v24.dicom_all`", read="bigquery")
>>> r = classify(node.find(exp.Table), frozenset({"idc_index"}))
>>> r.name, r.kind, r.release, r.legacy
('dicom_all', 'table', 24, True)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from ..engines.bigquery import RELATIONS as BIGQUERY_TABLES
from ..release import Requested
from .statement import SqlProblem

#: the projects that hold IDC's datasets: the public one, and the legacy one
PUBLIC_PROJECT = "bigquery-public-data"
LEGACY_PROJECT = "canceridc-data"
_DATASET = re.compile(
    r"^idc_(?:(?P<current>current)|v(?P<number>\d+)|(?P<views>views))(?P<clinical>_clinical)?$",
    re.IGNORECASE,
)

Kind = Literal["table", "clinical", "index"]


@dataclass(frozen=True)
class Reference:
    """One table a template reads."""

    #: the table's name: ``dicom_all``, ``seg_index``, ``nlst_prsn``, ``nlst_*``
    name: str
    kind: Kind
    #: the release its dataset names (None: an index, read at the engine's release)
    release: Requested
    line: int
    #: as the template writes it
    written: str
    #: in the legacy canceridc-data project
    legacy: bool = False

    @property
    def wildcard(self) -> bool:
        return self.name.endswith("*")


def cte_names(tree: exp.Expr) -> set[str]:
    """The names the query's own CTEs define (anywhere in it)."""
    return {cte.alias_or_name for cte in tree.find_all(exp.CTE)}


def tables(tree: exp.Expr) -> Iterator[exp.Table]:
    """Every table node the query reads from, less references to its own CTEs."""
    ctes = cte_names(tree)
    for node in list(tree.find_all(exp.Table)):
        if not node.name:  # e.g. a table function
            continue
        if not node.args.get("db") and node.name in ctes:
            continue
        yield node


def line_of(node: exp.Table) -> int:
    for part in (node.this, node.args.get("db"), node.args.get("catalog")):
        if isinstance(part, exp.Expr) and part.meta.get("line"):
            return int(part.meta["line"])
    return 1


def written(node: exp.Table) -> str:
    return ".".join(p for p in (node.catalog, node.db, node.name) if p)


def classify(node: exp.Table, indices: frozenset[str]) -> Reference:
    """What table ``node`` names; :class:`SqlProblem` when it is none that idc-sql reads."""
    line = line_of(node)
    text = written(node)
    catalog, db, name = node.catalog, node.db, node.name
    if not db:
        if catalog:
            raise SqlProblem(line, f"table {text}: not an IDC table")
        if name in indices:
            return Reference(name, "index", None, line, text)
        if name in BIGQUERY_TABLES:
            raise SqlProblem(
                line,
                f"table {name} needs its dataset: write "
                f"`{PUBLIC_PROJECT}.idc_current.{name}` (or idc_vNN for a release)",
            )
        raise SqlProblem(line, f"unknown table {name}{_suggest(name, indices)}")
    dataset = _DATASET.match(db)
    if catalog not in ("", PUBLIC_PROJECT, LEGACY_PROJECT) or dataset is None:
        raise SqlProblem(
            line,
            f"table {text} is not in one of IDC's datasets "
            f"({PUBLIC_PROJECT}.idc_current, .idc_vNN, .idc_vNN_clinical)",
        )
    legacy = catalog == LEGACY_PROJECT
    release: Requested = "current" if dataset["number"] is None else int(dataset["number"])
    if dataset["views"] and not legacy:
        raise SqlProblem(line, f"table {text}: idc_views is a dataset of {LEGACY_PROJECT} only")
    if dataset["clinical"]:
        return Reference(name, "clinical", release, line, text, legacy)
    if name in indices:
        raise SqlProblem(
            line,
            f"{name} is an index of idc-index, not a table of {db}: name it without a "
            "dataset; the release comes from the engine or --idc-version",
        )
    known = name in BIGQUERY_TABLES or (
        name.endswith("*") and any(t.startswith(name[:-1]) for t in BIGQUERY_TABLES)
    )
    if not known:
        raise SqlProblem(
            line,
            f"table {text}: IDC's datasets hold no table {name}"
            f"{_suggest(name, frozenset(BIGQUERY_TABLES))}",
        )
    return Reference(name, "table", release, line, text, legacy)


def read_by(tree: exp.Expr, indices: frozenset[str]) -> list[Reference]:
    """Every table ``tree`` reads, checked; one release at most."""
    found = [classify(node, indices) for node in tables(tree)]
    pinned = [r for r in found if r.release is not None]
    for r in pinned[1:]:
        if r.release != pinned[0].release:
            raise SqlProblem(
                r.line,
                f"{r.written} is another release than {pinned[0].written} (line "
                f"{pinned[0].line}); a template reads one release, which --idc-version can change",
            )
    return found


def pinned_release(references: list[Reference]) -> Requested:
    """The release the template's datasets name (None when it names none)."""
    return next((r.release for r in references if r.release is not None), None)


def _suggest(name: str, pool: frozenset[str]) -> str:
    close = difflib.get_close_matches(name, sorted(pool), n=1, cutoff=0.75)
    if close:
        return f"; did you mean {close[0]}?"
    if pool and not name.endswith("*"):
        return f"; IDC's tables are read as {', '.join(sorted(pool)[:6])}, ..."
    return ""
