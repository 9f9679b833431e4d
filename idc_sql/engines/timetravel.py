"""IDC release N on the embedded engine: the series that release served, from the installed index.

The installed ``idc_index`` holds the current version of every series; the release a version
first appeared in is ``series_revised_idc_version`` (``series_init_idc_version`` for the series
itself). ``prior_versions_index`` holds every version an earlier release served that the
current release no longer does (revised or removed series), with the releases that served it
(``min_idc_version`` .. ``max_idc_version``; a version that moved between buckets has one row
per bucket). So release N served:

* every current version with ``series_revised_idc_version <= N``, as it is today, and
* every earlier version whose releases include N, from ``prior_versions_index``.

What ``prior_versions_index`` keeps of an earlier version: its collection, patient, study,
series, Modality, ``crdc_series_uuid`` and size, and its bucket. Those columns describe the
version served at N. For the bucket (and ``series_aws_url``), the bucket where that version was
served last, which is where its files are. Every other column of an earlier version reports the
current version's value (``instanceCount``, ``BodyPartExamined``, ``SeriesDescription``, dates,
...), or NULL for a series IDC has since removed; ``series_revised_idc_version`` is the release
that version first appeared in, and ``series_init_idc_version`` the series' first release. So a
condition on a column outside that list may select differently from BigQuery's ``idc_vN``, for
the series revised or removed after N (at v24: 12,170 of 1,032,845 series).
"""

from __future__ import annotations

from sqlglot import exp

#: the columns prior_versions_index keeps, as idc_index names them
KEPT = (
    "collection_id",
    "PatientID",
    "SeriesInstanceUID",
    "StudyInstanceUID",
    "Modality",
    "crdc_series_uuid",
    "series_size_MB",
)


def release_view(
    current: exp.Expr, prior: exp.Expr, release: int, columns: list[str], row_number: str
) -> exp.Union:
    """idc_index as release ``release`` served it, with a key ``row_number`` for each row.

    ``current`` and ``prior`` read idc_index and prior_versions_index, each with its file's row
    number as ``row_number``; ``columns`` are idc_index's. The key is a current version's row
    number, or minus one less the row number of an earlier version's row in
    prior_versions_index: unique and the same on every read, but not in the canonical order
    (numbering the rows in that order would sort the whole release; a query orders its few
    rows by the canonical columns instead). ``release`` is a settled release number (an int),
    written as a literal: a view takes no parameters.
    """
    n = exp.Literal.number(int(release))
    col = exp.column

    kept_now = (
        exp.select(*(col(c, table="cur") for c in (*columns, row_number)))
        .from_(exp.alias_(current.copy(), "cur", table=True))
        .where(exp.LTE(this=col("series_revised_idc_version", table="cur"), expression=n))
    )

    # every earlier version once, with the first release it was served in and the bucket
    # where it was served last
    versions = exp.select(
        exp.Star(),
        exp.alias_(
            exp.Window(
                this=exp.Min(this=col("min_idc_version")),
                partition_by=[col("crdc_series_uuid")],
            ),
            "first_served",
        ),
        exp.alias_(
            exp.Window(
                this=exp.Min(this=col("min_idc_version")),
                partition_by=[col("SeriesInstanceUID")],
            ),
            "series_first",
        ),
        exp.alias_(
            exp.Window(
                this=exp.func("arg_max", col("aws_bucket"), col("max_idc_version")),
                partition_by=[col("crdc_series_uuid")],
            ),
            "last_bucket",
        ),
    ).from_(exp.alias_(prior.copy(), "p", table=True))
    served = (
        exp.select(exp.Star())
        .from_(exp.alias_(exp.Subquery(this=versions), "v", table=True))
        .where(
            exp.and_(
                exp.LTE(this=col("min_idc_version"), expression=n),
                exp.GTE(this=col("max_idc_version"), expression=n.copy()),
            )
        )
    )

    def earlier(name: str) -> exp.Expr:
        if name in KEPT:
            return exp.alias_(col(name, table="old"), name)
        if name == "aws_bucket":
            return exp.alias_(col("last_bucket", table="old"), name)
        if name == "series_aws_url":
            url = exp.func(
                "concat",
                exp.Literal.string("s3://"),
                col("last_bucket", table="old"),
                exp.Literal.string("/"),
                col("crdc_series_uuid", table="old"),
                exp.Literal.string("/*"),
            )
            return exp.alias_(url, name)
        if name == "series_revised_idc_version":
            return exp.alias_(col("first_served", table="old"), name)
        if name == "series_init_idc_version":
            first = exp.Coalesce(
                this=col(name, table="cur"), expressions=[col("series_first", table="old")]
            )
            return exp.alias_(first, name)
        return exp.alias_(col(name, table="cur"), name)

    key = exp.Sub(this=exp.Neg(this=col(row_number, table="old")), expression=exp.Literal.number(1))
    then = (
        exp.select(*(earlier(c) for c in columns), exp.alias_(key, row_number))
        .from_(exp.alias_(exp.Subquery(this=served), "old", table=True))
        .join(
            exp.alias_(current.copy(), "cur", table=True),
            on=exp.EQ(
                this=col("SeriesInstanceUID", table="old"),
                expression=col("SeriesInstanceUID", table="cur"),
            ),
            join_type="left",
        )
    )
    return exp.union(kept_now, then, distinct=False)
