"""What a manifest may point at: a bucket and a series uuid of known shapes, in one cloud.

Every manifest (s5cmd lines, manifest-json) reads each series' ``aws_bucket`` and
``crdc_series_uuid``. Both are checked by DuckDB in the very query that writes the manifest
(:func:`guarded`: no Python per row): a series whose values have another shape stops the
writing, and the error then names it (:func:`offenders`). The shapes:

- ``crdc_series_uuid``: a lowercase UUID, 8-4-4-4-12 hexadecimal digits;
- ``aws_bucket`` for AWS: one of IDC's buckets, or a name of S3's grammar (3 to 63 lowercase
  letters, digits, dots and hyphens, beginning and ending with a letter or digit);
- for GCS: one of IDC's three buckets, each read from its GCS mirror
  (``idc-open-data`` -> ``idc-open-data``, ``idc-open-data-two`` -> ``idc-open-idc1``,
  ``idc-open-data-cr`` -> ``idc-open-cr``), through GCS's S3 interface.

>>> CLOUDS["gcs"].endpoint
'https://storage.googleapis.com'
>>> exp.select(bucket_of(CLOUDS["gcs"])).sql("duckdb")  # doctest: +ELLIPSIS
"SELECT CASE aws_bucket WHEN 'idc-open-data' THEN 'idc-open-data' WHEN ... END"
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import EngineError, OutputError
from ..outputs import header_safe

if TYPE_CHECKING:
    from ..result import CohortResult

UUID_SHAPE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
BUCKET_SHAPE = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
#: IDC's public buckets on AWS
IDC_BUCKETS = ("idc-open-data", "idc-open-data-two", "idc-open-data-cr")
#: what DuckDB's error() says when a series cannot be written; the writer then names it
_MARKER = "idc-sql: a series cannot be written to a manifest"


@dataclass(frozen=True)
class Cloud:
    """Where a manifest's series are read from: an S3 endpoint and its bucket names."""

    name: str
    endpoint: str
    description: str
    #: IDC's AWS bucket -> this cloud's bucket; None: the AWS names themselves
    buckets: Mapping[str, str] | None = None


CLOUDS: Mapping[str, Cloud] = {
    "aws": Cloud("aws", "https://s3.amazonaws.com", "IDC's buckets on AWS S3"),
    "gcs": Cloud(
        "gcs",
        "https://storage.googleapis.com",
        "IDC's mirrors on Google Cloud Storage, through its S3 interface",
        {
            "idc-open-data": "idc-open-data",
            "idc-open-data-two": "idc-open-idc1",
            "idc-open-data-cr": "idc-open-cr",
        },
    ),
}
DEFAULT_CLOUD = "aws"


def bucket_of(cloud: Cloud) -> exp.Expr:
    """The series' bucket in ``cloud`` (NULL on GCS for a bucket it does not mirror)."""
    if cloud.buckets is None:
        return exp.column("aws_bucket")
    case = exp.Case(this=exp.column("aws_bucket"))
    for aws, other in cloud.buckets.items():
        case = case.when(exp.Literal.string(aws), exp.Literal.string(other))
    return case


def _bucket_ok(cloud: Cloud) -> exp.Expr:
    if cloud.buckets is not None:
        return exp.Not(this=exp.paren(exp.Is(this=bucket_of(cloud), expression=exp.Null())))
    known = exp.In(
        this=exp.column("aws_bucket"), expressions=[exp.Literal.string(b) for b in IDC_BUCKETS]
    )
    # IDC's own names first: a cheap comparison; the grammar only for any other name
    return exp.or_(known, _matches("aws_bucket", BUCKET_SHAPE))


def _matches(column: str, shape: str) -> exp.Expr:
    return exp.RegexpFullMatch(this=exp.column(column), expression=exp.Literal.string(shape))


def valid(cloud: Cloud) -> exp.Expr:
    """True when the series' bucket and uuid have their shapes (NULL counts as not)."""
    return exp.and_(_bucket_ok(cloud), _matches("crdc_series_uuid", UUID_SHAPE))


def guarded(cloud: Cloud, value: exp.Expr) -> exp.Expr:
    """``value``, or DuckDB's error() for a series whose bucket or uuid has another shape."""
    stop = exp.Anonymous(this="error", expressions=[exp.Literal.string(_MARKER)])
    return exp.Case().when(valid(cloud), value).else_(stop)


@contextmanager
def naming_offenders(result: CohortResult, cloud: Cloud) -> Iterator[None]:
    """Turn :func:`guarded`'s stop into an error that names the series (see :func:`offenders`)."""
    try:
        yield
    except EngineError as e:
        if _MARKER not in str(e):
            raise
        raise offenders(result, cloud) from None


def offenders(result: CohortResult, cloud: Cloud, shown: int = 3) -> OutputError:
    """The error naming the series whose bucket or uuid has another shape (the first few)."""
    keys = ["crdc_series_uuid", "aws_bucket"]
    if "SeriesInstanceUID" in result.fields:
        keys.append("SeriesInstanceUID")
    inner = unordered(
        result.projected(
            *(exp.alias_(exp.column(k), k, quoted=True) for k in keys),
            exp.alias_(valid(cloud), "ok"),
        )
    ).subquery("rows")
    bad = exp.Not(this=exp.Coalesce(this=exp.column("ok"), expressions=[exp.false()]))
    ((count,),) = result.fetch(exp.select(exp.Count(this=exp.Star())).from_(inner).where(bad))
    first = result.fetch(
        exp.select(*(exp.column(k, quoted=True) for k in keys))
        .from_(inner.copy())
        .where(bad.copy())
        .limit(shown)
    )
    named = "; ".join(_describe(dict(zip(keys, row, strict=True)), cloud) for row in first)
    more = f"; and {count - len(first)} more" if count > len(first) else ""
    return OutputError(
        f"{count} series cannot be written to a manifest: {named}{more}. A bucket is "
        + (
            f"one of {', '.join(sorted(cloud.buckets))} (the buckets {cloud.name} mirrors)"
            if cloud.buckets is not None
            else "a name of S3's grammar"
        )
        + ", a crdc_series_uuid a lowercase 8-4-4-4-12 hexadecimal UUID"
    )


def _describe(row: dict[str, Any], cloud: Cloud) -> str:
    name = (
        f"series {quoted(row['SeriesInstanceUID'])}" if "SeriesInstanceUID" in row else "a series"
    )
    return (
        f"{name} has crdc_series_uuid {quoted(row['crdc_series_uuid'])} "
        f"and aws_bucket {quoted(row['aws_bucket'])}"
    )


def quoted(value: Any) -> str:
    """A value for a message: quoted, every character that could break a line escaped."""
    return "NULL" if value is None else f"'{header_safe(str(value))}'"


def unordered(query: exp.Select) -> exp.Select:
    """``query`` without its ORDER BY when nothing depends on it (no LIMIT): for aggregates."""
    if query.args.get("limit") is None:
        query.set("order", None)
    return query
