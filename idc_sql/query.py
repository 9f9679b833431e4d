"""A compiled query: what the pipeline estimates and an engine executes.

Any read-only query with bound parameters, for one engine and one release: a cohort's (see
:class:`idc_sql.compiler.Compiled`), and later a saved template's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

if TYPE_CHECKING:
    from .release import Release


@dataclass
class Query:
    """A compiled read-only query for one engine: a sqlglot tree and its bound parameters."""

    #: the engine (target) it was compiled for
    engine: str
    dialect: str
    tree: exp.Expr
    params: dict[str, Any]
    #: the release the query reads
    release: Release
    #: names the query in job labels and messages (the cohort or template name)
    label: str = "query"
    #: the result's column names as the query spells them (empty: whatever it yields)
    output: tuple[str, ...] = ()
    #: declared BigQuery types of parameters (``INT64``, ``ARRAY<STRING>``); the others are
    #: typed from their values
    param_types: dict[str, str] = field(default_factory=dict)
    #: a column of the query's relation that identifies its rows (None: none does); an engine
    #: may then evaluate a costly WHERE once and re-read the rows by this key
    row_key: str | None = None

    @property
    def sql(self) -> str:
        return self.tree.sql(dialect=self.dialect, pretty=True)
