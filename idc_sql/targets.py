"""What each engine is, as data: its dialect, its relations, what it can answer, its options.

The planner, the compiler, the catalog's users and the command line ask these tables instead
of comparing an engine's name with a literal. Nothing here connects to anything or imports a
driver: compiling a query needs only this module.

>>> target("local").dialect, target("bigquery").dialect
('duckdb', 'bigquery')
>>> answering("segmented_by")
('bigquery',)
>>> target("bigquery").table("segmentations", "idc_v25").sql("bigquery")
'`bigquery-public-data`.`idc_v25`.`segmentations`'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import Option, UsageError

if TYPE_CHECKING:
    from sqlglot import exp

    from .catalog import Builder, Field

#: the BigQuery project that holds IDC's public datasets
BIGQUERY_PUBLIC_PROJECT = "bigquery-public-data"

#: a list of values (``in``, ``not_in``, a list of equal values) longer than this is bound as a
#: relation and joined by hash, rather than searched value by value for every row
LIST_RELATION_FROM = 1_000
#: how the compiler names a list bound as a relation: ``UNNEST(<list>) AS _list(_v)``
LIST_ALIAS = "_list"
LIST_COLUMN = "_v"

#: what an engine may be able to do beyond reading its series relation
Capability = str
CAPABILITIES: Mapping[Capability, str] = {
    "instance_fields": "conditions on per-instance DICOM attributes",
    "segment_fields": "conditions on the segments of DICOM SEG series",
    "segmented_by": "segmented_by (which series a SEG or RTSTRUCT references)",
    "segments": "segments (the SEG and RTSTRUCT series that reference a series)",
    "instance_columns": "per-instance values summed up per series as columns (.min, .max, "
    ".distinct)",
    "sequences": "conditions on nested DICOM sequences (REPEATED RECORD columns, with has)",
    "live_schema": "any dicom_all column, checked against the live schema",
    "any_release": "any IDC release (idc_vNN datasets)",
    "cost_guard": "a dry-run estimate and a cap on the bytes a query bills",
    "value_hints": "naming the values no series holds when a cohort is empty",
    "idc_datasets": "IDC's BigQuery tables (idc_vNN, idc_vNN_clinical) read directly",
    "index_sql": "IDC's indices derived from its own index SQL over the release's tables",
    "typed_parameters": "parameters bound with their BigQuery types (no casts in the SQL)",
}


@dataclass(frozen=True)
class Target:
    """One engine, as data."""

    name: str
    #: sqlglot's dialect for rendering
    dialect: str
    #: a phrase for people: what the engine reads
    description: str
    #: the relation whose rows the series relation is built from
    series_source: str
    #: its rows are instances, grouped to series by SeriesInstanceUID (else one row per series)
    grouped: bool
    #: how the catalog's field is read on this engine (None: the engine does not carry it)
    read: Callable[[Field], Builder | None]
    #: ``value IN list-parameter`` (NULL when value is NULL)
    in_list: Callable[[exp.Expr, exp.Expr], exp.Expr]
    #: the rows of a list parameter as a one-column relation (``LIST_COLUMN``), for
    #: ``value IN (SELECT ...)``: a hash semi-join (an anti-join under NOT), NULL when value is
    list_rows: Callable[[exp.Expr], exp.Select]
    #: a multi-valued field's reading per instance, when its values are those of the series'
    #: instances and the rows are instances: its conditions are aggregated over the instances
    #: like an instance-level field's (None: the series' joined value is split)
    values: Callable[[Field], Builder | None]
    #: ``some element of list matches``: ``(list, element name, condition on the element)``
    any_element: Callable[[exp.Expr, str, exp.Expr], exp.Expr]
    #: LIKE needs an explicit ESCAPE '\\' to treat backslash as BigQuery does
    like_escape: bool
    #: a column of the series source whose order is the canonical order (collection_id,
    #: PatientID, StudyInstanceUID, SeriesInstanceUID); None: sort by those
    row_order: Callable[[], exp.Expr] | None
    capabilities: frozenset[Capability]
    #: settings (library parameters) that apply to this engine
    options: tuple[str, ...]
    #: how a relation name becomes a table reference on this engine
    table_of: Callable[[str, str, str, str | None], exp.Table]
    #: why a field the engine does not read is missing here (completes "<field> ...")
    lacks: Callable[[Field], str]
    #: how to list the fields this engine reads
    fields_hint: str = ""

    def reading(self, f: Field) -> exp.Expr | None:
        """A fresh sqlglot tree of ``f``'s reading on this engine, or None."""
        build = self.read(f)
        return None if build is None else build()

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def table(
        self,
        name: str,
        dataset: str,
        project: str = BIGQUERY_PUBLIC_PROJECT,
        schema: str | None = None,
    ) -> exp.Table:
        """The table that holds IDC relation ``name`` for release ``dataset``."""
        return self.table_of(name, dataset, project, schema)


def _local_table(name: str, dataset: str, project: str, schema: str | None) -> exp.Table:
    from sqlglot import exp

    return exp.table_(name, db=schema)


def _bigquery_table(name: str, dataset: str, project: str, schema: str | None) -> exp.Table:
    from sqlglot import exp

    return exp.table_(name, db=dataset, catalog=project, quoted=True)


def _local_lacks(f: Field) -> str:
    if f.segment_level:
        return "describes the segments of DICOM SEG series (BigQuery's segmentations table)"
    return "is a per-instance DICOM attribute the local index does not carry"


def _local_in(value: exp.Expr, values: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    return exp.ArrayContains(this=values, expression=value)


def _local_row_order() -> exp.Expr:
    from sqlglot import exp

    return exp.column("file_row_number")


def _bigquery_in(value: exp.Expr, values: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    return exp.In(this=value, unnest=exp.Unnest(expressions=[values]))


def _unnested(values: exp.Expr, alias: exp.TableAlias) -> exp.Select:
    from sqlglot import exp

    rows = exp.Unnest(expressions=[values], alias=alias)
    return exp.select(exp.column(LIST_COLUMN)).from_(rows, copy=False)


def _local_list_rows(values: exp.Expr) -> exp.Select:
    from sqlglot import exp

    # UNNEST($p) AS _list(_v): the local engine binds such a list as a table of its own
    # (see engines.lists), found by this alias
    alias = exp.TableAlias(
        this=exp.to_identifier(LIST_ALIAS), columns=[exp.to_identifier(LIST_COLUMN)]
    )
    return _unnested(values, alias)


def _bigquery_list_rows(values: exp.Expr) -> exp.Select:
    from sqlglot import exp

    # BigQuery names an UNNEST's element by a column alias: UNNEST(@p) AS _v
    return _unnested(values, exp.TableAlias(columns=[exp.to_identifier(LIST_COLUMN)]))


def _local_any_element(values: exp.Expr, name: str, condition: exp.Expr) -> exp.Expr:
    # LEN(LIST_FILTER(list, LAMBDA x : c)) > 0: list functions, evaluated per row in place
    # (a correlated EXISTS over UNNEST is joined, measured 60 times slower)
    from sqlglot import exp

    lam = exp.Lambda(this=condition, expressions=[exp.to_identifier(name)])
    kept = exp.ArrayFilter(this=values, expression=lam)
    return exp.GT(this=exp.ArraySize(this=kept), expression=exp.Literal.number(0))


def _bigquery_any_element(values: exp.Expr, name: str, condition: exp.Expr) -> exp.Expr:
    # EXISTS(SELECT 1 FROM UNNEST(list) AS x WHERE c): BigQuery names an element by this alias
    from sqlglot import exp

    rows = exp.Unnest(expressions=[values], alias=exp.TableAlias(columns=[exp.to_identifier(name)]))
    return exp.Exists(
        this=exp.select(exp.Literal.number(1)).from_(rows, copy=False).where(condition, copy=False)
    )


TARGETS: Mapping[str, Target] = {
    "local": Target(
        name="local",
        dialect="duckdb",
        description="DuckDB over the installed idc-index-data",
        series_source="idc_index",
        grouped=False,
        read=lambda f: f.local,
        values=lambda f: None,
        any_element=_local_any_element,
        in_list=_local_in,
        list_rows=_local_list_rows,
        like_escape=True,
        # idc_index.parquet is written in the canonical order (idc_index.sql ends with
        # ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID; a test checks
        # it), so its row number sorts without reading the UID strings.
        row_order=_local_row_order,
        capabilities=frozenset({"value_hints"}),
        options=("index_dir",),
        table_of=_local_table,
        lacks=_local_lacks,
        fields_hint=" (`idc-sql fields --engine local` lists the local fields)",
    ),
    "bigquery": Target(
        name="bigquery",
        dialect="bigquery",
        description="BigQuery over bigquery-public-data.idc_vNN.dicom_all",
        series_source="dicom_all",
        grouped=True,
        read=lambda f: f.bigquery,
        values=lambda f: f.instance_values,
        any_element=_bigquery_any_element,
        in_list=_bigquery_in,
        list_rows=_bigquery_list_rows,
        like_escape=False,
        row_order=None,
        capabilities=frozenset(
            {
                "instance_fields",
                "segment_fields",
                "segmented_by",
                "segments",
                "sequences",
                "instance_columns",
                "live_schema",
                "any_release",
                "cost_guard",
                "idc_datasets",
                "index_sql",
                "typed_parameters",
            }
        ),
        options=("project", "endpoint", "max_gb", "dry_run"),
        table_of=_bigquery_table,
        lacks=lambda f: "is not read by BigQuery",
    ),
}

DEFAULT = "local"


def target(name: str) -> Target:
    """The engine named ``name``."""
    found = TARGETS.get(name)
    if found is None:
        raise UsageError(f"unknown engine {name!r}; choose one of {', '.join(TARGETS)}")
    return found


def answering(capability: Capability) -> tuple[str, ...]:
    """The engines that have ``capability``."""
    return tuple(t.name for t in TARGETS.values() if t.can(capability))


def reading_engines(f: Field) -> tuple[str, ...]:
    """The engines that read field ``f``."""
    return tuple(t.name for t in TARGETS.values() if t.read(f) is not None)


def run_on(names: tuple[str, ...]) -> tuple[Any, ...]:
    """Message pieces that send the user to the first of ``names``: ``engine="bigquery"``."""
    return ("run this cohort with ", Option("engine", names[0])) if names else ()
