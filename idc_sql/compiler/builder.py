"""The compiler's builder: atoms, predicates and the series relation as sqlglot trees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from ..catalog import Field
from ..plan import And, Atom, Has, Negate, Node, Or, Within, per_value
from ..targets import LIST_RELATION_FROM, Target

SERIES = "series"
SEGMENT_MATCHES = "segment_matches"
REFERENCES = "segment_references"
ROW = "_row"
#: the SOP classes of segmentations: SEG (binary, fractional; label map) and RTSTRUCT
SEGMENTATION_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.66.4",
    "1.2.840.10008.5.1.4.1.1.66.7",
    "1.2.840.10008.5.1.4.1.1.481.3",
)
#: how a condition names one value of a multi-valued field
ELEMENT = "_value"


@dataclass
class Builder:
    target: Target
    #: where the local engine keeps the release's tables (None: its default schema)
    schema: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: instance-level atoms (grouped engines): atom -> column name in the series relation
    aggregates: dict[Atom, str] = field(default_factory=dict)
    #: segment-level atoms: atom -> column name, aggregated over each SEG series' segments
    segment_aggregates: dict[Atom, str] = field(default_factory=dict)
    #: a segmented_by or segments relation needs the SEG -> segmented series references
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

    def condition(self, atom: Atom, value: exp.Expr, *, inline: bool = False) -> exp.Expr:
        """The atom's operators, ANDed, over ``value`` (the field read per row); ``inline``:
        lists are searched in place (within a per-element function, where no relation joins)."""
        parts = [
            self.operator(atom.field, op, arg, value, key=(id(atom), i), inline=inline)
            for i, (op, arg) in enumerate(atom.ops)
        ]
        return parts[0] if len(parts) == 1 else exp.and_(*parts, copy=False)

    def values_condition(self, atom: Atom, joined: exp.Expr) -> exp.Expr:
        """A multi-valued field's condition over the series' joined value: some element (every
        one, with ``instances: all``) of its values matches."""
        sep = atom.field.separator
        assert sep is not None

        def values() -> exp.Expr:
            return exp.Split(this=joined.copy(), expression=exp.Literal.string(sep))

        cond = self.condition(atom, exp.column(ELEMENT), inline=True)
        if atom.instances != "all":
            return self.target.any_element(values(), ELEMENT, cond)
        failing = exp.Not(this=exp.Coalesce(this=cond, expressions=[exp.false()]))
        present = exp.Not(this=exp.Is(this=joined.copy(), expression=exp.Null()))
        return exp.and_(
            present, exp.Not(this=self.target.any_element(values(), ELEMENT, failing)), copy=False
        )

    def operator(
        self,
        f: Field,
        op: str,
        arg: Any,
        raw: exp.Expr,
        key: tuple[Any, ...] = (),
        *,
        inline: bool = False,
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
        if op == "has":
            return self.within(raw, arg, inline=inline)
        value = _typed(f, raw.copy())
        if op in ("in", "not_in"):
            member = self.member(value, bind(arg), 0 if inline else len(arg))
            return member if op == "in" else exp.Not(this=member)
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

    def within(self, sequence: exp.Expr, within: Within, *, inline: bool) -> exp.Expr:
        """``EXISTS(SELECT 1 FROM UNNEST(sequence) AS _eN WHERE ...)``: some element meets
        every item (each reads its sub-field on the element ``_eN``)."""
        parts = []
        for item in within.items:
            read = self.target.reading(item.field)
            assert read is not None, item.field.name
            parts.append(self.condition(item, read, inline=inline))
        rows = exp.Unnest(
            expressions=[sequence.copy()],
            alias=exp.TableAlias(columns=[exp.to_identifier(within.alias)]),
        )
        where = parts[0] if len(parts) == 1 else exp.and_(*parts, copy=False)
        return exp.Exists(
            this=exp.select(exp.Literal.number(1)).from_(rows, copy=False).where(where, copy=False)
        )

    def member(self, value: exp.Expr, values: exp.Expr, count: int) -> exp.Expr:
        """``value`` is one of the list parameter ``values`` (NULL when ``value`` is NULL).

        A long list is a relation the engine joins by hash (a semi-join, an anti-join under
        NOT); a short one is searched in place, as a list.
        """
        if count > LIST_RELATION_FROM:
            return exp.In(this=value, query=exp.Subquery(this=self.target.list_rows(values)))
        return self.target.in_list(value, values)

    # ---- predicates over the series relation

    def predicate(self, node: Node, alias: str) -> exp.Expr:
        if isinstance(node, Atom):
            if node in self.aggregates:
                return exp.column(self.aggregates[node], table=alias)
            if node.field.segment_level:
                return exp.column(self.segment_aggregates[node], table=alias)
            column = exp.column(node.field.name, table=alias)
            if per_value(node):
                return self.values_condition(node, column)
            return self.condition(node, column)
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
        if node.level in ("segmentation", "segments"):
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
        """EXISTS a reference between this series and a series matching the predicate: a SEG or
        RTSTRUCT that segments this series (``segmentation``), or a series this SEG or RTSTRUCT
        segments (``segments``)."""
        refs = f"r{self.depth}"
        mine, theirs = ("segmented_series", "seg_series")
        if node.level == "segments":
            mine, theirs = theirs, mine
        sub = (
            exp.select(exp.Literal.number(1))
            .from_(exp.table_(REFERENCES).as_(refs, copy=False), copy=False)
            .join(
                exp.table_(SERIES).as_(inner, copy=False),
                on=exp.EQ(
                    this=exp.column("SeriesInstanceUID", table=inner),
                    expression=exp.column(theirs, table=refs),
                ),
                copy=False,
            )
            .where(
                exp.and_(
                    exp.EQ(
                        this=exp.column(mine, table=refs),
                        expression=exp.column("SeriesInstanceUID", table=alias),
                    ),
                    self.predicate(node.item, inner),
                    copy=False,
                ),
                copy=False,
            )
        )
        return exp.Exists(this=sub)

    def _references(self, source: exp.Table) -> exp.Query:
        """SEG and RTSTRUCT series and the series they segment, as IDC's seg_index and
        rtstruct_index find them: the series a SEG names (ReferencedSeriesSequence) or an
        RTSTRUCT names (ReferencedFrameOfReferenceSequence > RTReferencedStudySequence >
        RTReferencedSeriesSequence); when an instance names none, the series holding the
        instances it references (ReferencedImageSequence, else SourceImageSequence)."""
        from ..catalog import field as catalog_field

        named = self.target.reading(catalog_field("referenced_series"))
        referenced = self.target.reading(catalog_field("referenced_instances"))
        assert named is not None
        assert referenced is not None
        # by SOP class, as IDC's indices select them (more reliable than Modality)
        segmentation = exp.In(
            this=exp.column("SOPClassUID", table="dicom_all"),
            expressions=[exp.Literal.string(uid) for uid in SEGMENTATION_SOP_CLASSES],
        )
        by_series = (
            exp.select(
                exp.column("SeriesInstanceUID", table="dicom_all").as_("seg_series", copy=False),
                exp.column("segmented_series"),
            )
            .from_(source.copy().as_("dicom_all", copy=False), copy=False)
            .join(_unnest(named.copy(), "segmented_series"), join_type="cross", copy=False)
            .where(segmentation.copy(), copy=False)
        )
        by_instance = (
            exp.select(
                exp.column("SeriesInstanceUID", table="dicom_all").as_("seg_series", copy=False),
                exp.column("SeriesInstanceUID", table="image").as_("segmented_series", copy=False),
            )
            .from_(source.copy().as_("dicom_all", copy=False), copy=False)
            .join(_unnest(referenced, "referenced_instance"), join_type="cross", copy=False)
            .join(
                source.copy().as_("image", copy=False),
                on=exp.EQ(
                    this=exp.column("SOPInstanceUID", table="image"),
                    expression=exp.column("referenced_instance"),
                ),
                copy=False,
            )
            .where(
                exp.and_(
                    segmentation,
                    exp.EQ(this=exp.ArraySize(this=named), expression=exp.Literal.number(0)),
                    copy=False,
                ),
                copy=False,
            )
        )
        return exp.union(by_series, by_instance, distinct=True, copy=False)

    # ---- the series relation

    def per_instance(self, atom: Atom) -> exp.Expr | None:
        """What ``atom`` tests on each instance, when its condition is aggregated over a series'
        instances: an instance-level field, or a multi-valued field whose values are the
        instances' on an engine whose rows are instances. None: tested per series."""
        if atom.field.instance_level:
            return self.target.reading(atom.field)
        if per_value(atom):
            build = self.target.values(atom.field)
            return None if build is None else build()
        return None

    def collect(self, node: Node | None) -> None:
        """Name a column for every atom that is aggregated: per instance, or per segment."""
        if node is None:
            return
        if isinstance(node, Atom):
            if self.per_instance(node) is not None and node not in self.aggregates:
                self.aggregates[node] = f"_match{len(self.aggregates)}"
            if node.field.segment_level and node not in self.segment_aggregates:
                self.segment_aggregates[node] = f"_segment{len(self.segment_aggregates)}"
        elif isinstance(node, And | Or):
            for item in node.items:
                self.collect(item)
        else:
            if isinstance(node, Has) and node.level in ("segmentation", "segments"):
                self.references = True
            self.collect(node.item)

    def side_relations(self, dataset: str, project: str) -> list[tuple[str, exp.Query]]:
        """CTEs the series relation and the predicates read besides dicom_all."""
        out: list[tuple[str, exp.Query]] = []
        source = self.target.table(self.target.series_source, dataset, project, self.schema)
        if self.segment_aggregates:
            segments = self.target.table("segmentations", dataset, project, self.schema).as_(
                "seg", copy=False
            )
            matches = [
                exp.column("SeriesInstanceUID", table="seg").as_("SeriesInstanceUID", copy=False)
            ]
            for atom, name in self.segment_aggregates.items():
                read = self.target.reading(atom.field)
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
        self, fields: list[Field], dataset: str, project: str, narrowing: exp.Expr | None = None
    ) -> exp.Select:
        """The series relation; on BigQuery, dicom_all grouped by series, first narrowed to
        the rows ``narrowing`` keeps (a condition over dicom_all's own columns)."""
        selects: list[exp.Expr] = []
        curated = False
        for f in fields:
            reading = self.target.reading(f)
            assert reading is not None, f.name
            curated = curated or f.curated
            selects.append(exp.alias_(reading, f.name, quoted=True, copy=False))
        for atom, name in self.aggregates.items():
            read = self.per_instance(atom)
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
        source = self.target.table(self.target.series_source, dataset, project, self.schema)
        if self.target.row_order is not None:
            selects.append(exp.alias_(self.target.row_order(), ROW, copy=False))
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
                self.target.table("dicom_metadata_curated", dataset, project, self.schema).as_(
                    "curated", copy=False
                ),
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


def _unnest(values: exp.Expr, name: str) -> exp.Unnest:
    # BigQuery names an UNNEST's element by a column alias
    return exp.Unnest(expressions=[values], alias=exp.TableAlias(columns=[exp.to_identifier(name)]))


def _typed(f: Field, value: exp.Expr) -> exp.Expr:
    """How a field compares: numbers stored as DICOM strings compare as numbers, dates as dates."""
    if f.kind == "number" and f.bq_type == "STRING":
        return exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
    if f.kind == "date":
        return exp.TryCast(this=value, to=exp.DataType.build("DATE"))
    return value
