"""manifest-json: every series with its bucket, uuid, destination, instance count and size.

One JSON document (written by DuckDB, the series in the cohort's order)::

    {
    "provenance": {... the record, see provenance.py ...},
    "series": [
        {"SeriesInstanceUID": "1.2...", "crdc_series_uuid": "085e85b3-...", "bucket":
         "idc-open-data", "url": "s3://idc-open-data/085e85b3-.../*", "destination":
         "rider_pilot/.../CT_085e85b3-.../", "instance_count": 76, "size_bytes": 39932806},
        ...
    ]
    }

``bucket`` and ``url`` are those of the manifest's cloud (``provenance.cloud``, reached at
``provenance.endpoint``); ``destination`` is made safe as in an s5cmd manifest (see
:mod:`.layout`), and the bucket and uuid are checked the same way (see :mod:`.safety`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from ..outputs.atomic import assemble, beside
from ..outputs.provenance import record, to_json
from .copying import concurrently, copy, option
from .layout import check_collisions, concat
from .safety import bucket_of, guarded, naming_offenders

if TYPE_CHECKING:
    from ..result import CohortResult
    from . import Job

NEEDS = ("aws_bucket", "crdc_series_uuid", "SeriesInstanceUID", "instanceCount", "series_size_MB")


def write_manifest_json(result: CohortResult, tmp: Path, job: Job) -> None:
    """The series by DuckDB (summary and folder check meanwhile), then the document around."""
    layout, cloud = job.manifest()
    rows = beside(tmp, "series")
    bucket = bucket_of(cloud)
    uuid = exp.column("crdc_series_uuid")
    columns = {
        "SeriesInstanceUID": exp.column("SeriesInstanceUID"),
        "crdc_series_uuid": uuid,
        "bucket": guarded(cloud, bucket),
        "url": concat(["s3://", bucket.copy(), "/", uuid.copy(), "/*"]),
        "destination": layout.destination(),
        "instance_count": exp.cast(exp.column("instanceCount"), exp.DataType.build("BIGINT")),
        "size_bytes": exp.cast(
            exp.Round(
                this=exp.Mul(
                    this=exp.column("series_size_MB"), expression=exp.Literal.number(1_000_000)
                )
            ),
            exp.DataType.build("BIGINT"),
        ),
    }
    query = result.projected(*(exp.alias_(v, k, quoted=True) for k, v in columns.items()))
    with concurrently() as pool:
        summary = pool.submit(lambda: result.summary)
        clashes = pool.submit(check_collisions, result, layout)
        with naming_offenders(result, cloud):
            copy(
                result,
                query,
                rows,
                [option("FORMAT", exp.var("json")), option("ARRAY", exp.true())],
            )
        summary.result()
        clashes.result()
    rec = record(result.provenance, result.summary, job.format, job.written_at, job.extra())
    head = '{\n"provenance": ' + to_json(rec, indent=2) + ',\n"series": '
    assemble(tmp, head, rows, "}\n")
