"""Summaries by field: a cohort's series, studies, patients and size per value of some fields
(``idc-sql count SPEC --by FIELD``), and the values a field takes (``idc-sql values FIELD``).

The cohort runs on its engine as any other, carrying the fields grouped by; the groups are
then counted over its rows, which every engine hands over as a DuckDB relation (see
:class:`idc_sql.engines.base.Rows`), with one query built as a sqlglot tree. So both engines
group alike, and on BigQuery the query reads no more columns than the fields named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .errors import Option, UnsupportedError, UsageError

if TYPE_CHECKING:
    import pandas

    from .catalog import Field
    from .result import CohortResult
    from .targets import Target

#: the columns of a summary by field, after the fields grouped by (no field is so named)
COUNTS = ("series", "studies", "patients", "size_mb")
#: the most fields a summary groups by
MAX_FIELDS = 8


def by_fields(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The fields of ``--by FIELD[,FIELD...]`` (or a list of them), each once, in order."""
    names = text.split(",") if isinstance(text, str) else list(text)
    fields = tuple(dict.fromkeys(n.strip() for n in names))
    if not fields or any(not n for n in fields):
        raise UsageError(Option("by"), f" takes field names separated by commas, got {text!r}")
    if len(fields) > MAX_FIELDS:
        raise UsageError(Option("by"), f" takes at most {MAX_FIELDS} fields, got {len(fields)}")
    return fields


def check_by(by: tuple[str, ...], target: Target, option: str = "by") -> tuple[str, ...]:
    """The fields of ``by`` as the catalog names them: series-level fields ``target`` reads.
    Messages name them as the ``option`` they were given by."""
    from . import catalog
    from .targets import reading_engines, run_on

    out = []
    for name in by:
        try:
            f = catalog.field(name)
        except KeyError:
            close = catalog.suggest(name, [n for n, f in catalog.FIELDS.items() if _groups(f)])
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(Option(option, name), f": unknown field {name!r}{hint}") from None
        if not _groups(f):
            raise UsageError(
                Option(option, name),
                f": {f.name} is recorded per instance and a series has many values; "
                "group by series-level fields",
            )
        if target.read(f) is None:
            raise UnsupportedError(
                "",
                *(Option(option, name), f": {f.name} {target.lacks(f)}; "),
                *run_on(reading_engines(f)),
            )
        out.append(f.name)
    return tuple(dict.fromkeys(out))


def _groups(f: Field) -> bool:
    return not (f.instance_level or f.segment_level)


def grouped_query(result: CohortResult, by: tuple[str, ...]) -> exp.Select:
    """Series, studies, patients (per collection) and size in MB per value of ``by`` over
    ``result``'s rows, most series first, then by value (missing values last)."""
    rows = result.query.copy()
    if rows.args.get("limit") is None:
        rows.set("order", None)  # order matters to a limit only
    cohort = rows.subquery("cohort")
    keys = [exp.column(name, quoted=True) for name in by]

    def distinct(*columns: str) -> exp.Expr:
        key = [exp.column(c) for c in columns]
        inner = key if len(key) == 1 else [exp.Tuple(expressions=key)]
        return exp.Count(this=exp.Distinct(expressions=inner))

    size = exp.Coalesce(
        this=exp.Sum(this=exp.column("series_size_MB")), expressions=[exp.Literal.number(0)]
    )
    counts = [exp.Count(this=exp.Star()), distinct("StudyInstanceUID")]
    counts += [distinct("collection_id", "PatientID"), size]
    query = exp.select(
        *(exp.alias_(k.copy(), name, quoted=True) for k, name in zip(keys, by, strict=True)),
        *(exp.alias_(c, name, quoted=True) for c, name in zip(counts, COUNTS, strict=True)),
    ).from_(cohort)
    query = query.group_by(*(k.copy() for k in keys), copy=False)
    order = [exp.Ordered(this=exp.column("series", quoted=True), desc=True)]
    order += [exp.Ordered(this=k.copy(), nulls_first=False) for k in keys]
    return query.order_by(*order, copy=False)


@dataclass(frozen=True)
class Groups:
    """A cohort's summary by field: one row per value (or combination of values)."""

    by: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        names = (*self.by, *COUNTS)
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def groups(result: CohortResult, by: tuple[str, ...]) -> Groups:
    """The summary of ``result`` by the fields ``by`` (which its rows carry)."""
    return Groups(by, [tuple(r) for r in result.fetch(grouped_query(result, by))])


def frame(result: CohortResult, by: tuple[str, ...]) -> pandas.DataFrame:
    """The summary of ``result`` by ``by`` as a pandas DataFrame."""
    df: pandas.DataFrame = result.fetch(grouped_query(result, by), "df")
    return df
