"""IDC's indices on BigQuery: a template that reads ``idc_index`` (or ``seg_index``, ...) gets
IDC's own SQL for that index, from the installed idc-index-data, as a CTE over the release's
tables. So a template written against the local index runs unchanged on BigQuery, at any
release, under the cost guard.

IDC's SQL is used as it is, on the tree, with the changes a CTE needs: its table references
name the release read (IDC writes ``idc_v25``), its own CTEs move up beside it (prefixed with
the index's name, so that two indices cannot clash), and its final ``ORDER BY`` goes (a CTE's
order means nothing). Constants its script DECLAREs take their declared values. And its
``ERROR(...)`` calls become NULL: they are the checks of IDC's own build (a transfer syntax or
SOP class its name table lacks stops the build), and a template that reads the index at another
release gets a missing name there rather than no answer at all.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from ..errors import UnsupportedError
from ..release import Release
from .model import Template


def index_template(name: str) -> Template | None:
    """IDC's SQL for index ``name`` as a template (None when the wheel ships no SQL for it)."""
    from ..indexes.wheel import description, index_names, sql_path
    from .loading import load_template

    path = sql_path(name)
    if path is None:
        return None
    template = load_template(path, source="idc-index-data", indices=frozenset(index_names()))
    if not template.description:
        from dataclasses import replace

        template = replace(template, description=description(name))
    return template


def inlined(
    name: str,
    release: Release,
    table_of: Callable[[exp.Table, Release], exp.Table],
    where: str,
) -> list[tuple[str, exp.Query]]:
    """The CTEs (name, query) that define index ``name`` for ``release``: the index's own
    CTEs first, then ``name`` itself. ``table_of`` rewrites a table reference to the release."""
    from ..errors import SpecError

    try:
        template = index_template(name)
    except SpecError as e:
        raise UnsupportedError(
            where,
            f"{name} cannot be read on BigQuery: IDC's SQL for it is not a single query ({e}); "
            "the local engine reads it from idc-index-data",
        ) from None
    if template is None:
        raise UnsupportedError(
            where, f"{name}: the installed idc-index-data ships no SQL for it to run on BigQuery"
        )
    tree = template.tree.copy()
    for node in tree.find_all(exp.Expr):
        node.comments = None
    if template.constants:
        values = {k.lower(): v for k, v in template.constants.items()}

        def constant(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Parameter) and node.name.lower() in values:
                return values[node.name.lower()].copy()
            return node

        transformed = tree.transform(constant)
        assert isinstance(transformed, exp.Query)
        tree = transformed
    tree = _without_errors(tree)
    with_ = tree.args.get("with_")
    top = with_.expressions if isinstance(with_, exp.With) else []
    own = {cte.alias_or_name: f"{name}__{cte.alias_or_name}" for cte in top}
    for table in list(tree.find_all(exp.Table)):
        if not table.args.get("db") and table.name in own:
            alias = table.alias or table.name
            table.set("this", exp.to_identifier(own[table.name]))
            table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        elif table.args.get("db"):
            table.replace(table_of(table, release))
    ctes = [(own[cte.alias_or_name], cte.this) for cte in top]
    tree.set("with_", None)
    if tree.args.get("limit") is None:
        tree.set("order", None)
    ctes.append((name, tree))
    return ctes


def _without_errors(tree: exp.Query) -> exp.Query:
    """``ERROR(...)`` calls as NULL (see the module's documentation)."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and node.name.upper() == "ERROR":
            return exp.null()
        if type(node).__name__ == "Error":  # should sqlglot come to name the function
            return exp.null()
        return node

    replaced = tree.transform(swap)
    assert isinstance(replaced, exp.Query)
    return replaced
