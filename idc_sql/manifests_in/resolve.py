"""Which series a list of ``crdc_series_uuid`` values names, from the installed index.

One query answers every uuid at once (the uuids are bound as one list parameter): a uuid of the
current release is a row of ``idc_index``; one of an earlier release only, a row (or several:
one per bucket it was served from) of ``prior_versions_index``. What the index says of each
becomes a :class:`Series`: the releases that served that version, where its files are, and what
a download of it must hold (instances and bytes).

Sizes: ``idc_index`` gives a series' size in MB with six decimals (its bytes exactly);
``prior_versions_index`` rounds to two decimals, so an earlier version's bytes are known to
within 5,000. Instance counts are known for current versions only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sqlglot import exp

    from ..engines.local import LocalEngine

#: what a size rounded to 0.01 MB may be off by, in bytes
ROUNDED_MB = 5_000
#: the columns that place a series in the default layout (long strings: read when needed)
PLACES = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID")


class Series(NamedTuple):
    """What the installed index knows of one crdc_series_uuid (a tuple: there may be a
    million, made straight from the query's rows)."""

    crdc_series_uuid: str
    #: the installed release serves this version
    current: bool
    #: the releases that served this version, first to last
    first_release: int
    last_release: int
    collection_id: str | None
    aws_bucket: str | None
    #: the Google Cloud bucket the index names (earlier versions only; else from the AWS one)
    gcs_bucket: str | None
    #: how many instances (files) it holds; None where the index does not say
    instances: int | None
    size_bytes: int
    #: how far the true size may be from ``size_bytes``
    size_tolerance: int
    license: str | None
    analysis_result_id: str | None
    PatientID: str | None
    StudyInstanceUID: str | None
    SeriesInstanceUID: str | None
    #: the DOI of the source it comes from (current versions only)
    source_doi: str | None

    def releases(self) -> range:
        return range(self.first_release, self.last_release + 1)


def resolve(
    uuids: Iterable[str], engine: LocalEngine | None = None, *, places: bool = False
) -> dict[str, Series]:
    """The series of ``uuids`` the installed index knows, by uuid (unknown ones are absent).

    ``places`` reads PatientID, StudyInstanceUID and SeriesInstanceUID too (for a layout).
    """
    from ..engines.local import LocalEngine
    from ..query import Query

    wanted = sorted(set(uuids))
    if not wanted:
        return {}
    eng = engine or LocalEngine()
    release = eng.settle(None)
    assert release.number is not None
    query = Query(
        engine=eng.target.name,
        dialect=eng.target.dialect,
        tree=_query(release.number, places),
        params={"uuids": wanted},
        release=release,
        label="manifest",
    )
    rows = eng.execute(query)
    return {row[0]: Series._make(row) for row in rows.fetch(rows.query)}


def _query(installed: int, places: bool) -> exp.Expr:
    """Rows in the order of :class:`Series`' fields."""
    from sqlglot import exp

    col = exp.column
    wanted = exp.select(exp.Unnest(expressions=[exp.Placeholder(this="uuids")]))

    def among(table: str) -> exp.Expr:
        return exp.In(this=col("crdc_series_uuid", table=table), query=wanted.subquery())

    def null(kind: str) -> exp.Expr:
        return exp.cast(exp.null(), kind)

    def nbytes(mb: exp.Expr) -> exp.Expr:
        return exp.cast(
            exp.Round(this=exp.Mul(this=mb, expression=exp.Literal.number(1e6))), "BIGINT"
        )

    current = (
        exp.select(
            col("crdc_series_uuid", table="i"),
            exp.true().as_("current"),
            col("series_revised_idc_version", table="i").as_("first_release"),
            exp.Literal.number(installed).as_("last_release"),
            col("collection_id", table="i"),
            col("aws_bucket", table="i"),
            null("VARCHAR").as_("gcs_bucket"),
            col("instanceCount", table="i").as_("instances"),
            nbytes(col("series_size_MB", table="i")).as_("size_bytes"),
            exp.Literal.number(0).as_("size_tolerance"),
            col("license_short_name", table="i"),
            col("analysis_result_id", table="i"),
            *(col(c, table="i") if places else null("VARCHAR").as_(c) for c in PLACES),
            col("source_DOI", table="i"),
        )
        .from_(exp.to_table("idc_index").as_("i"))
        .where(among("i"))
    )

    def last(column: str) -> exp.Expr:  # as served by the last release that served it
        return exp.func("arg_max", col(column, table="p"), col("max_idc_version", table="p"))

    earlier = (
        exp.select(
            col("crdc_series_uuid", table="p"),
            exp.false().as_("current"),
            exp.Min(this=col("min_idc_version", table="p")).as_("first_release"),
            exp.Max(this=col("max_idc_version", table="p")).as_("last_release"),
            last("collection_id").as_("collection_id"),
            last("aws_bucket").as_("aws_bucket"),
            last("gcs_bucket").as_("gcs_bucket"),
            null("BIGINT").as_("instances"),
            nbytes(exp.Max(this=col("series_size_MB", table="p"))).as_("size_bytes"),
            exp.Literal.number(ROUNDED_MB).as_("size_tolerance"),
            null("VARCHAR").as_("license_short_name"),
            null("VARCHAR").as_("analysis_result_id"),
            *(last(c).as_(c) if places else null("VARCHAR").as_(c) for c in PLACES),
            null("VARCHAR").as_("source_DOI"),
        )
        .from_(exp.to_table("prior_versions_index").as_("p"))
        .where(among("p"))
        .group_by(col("crdc_series_uuid", table="p"))
    )
    return exp.union(current, earlier, distinct=False)
