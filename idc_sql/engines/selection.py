"""A costly selection evaluated once: how the local engine keeps re-reading a cohort cheap.

A cohort's rows are read several times (its summary's counts, then its output). For most
cohorts each read is one pass over the index with a few comparisons, cheaper than storing
anything. A selection that joins (a long list, ``study_has``, a set of cohorts) or holds many
conditions costs more than that pass, on every read. Such a selection is evaluated once into a
table of the selected rows' keys (the query's ``row_key``: the index's row number, 8 bytes a
series), and every read then selects those keys: the join and the conditions run once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import EngineError

if TYPE_CHECKING:
    import duckdb

#: the schema of the in-memory database that holds evaluated selections
SCHEMA = "_selections"
#: a WHERE of more nodes than this is evaluated once, whatever it holds
MANY_NODES = 400


def costly(where: exp.Expr | None) -> bool:
    """Whether a WHERE is worth evaluating once: it holds a subquery, or many conditions."""
    if where is None:
        return False
    if where.find(exp.Subquery, exp.Exists) is not None:
        return True
    return any(i > MANY_NODES for i, _ in enumerate(where.walk()))


class Selections:
    """The selections evaluated so far in one database."""

    def __init__(self) -> None:
        self.count = 0

    def settle(
        self,
        connection: duckdb.DuckDBPyConnection,
        tree: exp.Expr,
        params: dict[str, Any],
        key: str,
    ) -> exp.Expr:
        """``tree`` (a cohort's query: SELECT ... FROM series WHERE ... [ORDER BY] [LIMIT])
        selecting the rows a table holds, once its costly WHERE has filled that table."""
        if not isinstance(tree, exp.Select) or not costly(tree.args.get("where")):
            return tree
        import duckdb

        self.count += 1
        table = exp.table_(f"s{self.count}", db=SCHEMA)
        keys = tree.copy()
        keys.set("expressions", [exp.column(key)])
        if keys.args.get("limit") is None:
            keys.set("order", None)  # the order matters to a limit only
        create = exp.Create(this=table, kind="TABLE", expression=keys)
        used = {p.name for p in keys.find_all(exp.Placeholder)}
        try:
            if self.count == 1:
                schema = exp.Create(this=exp.Table(db=exp.to_identifier(SCHEMA)), kind="SCHEMA")
                schema.set("exists", True)
                connection.execute(schema.sql(dialect="duckdb"))
            connection.execute(
                create.sql(dialect="duckdb"), {k: v for k, v in params.items() if k in used}
            )
        except duckdb.Error as e:
            raise EngineError(f"running the query failed: {e}") from e
        reads = tree.copy()
        selected = exp.select(exp.column(key)).from_(table.copy())
        column = exp.column(key, table=_source(tree))
        reads.set("where", exp.Where(this=exp.In(this=column, query=exp.Subquery(this=selected))))
        reads.set("limit", None)  # the table holds the rows within the limit already
        return reads


def _source(tree: exp.Select) -> str:
    """The name the query's FROM gives its relation."""
    return str(tree.args["from_"].this.alias_or_name)
