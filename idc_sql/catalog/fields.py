"""A catalog field, and the builders of its readings (sqlglot trees from catalog constants)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

Level = Literal["collection", "patient", "study", "series", "instance", "segment"]
Kind = Literal["string", "number", "date", "strings", "numbers", "sequence"]

Builder = Callable[[], exp.Expr]


def _col(name: str, table: str = "dicom_all") -> exp.Column:
    return exp.column(name, table=table)


def _any_value(inner: exp.Expr) -> exp.Expr:
    return exp.AnyValue(this=inner)


def _case(subject: exp.Expr, mapping: dict[str, str]) -> exp.Expr:
    """CASE over catalog constants (UIDs and their names), never user values."""
    case = exp.Case(this=subject)
    for key, value in sorted(mapping.items()):
        case = case.when(exp.Literal.string(key), exp.Literal.string(value))
    return case


def _distinct_list(inner: exp.Expr) -> exp.Expr:
    """STRING_AGG(DISTINCT x, ',' ORDER BY x): how idc_index lists values that vary in a series."""
    # NULLS FIRST is BigQuery's own order for ASC; STRING_AGG drops NULLs anyway.
    ordered = exp.Order(expressions=[exp.Ordered(this=inner.copy(), nulls_first=True)])
    return exp.GroupConcat(
        this=exp.Order(this=exp.Distinct(expressions=[inner]), expressions=ordered.expressions),
        separator=exp.Literal.string(","),
    )


def _nullif_empty(inner: exp.Expr) -> exp.Expr:
    return exp.Nullif(this=inner, expression=exp.Literal.string(""))


def _age_years(age: exp.Expr) -> exp.Expr:
    """Years from a DICOM Age String (nnnD, nnnW, nnnM or nnnY)."""
    number = exp.TryCast(
        this=exp.Substring(
            this=age.copy(), start=exp.Literal.number(1), length=exp.Literal.number(3)
        ),
        to=exp.DataType.build("DOUBLE"),
    )
    unit = exp.Substring(this=age.copy(), start=exp.Literal.number(4), length=exp.Literal.number(1))
    per_year = (
        exp.Case(this=unit)
        .when(exp.Literal.string("Y"), exp.Literal.number(1))
        .when(exp.Literal.string("M"), exp.Literal.number(12))
        .when(exp.Literal.string("W"), exp.Literal.number("52.1775"))
        .when(exp.Literal.string("D"), exp.Literal.number("365.25"))
    )
    return exp.Div(this=number, expression=exp.paren(per_year), safe=False)


def _as_int(inner: exp.Expr) -> exp.Expr:
    return exp.TryCast(this=inner, to=exp.DataType.build("BIGINT"))


def _as_string(inner: exp.Expr) -> exp.Expr:
    return exp.TryCast(this=inner, to=exp.DataType.build("TEXT"))


@dataclass(frozen=True)
class Field:
    """One field of the catalog."""

    name: str
    level: Level
    kind: Kind
    bq_type: str
    bq_mode: str
    description: str
    #: builds the DuckDB reading over ``idc_index``; None when the local index lacks the field
    local: Builder | None
    #: builds the BigQuery reading over ``dicom_all`` (a series aggregate, or per instance)
    bigquery: Builder
    #: the BigQuery reading joins dicom_metadata_curated (as idc_index.sql does)
    curated: bool = False
    #: STRING values that compare as numbers when a condition's values are numbers
    #: (columns from the live schema and elements of repeated DICOM strings)
    numeric_strings: bool = False
    #: multi-valued: the series' value is a list joined by this separator (the distinct values
    #: of its instances, or its collection's metadata); a condition selects a series when any
    #: of its values matches (``instances: all``: every one). None: one value
    separator: str | None = None
    #: the BigQuery reading per instance of a multi-valued field whose values are those of the
    #: series' instances: conditions are aggregated over the instances (None: split the value)
    instance_values: Builder | None = None
    #: a DICOM sequence (kind ``sequence``, a REPEATED RECORD): the fields of its elements,
    #: each read unqualified (the planner reads them on the element it names)
    members: tuple[Field, ...] = ()

    @property
    def multi_valued(self) -> bool:
        return self.separator is not None

    @property
    def instance_level(self) -> bool:
        return self.level == "instance"

    @property
    def segment_level(self) -> bool:
        return self.level == "segment"

    @property
    def repeated(self) -> bool:
        return self.kind in ("strings", "numbers")


def _series(
    name: str,
    level: Level,
    description: str,
    *,
    kind: Kind = "string",
    bq_type: str = "STRING",
    bigquery: Builder | None = None,
    local: Builder | None = None,
    curated: bool = False,
    separator: str | None = None,
    instance_values: Builder | None = None,
) -> Field:
    """A field of the local index (series level or above)."""
    return Field(
        name=name,
        level=level,
        kind=kind,
        bq_type=bq_type,
        bq_mode="NULLABLE",
        description=description,
        local=local or (lambda: exp.column(name)),
        bigquery=bigquery or (lambda: _any_value(_col(name))),
        curated=curated,
        separator=separator,
        instance_values=instance_values,
    )


def _instances_listed(name: str, description: str, per_instance: Builder) -> Field:
    """A series field of idc_index that lists its instances' distinct values, comma-joined:
    conditions read the values (locally split; on BigQuery per instance, ``per_instance``)."""
    return _series(
        name,
        "series",
        description,
        bigquery=lambda: _distinct_list(per_instance()),
        separator=",",
        instance_values=per_instance,
    )


#: how IDC joins the values of a collection's metadata (``cancer_types``, ``collection_cancerType``)
COLLECTION_SEPARATOR = ", "


def _collection_metadata(
    name: str, local_column: str, description: str, separator: str | None = COLLECTION_SEPARATOR
) -> Field:
    """A field of the series' collection: locally from ``collections_index`` (by collection_id),
    on BigQuery from dicom_all's own ``collection_*`` column."""

    def local() -> exp.Expr:
        held = exp.column("collection_id", table="c")
        own = exp.column("collection_id", table="idc_index")
        return exp.Subquery(
            this=exp.select(exp.column(local_column, table="c"))
            .from_(exp.table_("collections_index").as_("c", copy=False), copy=False)
            .where(exp.EQ(this=held, expression=own), copy=False)
        )

    return _series(
        name,
        "collection",
        description,
        local=local,
        separator=separator,
    )


def _instance(
    name: str, description: str, *, kind: Kind = "string", bq_type: str = "STRING"
) -> Field:
    """A per-instance attribute of dicom_all that the local index does not carry."""
    return Field(
        name=name,
        level="instance",
        kind=kind,
        bq_type=bq_type,
        bq_mode="REPEATED" if kind == "strings" else "NULLABLE",
        description=description,
        local=None,
        bigquery=lambda: _col(name),
    )


def _segment(name: str, description: str, record: str | None, column: str) -> Field:
    """A property of one segment of a DICOM SEG series (BigQuery's ``segmentations`` table)."""
    return Field(
        name=name,
        level="segment",
        kind="string",
        bq_type="STRING",
        bq_mode="NULLABLE",
        description=description,
        local=None,
        bigquery=lambda: (
            exp.column(column, table=record, db="seg")
            if record
            else exp.column(column, table="seg")
        ),
    )


def sequence(name: str, description: str, members: tuple[Field, ...]) -> Field:
    """A DICOM sequence of dicom_all: a REPEATED RECORD whose elements have ``members``
    (conditions name them under ``has``; the planner reads them on the element)."""
    return Field(
        name=name,
        level="instance",
        kind="sequence",
        bq_type="RECORD",
        bq_mode="REPEATED",
        description=description,
        local=None,
        bigquery=lambda: _col(name),
        members=members,
    )


def member(name: str, *, kind: Kind = "string", bq_type: str = "STRING") -> Field:
    """A scalar (or repeated, ``kind="strings"``) sub-field of a sequence's elements."""
    return Field(
        name=name,
        level="instance",
        kind=kind,
        bq_type=bq_type,
        bq_mode="REPEATED" if kind in ("strings", "numbers") else "NULLABLE",
        description=name,
        local=None,
        bigquery=lambda: exp.column(name),
        numeric_strings=bq_type == "STRING",
    )
