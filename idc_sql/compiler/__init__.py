"""Rendering: a plan becomes one sqlglot tree over a logical ``series`` relation, then SQL.

Every query has the same shape on every engine::

    WITH series AS (<one row per series: the fields the query reads>)
    SELECT <columns> FROM series WHERE <predicate> ORDER BY ... LIMIT @limit

What differs between engines is data, in :mod:`idc_sql.targets`: the source table, whether its
rows are instances (BigQuery's ``dicom_all``, grouped to series) or series (the local index),
and how a few operators are spelled. Values are always bound parameters (``@p0`` in BigQuery,
``$p0`` in DuckDB); identifiers come only from the catalog and are quoted by sqlglot.

>>> from idc_sql.spec import parse_spec
>>> from idc_sql.plan import plan
>>> from idc_sql.release import Release
>>> from idc_sql.targets import target
>>> spec = parse_spec({"name": "ct", "where": {"Modality": "CT"}})
>>> q = compile_plan(plan(spec, target("local"), Release(25, "idc_v25", "example")))
>>> q.params
{'p0': 'CT'}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from ..catalog import Field
from ..plan import (
    DEFAULT_ORDER,
    UNIT_KEYS,
    And,
    Atom,
    Has,
    Negate,
    Node,
    Or,
    Plan,
    Selection,
    atoms_in,
)
from ..query import Query
from ..targets import BIGQUERY_PUBLIC_PROJECT
from .builder import ROW, SERIES, Builder, _typed

#: how the relation of a set's member is named: _member0, _member1, ...
MEMBER = "_member"
#: a WHERE of more conjuncts than this is given as one expression (see _restrict)
MANY_CONJUNCTS = 64
#: the relation of the units (studies, patients) a query by unit keeps
UNITS = "_units"

__all__ = ["BIGQUERY_PUBLIC_PROJECT", "Compiled", "compile_plan"]


@dataclass
class Compiled(Query):
    """A cohort's query: its tree, SQL text, bound parameters and the columns it yields."""

    #: the columns the specification chose (``output`` adds what summaries and writers need)
    columns: tuple[str, ...] = ()


def compile_plan(plan: Plan, *, project: str | None = None) -> Compiled:
    """Render ``plan`` for its engine.

    ``project`` is the BigQuery project holding the ``idc_vNN`` datasets (default: the
    release's; tests point it at an emulator's copy); the local engine ignores it.
    """
    project = project or plan.release.project
    target = plan.target
    dataset = plan.release.dataset
    b = Builder(target, schema=plan.release.schema)
    sel = plan.selection
    _collect_selection(b, sel)

    needed: dict[str, Field] = {}
    for f in (*plan.output, *_selection_fields(b, sel)):
        if not (f.instance_level or f.segment_level):
            needed.setdefault(f.name, f)
    if not _row_ordered(b):
        from ..catalog import field as catalog_field

        for name in DEFAULT_ORDER:
            needed.setdefault(name, catalog_field(name))
    if target.grouped:
        # SeriesInstanceUID is the grouping key: read it first, unaggregated.
        needed = {"SeriesInstanceUID": needed.pop("SeriesInstanceUID"), **needed}

    series = b.series(list(needed.values()), dataset, project, _narrowing(b, sel))
    outer = exp.select(*(exp.column(f.name, quoted=True) for f in plan.output)).from_(
        SERIES, copy=False
    )
    members = _Members(b)
    outer = _restrict(b, outer, sel, SERIES, members=members)
    for name, relation in b.side_relations(dataset, project):
        outer = outer.with_(name, as_=relation, copy=False)
    tree: exp.Query = outer.with_(SERIES, as_=series, copy=False)
    for name, member in members.relations:
        tree = tree.with_(name, as_=member, copy=False)
    return Compiled(
        engine=target.name,
        dialect=target.dialect,
        release=plan.release,
        label=plan.name,
        tree=tree,
        params=b.params,
        columns=tuple(f.name for f in plan.columns),
        output=tuple(f.name for f in plan.output),
        row_key=ROW if target.row_order is not None else None,
    )


def _row_ordered(b: Builder) -> bool:
    """Whether the source's row key is in the canonical order (the installed index's row
    number, the file being sorted so). An earlier release's key only tells its rows apart (see
    :mod:`idc_sql.engines.timetravel`): its rows are ordered by the canonical columns."""
    return b.target.row_order is not None and b.schema is None


def _narrowing(b: Builder, sel: Selection) -> exp.Expr | None:
    """A condition on ``dicom_all.collection_id`` to apply before grouping, or None.

    dicom_all is clustered on collection_id, so BigQuery reads (and bills) only the blocks of
    the collections a query names there; after grouping, the same condition prunes nothing.
    Taken from the conditions on collection_id (equality or IN) that every selected series
    must meet: the top-level conjuncts of a cohort. A series' collection is the collection of
    each of its instances, so the rows kept are exactly the selected series' rows. Relations
    look at other series of the same patient within its collection, which pass the same
    condition; ``study_has`` and ``segmented_by`` would look across collections if a study
    ever spanned two (none does in IDC v25), so cohorts using them are left whole.
    """
    if not b.target.grouped or sel.where is None or _crosses_collections(sel.where):
        return None
    atoms = [
        item
        for item in _conjuncts(sel.where)
        if isinstance(item, Atom)
        and item.field.name == "collection_id"
        and all(op in ("eq", "in") for op, _ in item.ops)
    ]
    if not atoms:
        return None
    column = exp.column("collection_id", table="dicom_all")
    return exp.and_(*(b.condition(atom, column) for atom in atoms), copy=False)


def _conjuncts(node: Node) -> list[Node]:
    if isinstance(node, And):
        return [c for item in node.items for c in _conjuncts(item)]
    return [node]


def _crosses_collections(node: Node) -> bool:
    if isinstance(node, Has):
        return node.level != "patient" or _crosses_collections(node.item)
    if isinstance(node, And | Or):
        return any(_crosses_collections(i) for i in node.items)
    if isinstance(node, Negate):
        return _crosses_collections(node.item)
    return False


def _distinct_selections(sel: Selection) -> list[Selection]:
    """``sel`` and its members, each once however often it is named (members share one
    Selection per spec: see :func:`idc_sql.plan.plan`)."""
    out: dict[int, Selection] = {}
    stack = [sel]
    while stack:
        current = stack.pop()
        if id(current) not in out:
            out[id(current)] = current
            stack.extend(reversed(current.members))
    return list(out.values())


def _collect_selection(b: Builder, sel: Selection) -> None:
    for current in _distinct_selections(sel):
        b.collect(current.where)


def _selection_fields(b: Builder, sel: Selection) -> list[Field]:
    """The fields the series relation must carry for the selection: those its conditions read
    per series (not those aggregated over instances) and those it orders by."""
    out: list[Field] = []
    for current in _distinct_selections(sel):
        out += [a.field for a in atoms_in(current.where) if a not in b.aggregates]
        out += [f for f, _ in current.order]
        if current.unit != "series":
            from ..catalog import field as catalog_field

            out += [catalog_field(name) for name in UNIT_KEYS[current.unit]]
    return out


@dataclass
class _Members:
    """The members of a set, each one relation (a CTE of its SeriesInstanceUIDs) however
    often it is named, so that the SQL and its cost grow with the distinct members."""

    b: Builder
    #: (name, query) of each member, members of members first
    relations: list[tuple[str, exp.Query]] = field(default_factory=list)
    named: dict[int, str] = field(default_factory=dict)

    def name(self, sel: Selection) -> str:
        known = self.named.get(id(sel))
        if known is not None:
            return known
        query: exp.Query
        if sel.operation is not None and sel.limit is None:
            query = _combined(sel, self)  # no order to keep: the combination itself
        else:
            ids = exp.select(exp.column("SeriesInstanceUID")).from_(SERIES, copy=False)
            query = _restrict(self.b, ids, sel, SERIES, top=False, members=self)
        name = f"{MEMBER}{len(self.relations)}"
        self.relations.append((name, query))
        self.named[id(sel)] = name
        return name


def _combined(sel: Selection, members: _Members) -> exp.Query:
    """The SeriesInstanceUIDs of a set's members, combined by its operation."""
    parts = [
        exp.select(exp.column("SeriesInstanceUID")).from_(members.name(m), copy=False)
        for m in sel.members
    ]
    combine = {"union": exp.union, "intersect": exp.intersect, "except": exp.except_}
    assert sel.operation is not None
    combined: exp.Query = parts[0]
    for part in parts[1:]:
        combined = combine[sel.operation](combined, part, distinct=True, copy=False)
    return combined


def _restrict(
    b: Builder,
    query: exp.Select,
    sel: Selection,
    alias: str,
    *,
    top: bool = True,
    members: _Members,
) -> exp.Select:
    """Apply the selection's predicate or set operation, then its order and limit.

    A set's members are relations of their own (see :class:`_Members`), ordered only when a
    limit makes their order matter.
    """
    if sel.operation is not None:
        combined = _combined(sel, members)
        query = query.where(
            exp.In(
                this=exp.column("SeriesInstanceUID", table=alias), query=exp.Subquery(this=combined)
            ),
            copy=False,
        )
    elif sel.where is not None:
        condition = b.predicate(sel.where, alias)
        if isinstance(sel.where, And) and len(sel.where.items) > MANY_CONJUNCTS:
            # one expression, not a list of conjuncts: DuckDB's optimizer pushes each conjunct
            # of a WHERE down on its own, in a time that grows with their number squared
            # (4,999 conjuncts: minutes); as one expression it is evaluated in a time that
            # grows with their number. NULL and FALSE both leave a row out, as before.
            condition = exp.Coalesce(this=condition, expressions=[exp.false()])
        query = query.where(condition, copy=False)
    if not top and sel.limit is None:
        return query
    # ordered as compared: numbers stored as DICOM strings as numbers
    order = [
        exp.Ordered(this=_typed(f, exp.column(f.name, quoted=True)), desc=desc, nulls_first=False)
        for f, desc in sel.order
    ]
    if _row_ordered(b):
        order.append(exp.Ordered(this=exp.column(ROW), desc=False, nulls_first=False))
    else:
        named = {f.name for f, _ in sel.order}
        order += [
            exp.Ordered(this=exp.column(n, quoted=True), desc=False, nulls_first=False)
            for n in DEFAULT_ORDER
            if n not in named
        ]
    if sel.unit != "series":
        return _by_unit(b, query, sel, alias, order)
    query = query.order_by(*order, copy=False)
    if sel.limit is not None:
        query = query.limit(b.param(sel.limit), copy=False)
    return query


def _by_unit(
    b: Builder, query: exp.Select, sel: Selection, alias: str, order: list[exp.Ordered]
) -> exp.Select:
    """Order and limit whole units (studies or patients) of the series ``query`` selects.

    Each selected series takes its position in the series order (``_pos``); a unit takes the
    position of its first selected series (``_unit_pos``), so units stand where their first
    series would; the first ``limit`` units are kept (``_units``: their keys, narrow, which
    costs little to sort), and the result is every series the query selects of them, a unit's
    series together and in the series order. Every series has a study and a patient (a key
    is never NULL in IDC), so the keys join by equality.
    """
    keys = UNIT_KEYS[sel.unit]
    named = [exp.to_identifier(f"_unit{i}") for i in range(len(keys))]
    position = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order))
    positions = query.copy()
    positions.set(
        "expressions",
        [
            *(
                exp.alias_(exp.column(k, table=alias), n, copy=False)
                for k, n in zip(keys, named, strict=True)
            ),
            exp.alias_(position, "_pos", copy=False),
        ],
    )
    first = exp.Min(this=exp.column("_pos"))
    units = (
        exp.select(*(exp.column(n) for n in named), exp.alias_(first, "_unit_pos", copy=False))
        .from_(
            exp.Subquery(this=positions, alias=exp.TableAlias(this=exp.to_identifier("_series"))),
            copy=False,
        )
        .group_by(*(exp.column(n) for n in named), copy=False)
    )
    if sel.limit is not None:
        ordered = exp.Ordered(this=exp.column("_unit_pos"), nulls_first=False)
        units = units.order_by(ordered, copy=False).limit(b.param(sel.limit), copy=False)
    on = [
        exp.EQ(this=exp.column(k, table=alias), expression=exp.column(n, table=UNITS))
        for k, n in zip(keys, named, strict=True)
    ]
    joined = query.join(
        exp.Subquery(this=units, alias=exp.TableAlias(this=exp.to_identifier(UNITS))),
        on=exp.and_(*on, copy=False),
        copy=False,
    )
    unit_first = exp.Ordered(this=exp.column("_unit_pos", table=UNITS), nulls_first=False)
    return joined.order_by(unit_first, *order, copy=False)
