"""Rendering: a plan becomes one sqlglot tree over a logical ``series`` relation, then SQL.

Every query has the same shape on every engine::

    WITH series AS (<one row per series: the fields the query reads>)
    SELECT <columns> FROM series WHERE <predicate> ORDER BY ... LIMIT @limit

What differs between engines is data, in :data:`TARGETS`: the source table, whether its rows are
instances (BigQuery's ``dicom_all``, grouped to series) or series (the local index), and how a
few operators are spelled. Values are always bound parameters (``@p0`` in BigQuery, ``$p0`` in
DuckDB); identifiers come only from the catalog and are quoted by sqlglot.

>>> from idc_sql.spec import parse_spec
>>> from idc_sql.plan import plan
>>> q = compile_plan(plan(parse_spec({"name": "ct", "where": {"Modality": "CT"}}), "local"))
>>> q.params
{'p0': 'CT'}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from .catalog import Field
from .plan import DEFAULT_ORDER, And, Atom, Has, Negate, Node, Or, Plan, Selection
from .plan import fields_in as _fields_in

SERIES = "series"
SEGMENT_MATCHES = "segment_matches"
REFERENCES = "segment_references"
ROW = "_row"
BIGQUERY_PUBLIC_PROJECT = "bigquery-public-data"


@dataclass(frozen=True)
class Target:
    """What one engine needs from the compiler; everything else is shared."""

    engine: str
    dialect: str
    #: source rows are instances, grouped to series by SeriesInstanceUID
    grouped: bool
    source: Callable[[Any, str], exp.Table]
    #: ``value IN list-parameter``; NULL when value is NULL
    in_list: Callable[[exp.Expr, exp.Expr], exp.Expr]
    #: LIKE needs an explicit ESCAPE '\\' to treat backslash as BigQuery does
    like_escape: bool
    #: an engine column of the series relation whose order is the canonical order
    #: (collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID); None: sort by those
    row_order: exp.Expr | None = None


def _local_source(version: Any, project: str) -> exp.Table:
    return exp.table_("idc_index")


def _bigquery_source(version: Any, project: str) -> exp.Table:
    dataset = "idc_current" if version == "current" else f"idc_v{int(version)}"
    return exp.table_("dicom_all", db=dataset, catalog=project, quoted=True)


TARGETS: dict[str, Target] = {
    "local": Target(
        engine="local",
        dialect="duckdb",
        grouped=False,
        source=_local_source,
        in_list=lambda value, values: exp.ArrayContains(this=values, expression=value),
        like_escape=True,
        # idc_index.parquet is written in the canonical order (idc_index.sql ends with
        # ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID; a test checks
        # it), so its row number sorts without reading the UID strings.
        row_order=exp.column("file_row_number"),
    ),
    "bigquery": Target(
        engine="bigquery",
        dialect="bigquery",
        grouped=True,
        source=_bigquery_source,
        in_list=lambda value, values: exp.In(this=value, unnest=exp.Unnest(expressions=[values])),
        like_escape=False,
    ),
}


@dataclass
class Compiled:
    """A query ready for one engine: its tree, its SQL text and its bound parameters."""

    engine: str
    dialect: str
    tree: exp.Expr
    params: dict[str, Any]
    columns: tuple[str, ...]
    output: tuple[str, ...]

    @property
    def sql(self) -> str:
        return self.tree.sql(dialect=self.dialect, pretty=True)


@dataclass
class _Builder:
    target: Target
    params: dict[str, Any] = field(default_factory=dict)
    #: instance-level atoms (grouped engines): atom -> column name in the series relation
    aggregates: dict[Atom, str] = field(default_factory=dict)
    #: segment-level atoms: atom -> column name, aggregated over each SEG series' segments
    segment_aggregates: dict[Atom, str] = field(default_factory=dict)
    #: a segmented_by relation needs the SEG -> segmented series references
    references: bool = False
    depth: int = 0

    #: (id of an atom, operator, slot) -> its parameter: an atom rendered twice binds its values
    #: once (by identity: atoms that are merely equal, [1, 2] and [1.0, 2], keep their own types)
    bound: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def param(self, value: Any, key: tuple[Any, ...] | None = None) -> exp.Expr:
        name = self.bound.get(key) if key is not None else None
        if name is None:
            name = f"p{len(self.params)}"
            self.params[name] = list(value) if isinstance(value, tuple) else value
            if key is not None:
                self.bound[key] = name
        return exp.Placeholder(this=name)

    # ---- atoms

    def condition(self, atom: Atom, value: exp.Expr) -> exp.Expr:
        """The atom's operators, ANDed, over ``value`` (the field read per row)."""
        parts = [
            self.operator(atom.field, op, arg, value, key=(id(atom), i))
            for i, (op, arg) in enumerate(atom.ops)
        ]
        return parts[0] if len(parts) == 1 else exp.and_(*parts, copy=False)

    def operator(
        self, f: Field, op: str, arg: Any, raw: exp.Expr, key: tuple[Any, ...] = ()
    ) -> exp.Expr:
        def bind(value: Any, slot: int = 0) -> exp.Expr:
            return self.param(value, (*key, slot) if key else None)

        if op == "is_null":
            missing: exp.Expr = exp.Is(this=raw.copy(), expression=exp.Null())
            if f.repeated:
                size = exp.ArraySize(this=raw.copy())
                missing = exp.or_(
                    missing, exp.EQ(this=size, expression=exp.Literal.number(0)), copy=False
                )
            return missing if arg else exp.Not(this=exp.paren(missing))
        if op == "contains":
            return exp.ArrayContains(this=raw.copy(), expression=bind(arg))
        value = _typed(f, raw.copy())
        if op == "in":
            return self.target.in_list(value, bind(arg))
        if op == "not_in":
            return exp.Not(this=self.target.in_list(value, bind(arg)))
        if op == "between":
            return exp.Between(this=value, low=bind(arg[0]), high=bind(arg[1], 1))
        if op in ("like", "ilike"):
            node: exp.Expr = (exp.Like if op == "like" else exp.ILike)(
                this=value, expression=bind(arg)
            )
            if self.target.like_escape:
                node = exp.Escape(this=node, expression=exp.Literal.string("\\"))
            return node
        if op == "regex":
            return exp.RegexpLike(this=value, expression=bind(arg))
        compare = {
            "eq": exp.EQ,
            "ne": exp.NEQ,
            "lt": exp.LT,
            "lte": exp.LTE,
            "gt": exp.GT,
            "gte": exp.GTE,
        }[op]
        return compare(this=value, expression=bind(arg))

    # ---- predicates over the series relation

    def predicate(self, node: Node, alias: str) -> exp.Expr:
        if isinstance(node, Atom):
            if node.field.instance_level:
                return exp.column(self.aggregates[node], table=alias)
            if node.field.segment_level:
                return exp.column(self.segment_aggregates[node], table=alias)
            return self.condition(node, exp.column(node.field.name, table=alias))
        if isinstance(node, And):
            return exp.and_(*(self.predicate(i, alias) for i in node.items), copy=False)
        if isinstance(node, Or):
            return exp.or_(*(self.predicate(i, alias) for i in node.items), copy=False)
        if isinstance(node, Negate):
            inner = self.predicate(node.item, alias)
            return exp.Not(this=exp.Coalesce(this=inner, expressions=[exp.false()]))
        assert isinstance(node, Has)
        self.depth += 1
        inner_alias = f"s{self.depth}"
        if node.level == "segmentation":
            return self.segmented_by(node, alias, inner_alias)
        keys = ("StudyInstanceUID",) if node.level == "study" else ("collection_id", "PatientID")
        joins = [
            exp.EQ(this=exp.column(k, table=inner_alias), expression=exp.column(k, table=alias))
            for k in keys
        ]
        sub = (
            exp.select(exp.Literal.number(1))
            .from_(exp.table_(SERIES).as_(inner_alias, copy=False), copy=False)
            .where(exp.and_(*joins, self.predicate(node.item, inner_alias), copy=False), copy=False)
        )
        return exp.Exists(this=sub)

    def segmented_by(self, node: Has, alias: str, inner: str) -> exp.Expr:
        """EXISTS a SEG series that references this series and matches the predicate."""
        refs = f"r{self.depth}"
        sub = (
            exp.select(exp.Literal.number(1))
            .from_(exp.table_(REFERENCES).as_(refs, copy=False), copy=False)
            .join(
                exp.table_(SERIES).as_(inner, copy=False),
                on=exp.EQ(
                    this=exp.column("SeriesInstanceUID", table=inner),
                    expression=exp.column("seg_series", table=refs),
                ),
                copy=False,
            )
            .where(
                exp.and_(
                    exp.EQ(
                        this=exp.column("segmented_series", table=refs),
                        expression=exp.column("SeriesInstanceUID", table=alias),
                    ),
                    self.predicate(node.item, inner),
                    copy=False,
                ),
                copy=False,
            )
        )
        return exp.Exists(this=sub)

    def _references(self, source: exp.Table) -> exp.Select:
        """SEG series and the series they segment, from the catalog's readings per instance."""
        from .catalog import field as catalog_field

        referenced = catalog_field("referenced_series").reading(self.target.engine)
        modality = catalog_field("Modality").reading(self.target.engine)
        assert referenced is not None
        assert isinstance(modality, exp.AnyValue)
        # BigQuery names an UNNEST's element by a column alias
        ref = exp.Unnest(
            expressions=[referenced],
            alias=exp.TableAlias(columns=[exp.to_identifier("segmented_series")]),
        )
        return (
            exp.select(
                exp.column("SeriesInstanceUID", table="dicom_all").as_("seg_series", copy=False),
                exp.column("segmented_series"),
            )
            .distinct(copy=False)
            .from_(source.copy().as_("dicom_all", copy=False), copy=False)
            .join(ref, join_type="cross", copy=False)
            .where(exp.EQ(this=modality.this, expression=exp.Literal.string("SEG")), copy=False)
        )

    # ---- the series relation

    def collect(self, node: Node | None) -> None:
        """Name a column for every atom that is aggregated: per instance, or per segment."""
        if node is None:
            return
        if isinstance(node, Atom):
            if node.field.instance_level and node not in self.aggregates:
                self.aggregates[node] = f"_match{len(self.aggregates)}"
            if node.field.segment_level and node not in self.segment_aggregates:
                self.segment_aggregates[node] = f"_segment{len(self.segment_aggregates)}"
        elif isinstance(node, And | Or):
            for item in node.items:
                self.collect(item)
        else:
            if isinstance(node, Has) and node.level == "segmentation":
                self.references = True
            self.collect(node.item)

    def side_relations(self, version: Any, project: str) -> list[tuple[str, exp.Select]]:
        """CTEs the series relation and the predicates read besides dicom_all."""
        out = []
        source = self.target.source(version, project)
        if self.segment_aggregates:
            segments = exp.table_(
                "segmentations", db=source.db, catalog=source.catalog, quoted=True
            ).as_("seg", copy=False)
            matches = [
                exp.column("SeriesInstanceUID", table="seg").as_("SeriesInstanceUID", copy=False)
            ]
            for atom, name in self.segment_aggregates.items():
                read = atom.field.reading(self.target.engine)
                assert read is not None
                matches.append(
                    exp.alias_(exp.LogicalOr(this=self.condition(atom, read)), name, copy=False)
                )
            out.append(
                (
                    SEGMENT_MATCHES,
                    exp.select(*matches)
                    .from_(segments, copy=False)
                    .group_by(exp.column("SeriesInstanceUID", table="seg"), copy=False),
                )
            )
        if self.references:
            out.append((REFERENCES, self._references(source)))
        return out

    def series(
        self, fields: list[Field], version: Any, project: str, narrowing: exp.Expr | None = None
    ) -> exp.Select:
        """The series relation; on BigQuery, dicom_all grouped by series, first narrowed to
        the rows ``narrowing`` keeps (a condition over dicom_all's own columns)."""
        selects: list[exp.Expr] = []
        curated = False
        for f in fields:
            reading = f.reading(self.target.engine)
            assert reading is not None, f.name
            curated = curated or f.curated
            selects.append(exp.alias_(reading, f.name, quoted=True, copy=False))
        for atom, name in self.aggregates.items():
            read = atom.field.reading(self.target.engine)
            assert read is not None
            cond = self.condition(atom, read)
            if atom.instances == "all":
                agg: exp.Expr = exp.LogicalAnd(
                    this=exp.Coalesce(this=cond, expressions=[exp.false()])
                )
            else:
                agg = exp.LogicalOr(this=cond)
            selects.append(exp.alias_(agg, name, copy=False))
        for name in self.segment_aggregates.values():
            # one row per SEG series in segment_matches; a series without segments: no match
            selects.append(
                exp.alias_(
                    exp.AnyValue(this=exp.column(name, table="segment_matches")), name, copy=False
                )
            )
        source = self.target.source(version, project)
        if self.target.row_order is not None:
            selects.append(exp.alias_(self.target.row_order.copy(), ROW, copy=False))
        if not self.target.grouped:
            return exp.select(*selects).from_(source, copy=False)
        query = exp.select(*selects).from_(source.as_("dicom_all", copy=False), copy=False)
        if self.segment_aggregates:
            query = query.join(
                exp.table_(SEGMENT_MATCHES).as_("segment_matches", copy=False),
                on=exp.EQ(
                    this=exp.column("SeriesInstanceUID", table="dicom_all"),
                    expression=exp.column("SeriesInstanceUID", table="segment_matches"),
                ),
                join_type="left",
                copy=False,
            )
        if curated:
            query = query.join(
                exp.table_(
                    "dicom_metadata_curated", db=source.db, catalog=source.catalog, quoted=True
                ).as_("curated", copy=False),
                on=exp.EQ(
                    this=exp.column("SOPInstanceUID", table="dicom_all"),
                    expression=exp.column("SOPInstanceUID", table="curated"),
                ),
                join_type="left",
                copy=False,
            )
        if narrowing is not None:
            query = query.where(narrowing, copy=False)
        return query.group_by(exp.column("SeriesInstanceUID", table="dicom_all"), copy=False)


def compile_plan(plan: Plan, *, project: str = BIGQUERY_PUBLIC_PROJECT) -> Compiled:
    """Render ``plan`` for its engine.

    ``project`` is the BigQuery project holding the ``idc_vNN`` datasets (tests point it at an
    emulator's copy); the local engine ignores it.
    """
    target = TARGETS[plan.engine]
    b = _Builder(target)
    sel = plan.selection
    _collect_selection(b, sel)

    needed: dict[str, Field] = {}
    for f in (*plan.output, *_selection_fields(sel)):
        if not (f.instance_level or f.segment_level):
            needed.setdefault(f.name, f)
    if target.row_order is None:
        from .catalog import field as catalog_field

        for name in DEFAULT_ORDER:
            needed.setdefault(name, catalog_field(name))
    if target.grouped:
        # SeriesInstanceUID is the grouping key: read it first, unaggregated.
        needed = {"SeriesInstanceUID": needed.pop("SeriesInstanceUID"), **needed}

    series = b.series(list(needed.values()), plan.idc_version, project, _narrowing(b, sel))
    outer = exp.select(*(exp.column(f.name, quoted=True) for f in plan.output)).from_(
        SERIES, copy=False
    )
    outer = _restrict(b, outer, sel, SERIES)
    for name, relation in b.side_relations(plan.idc_version, project):
        outer = outer.with_(name, as_=relation, copy=False)
    tree = outer.with_(SERIES, as_=series, copy=False)
    return Compiled(
        engine=target.engine,
        dialect=target.dialect,
        tree=tree,
        params=b.params,
        columns=tuple(f.name for f in plan.columns),
        output=tuple(f.name for f in plan.output),
    )


def _narrowing(b: _Builder, sel: Selection) -> exp.Expr | None:
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


def _collect_selection(b: _Builder, sel: Selection) -> None:
    b.collect(sel.where)
    for member in sel.members:
        _collect_selection(b, member)


def _selection_fields(sel: Selection) -> list[Field]:
    out = _fields_in(sel.where) + [f for f, _ in sel.order]
    for member in sel.members:
        out += _selection_fields(member)
    return out


def _restrict(
    b: _Builder, query: exp.Select, sel: Selection, alias: str, *, top: bool = True
) -> exp.Select:
    """Apply the selection's predicate or set operation, then its order and limit.

    A set's members are ordered only when a limit makes their order matter.
    """
    if sel.operation is not None:
        parts = [
            _restrict(
                b,
                exp.select(exp.column("SeriesInstanceUID")).from_(SERIES, copy=False),
                m,
                SERIES,
                top=False,
            )
            for m in sel.members
        ]
        combine = {"union": exp.union, "intersect": exp.intersect, "except": exp.except_}
        combined: exp.Expr = exp.Subquery(this=parts[0])
        for part in parts[1:]:
            combined = combine[sel.operation](
                combined, exp.Subquery(this=part), distinct=True, copy=False
            )
        query = query.where(
            exp.In(
                this=exp.column("SeriesInstanceUID", table=alias), query=exp.Subquery(this=combined)
            ),
            copy=False,
        )
    elif sel.where is not None:
        query = query.where(b.predicate(sel.where, alias), copy=False)
    if not top and sel.limit is None:
        return query
    # ordered as compared: numbers stored as DICOM strings as numbers
    order = [
        exp.Ordered(this=_typed(f, exp.column(f.name, quoted=True)), desc=desc, nulls_first=False)
        for f, desc in sel.order
    ]
    if b.target.row_order is not None:
        order.append(exp.Ordered(this=exp.column(ROW), desc=False, nulls_first=False))
    else:
        named = {f.name for f, _ in sel.order}
        order += [
            exp.Ordered(this=exp.column(n, quoted=True), desc=False, nulls_first=False)
            for n in DEFAULT_ORDER
            if n not in named
        ]
    query = query.order_by(*order, copy=False)
    if sel.limit is not None:
        query = query.limit(b.param(sel.limit), copy=False)
    return query


def _typed(f: Field, value: exp.Expr) -> exp.Expr:
    """How a field compares: numbers stored as DICOM strings compare as numbers, dates as dates."""
    if f.kind == "number" and f.bq_type == "STRING":
        return exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
    if f.kind == "date":
        return exp.TryCast(this=value, to=exp.DataType.build("DATE"))
    return value
