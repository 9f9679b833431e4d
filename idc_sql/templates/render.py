"""A template compiled for one engine and one release: a :class:`~idc_sql.query.Query`.

Everything happens on the sqlglot tree, never in the SQL text:

- each IDC table reference names the release read: ``idc_current``, ``idc_v24`` and the legacy
  ``canceridc-data`` names become ``bigquery-public-data.idc_vNN`` (or ``idc_current``) for the
  release the engine settled (``--idc-version`` or the template's own);
- on an engine that reads IDC's datasets (BigQuery) the indices a template reads are IDC's own
  SQL as CTEs (see :mod:`.inline`); on one that holds indices as relations (the local engine)
  they are read under their names, and the BigQuery dialect is rendered as DuckDB's;
- parameters stay parameters (``@name`` on BigQuery, typed by the query parameters; ``$name``
  cast to the declared type on DuckDB), their values bound when the query runs.

A template that reads a table the engine lacks is refused, naming each table, its line, and how
to get it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import Option, Piece, UnsupportedError
from ..query import Query
from ..release import Release, Requested
from ..targets import answering
from .model import Template
from .tables import Reference, classify, tables

if TYPE_CHECKING:
    from ..engines.base import Engine


def settle(template: Template, engine: Engine, requested: Requested = None) -> Release:
    """The release ``template`` reads on ``engine``: ``requested``, else the one its datasets
    name, else the engine's."""
    wanted = requested if requested is not None else template.release
    return engine.settle(wanted, template.where)


def compile_template(
    template: Template,
    engine: Engine,
    values: Mapping[str, Any],
    release: Release,
) -> Query:
    """``template`` for ``engine`` at ``release``, with ``values`` bound."""
    target = engine.target
    relations = engine.relations(release)
    indices = frozenset(_index_names())
    tree = template.tree.copy()
    for node in tree.find_all(exp.Expr):
        node.comments = None
    missing: list[Reference] = []
    inline: dict[str, None] = {}
    for node in list(tables(tree)):
        ref = classify(node, indices)
        if ref.kind != "index":
            if target.can("idc_datasets"):
                node.replace(_release_table(node, ref, release, engine))
            else:
                missing.append(ref)
        elif target.can("index_sql"):
            inline.setdefault(ref.name)
        elif ref.name in relations:
            local = target.table(ref.name, release.dataset, release.project)
            local.set("alias", node.args.get("alias"))
            node.replace(local)
        else:
            missing.append(ref)
    if missing:
        raise UnsupportedError(template.where, *_refusal(engine, missing, release))
    if inline:
        tree = with_indices(tree, list(inline), release, engine, template.where)
    tree = _bind(tree, template, typed=target.can("typed_parameters"))
    return Query(
        engine=target.name,
        dialect=target.dialect,
        tree=tree,
        params=dict(values),
        release=release,
        label=template.name,
        output=output_names(tree),
        param_types={name: p.type.name for name, p in template.params.items()},
    )


def output_names(tree: exp.Query) -> tuple[str, ...]:
    """The names of the result's columns when the query spells each (empty: it has ``*``)."""
    select: exp.Expr = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.unnest()
    if not isinstance(select, exp.Select):
        return ()
    names = []
    for e in select.expressions:
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star):
            return ()
        names.append(e.alias_or_name)
    return tuple(names) if all(names) else ()


def _index_names() -> tuple[str, ...]:
    from ..indexes.wheel import index_names

    return index_names()


def _release_table(node: exp.Table, ref: Reference, release: Release, engine: Engine) -> exp.Table:
    dataset = release.dataset + ("_clinical" if ref.kind == "clinical" else "")
    table = engine.target.table(ref.name, dataset, release.project)
    table.set("alias", node.args.get("alias"))
    return table


def with_indices(
    tree: exp.Query, names: list[str], release: Release, engine: Engine, where: str
) -> exp.Query:
    """``tree`` with a CTE for each index it reads, before its own CTEs."""
    from .inline import inlined

    def table_of(node: exp.Table, at: Release) -> exp.Table:
        indices = frozenset(_index_names())
        return _release_table(node, classify(node, indices), at, engine)

    ctes: list[exp.CTE] = []
    for name in names:
        for cte_name, query in inlined(name, release, table_of, where):
            ctes.append(exp.CTE(this=query, alias=exp.TableAlias(this=exp.to_identifier(cte_name))))
    existing = tree.args.get("with_")
    own = list(existing.expressions) if isinstance(existing, exp.With) else []
    tree.set("with_", exp.With(expressions=[*ctes, *own]))
    return tree


def _bind(tree: exp.Query, template: Template, *, typed: bool) -> exp.Query:
    """Parameters as placeholders; cast to their declared types unless the engine types them."""

    def swap(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Parameter) or isinstance(node.this, exp.Parameter):
            return node
        if isinstance(node.parent, exp.Parameter):  # inside @@system_variable
            return node
        p = template.params.get(node.name)
        if p is None:
            return node
        placeholder = exp.Placeholder(this=p.name)
        return placeholder if typed else exp.Cast(this=placeholder, to=p.type.duckdb())

    bound = tree.transform(swap)
    assert isinstance(bound, exp.Query)
    return bound


def _refusal(engine: Engine, missing: list[Reference], release: Release) -> list[Piece]:
    """Which tables the engine lacks, on which lines, and how to get each."""
    tables_ = [r for r in missing if r.kind != "index"]
    indices = [r for r in missing if r.kind == "index"]
    pieces: list[Piece] = [f"the {engine.target.name} engine cannot run this template: it reads "]
    readers = answering("idc_datasets")
    if tables_:
        pieces.append(", ".join(sorted({f"{r.name} (line {r.line})" for r in tables_})))
        pieces.append(
            f", {'a table' if len(tables_) == 1 else 'tables'} of IDC's BigQuery datasets"
        )
        if readers:
            pieces += ["; run it with ", Option("engine", readers[0])]
    if indices:
        pieces.append("; and " if tables_ else "")
        pieces.append(", ".join(sorted({f"{r.name} (line {r.line})" for r in indices})))
        pieces.append(
            f", {'an IDC index' if len(indices) == 1 else 'IDC indices'} the {engine.target.name}"
            " engine does not hold"
        )
        pieces += _why_not(engine, [r.name for r in indices], release)
        it = "it" if len(indices) == 1 else "them"
        named = " ".join(sorted({r.name for r in indices}))
        pinned = isinstance(release.requested, int)
        version = f" --idc-version {release.number}" if pinned else ""
        pieces += [
            f": build {it} from BigQuery into the folder ",
            Option("index_dir"),
            f" names (`idc-sql index build {named}{version} --engine bigquery`), fetch {it} "
            "with idc-index (IDCClient.fetch_index) or put the parquet file there",
        ]
        if readers:
            pieces += [", or run it with ", Option("engine", readers[0])]
    return pieces


def _why_not(engine: Engine, names: list[str], release: Release) -> list[Piece]:
    folder_indices = getattr(engine, "folder_indices", None)
    if folder_indices is None:
        return []
    found: Mapping[str, Any] = folder_indices(release.number)
    notes = [f"{n} in {found[n].path} {found[n].problem}" for n in names if n in found]
    return [f" ({'; '.join(notes)})"] if notes else []


__all__ = ["compile_template", "output_names", "settle", "with_indices"]
