"""Long lists as tables: how the local engine binds a list it joins by hash.

The compiler gives a long list (more than :data:`~idc_sql.targets.LIST_RELATION_FROM` values)
as a relation, ``x IN (SELECT _v FROM UNNEST($p) AS _list(_v))``, which is valid DuckDB as it
stands. Binding a list parameter costs DuckDB a conversion of every value each time a query
runs, and a cohort's query runs several times (its summary, then its output); so the local
engine stores each such list once, as a table of its in-memory database named after the list's
content, and reads that table in place of the ``UNNEST``. The values, their order and the
query's meaning are unchanged; only where DuckDB reads them from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import EngineError
from ..targets import LIST_ALIAS, LIST_COLUMN

if TYPE_CHECKING:
    import duckdb

#: the schema of the in-memory database that holds the lists
SCHEMA = "_lists"


class ListTables:
    """The lists stored so far in one database."""

    def __init__(self) -> None:
        #: hash of a list's values -> (its values, the table holding them)
        self.stored: dict[int, list[tuple[tuple[Any, ...], str]]] = {}

    def bind(
        self, connection: duckdb.DuckDBPyConnection, tree: exp.Expr, params: Mapping[str, Any]
    ) -> exp.Expr:
        """``tree`` reading every list relation from a table holding the list's values."""
        if not any(_parameter(node) in params for node in tree.find_all(exp.Unnest)):
            return tree
        tree = tree.copy()
        for node in list(tree.find_all(exp.Unnest)):
            name = _parameter(node)
            if name is None or name not in params:
                continue
            stored = exp.table_(self.store(connection, params[name]), db=SCHEMA)
            stored.set(
                "alias",
                exp.TableAlias(
                    this=exp.to_identifier(LIST_ALIAS), columns=[exp.to_identifier(LIST_COLUMN)]
                ),
            )
            node.replace(stored)
        return tree

    def store(self, connection: duckdb.DuckDBPyConnection, values: Sequence[Any]) -> str:
        """The name of a table of ``values`` (one column), made on first use."""
        key = tuple(values)
        same = self.stored.setdefault(hash(key), [])
        for known, name in same:
            if known == key:
                return name
        import duckdb

        name = f"l{sum(len(v) for v in self.stored.values())}"
        target = exp.table_(name, db=SCHEMA)
        try:
            if not any(self.stored.values()):
                schema = exp.Create(this=exp.Table(db=exp.to_identifier(SCHEMA)), kind="SCHEMA")
                schema.set("exists", True)
                connection.execute(schema.sql(dialect="duckdb"))
            if set(map(type, key)) == {str}:
                # read from a NumPy array of the strings: no per-value conversion to a
                # DuckDB value, as binding a list parameter does
                import numpy as np

                view = f"_{name}_values"
                connection.register(view, {LIST_COLUMN: np.array(key, dtype=object)})
                rows = exp.select(LIST_COLUMN).from_(view)
                create = exp.Create(this=target, kind="TABLE", expression=rows)
                try:
                    connection.execute(create.sql(dialect="duckdb"))
                finally:
                    connection.unregister(view)
            else:
                unnest = exp.select(
                    exp.alias_(exp.Unnest(expressions=[exp.Placeholder(this="v")]), LIST_COLUMN)
                )
                create = exp.Create(this=target, kind="TABLE", expression=unnest)
                connection.execute(create.sql(dialect="duckdb"), {"v": list(key)})
        except duckdb.Error as e:
            raise EngineError(f"storing a list of {len(key):,} values failed: {e}") from e
        same.append((key, name))
        return name


def _parameter(node: exp.Unnest) -> str | None:
    """The list parameter a list relation (``UNNEST($p) AS _list(_v)``) reads, else None."""
    alias = node.args.get("alias")
    if not isinstance(alias, exp.TableAlias) or alias.name != LIST_ALIAS:
        return None
    (value,) = node.expressions or (None,)
    return value.name if isinstance(value, exp.Placeholder) else None
