"""BigQuery: the same queries over ``bigquery-public-data.idc_vNN``, with a cost guard.

Every query is dry-run first (:meth:`BigQueryEngine.estimate`, free); the pipeline refuses a
query above the cap before it runs; the real job always carries ``maximum_bytes_billed`` (the
cap) and labels. The toolkit never writes to BigQuery. The client library is imported only
when this engine is used.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ...cost import CostDecision, decide, size
from ...errors import CostError, EngineError, UsageError
from ...query import Query
from ...release import Release, Requested, dataset_of
from ...settings import Notice, Reporter, Settings, silent
from ...targets import TARGETS, Target
from ..base import Relation, Rows
from .client import cancel_on_interrupt, explained, make_client
from .params import check_request, job_labels, query_parameters

if TYPE_CHECKING:
    import pyarrow
    from google.cloud import bigquery

    from ...schema import LiveSchema

__all__ = ["BigQueryEngine", "CostError", "Settings", "job_labels", "query_parameters"]

#: IDC's tables in every idc_vNN dataset
RELATIONS = {
    "dicom_all": "one row per DICOM instance, every attribute (~800 columns)",
    "dicom_metadata": "one row per DICOM instance, the attributes as extracted from the files",
    "dicom_pivot": "one row per DICOM instance, the attributes most queries use, flattened",
    "dicom_metadata_curated": "curated per-instance values (e.g. SliceThickness as a number)",
    "dicom_metadata_curated_series_level": "curated values, one row per series",
    "auxiliary_metadata": "per-instance bucket, URL, sizes and versions",
    "segmentations": "one row per segment of each DICOM SEG instance",
    "measurement_groups": "measurement groups of DICOM SR TID 1500 documents",
    "quantitative_measurements": "numeric measurements of SR TID 1500 documents",
    "qualitative_measurements": "coded measurements of SR TID 1500 documents",
    "original_collections_metadata": "one row per collection: cancer type, site, species, DOI",
    "analysis_results_metadata": "one row per analysis result: its collections and DOI",
    "version_metadata": "the releases of IDC: numbers, dates",
    "mutable_metadata": "per-instance values that may change between releases (URLs, license)",
}
#: a BigQuery job's progress is shown once it takes longer than this, in seconds
PROGRESS_AFTER = 2.0


class BigQueryEngine:
    """Runs compiled ``bigquery`` queries with the official client."""

    def __init__(
        self, settings: Settings | None = None, client: Any = None, report: Reporter = silent
    ) -> None:
        self.settings = settings or Settings.resolve()
        self._client = client
        self.report = report

    @property
    def target(self) -> Target:
        return TARGETS["bigquery"]

    @property
    def client(self) -> bigquery.Client:
        if self._client is None:
            self._client = make_client(self.settings)
        client: bigquery.Client = self._client
        return client

    # ---- what it holds

    def settle(self, requested: Requested, where: str = "") -> Release:
        project = self.settings.data_project
        if requested in (None, "current"):
            return Release(None, "idc_current", "idc_current", None, "current", project)
        assert isinstance(requested, int)
        how = "pinned by the specification"
        return Release(requested, dataset_of(requested), how, None, requested, project)

    def relations(self, release: Release) -> Mapping[str, Relation]:
        project = self.settings.data_project
        return {
            name: Relation(name, description, f"{project}.{release.dataset}.{name}")
            for name, description in RELATIONS.items()
        }

    def schema(self, release: Release, *, live: bool = False) -> LiveSchema | None:
        """The dicom_all schema of ``release``: a cached copy, or (``live``) BigQuery's
        (``get_table``: free), then cached."""
        from ...schema import LiveSchema

        project = self.settings.data_project
        if not live:
            return LiveSchema.cached(self.settings.cache_dir, project, release.dataset)
        table_id = f"{project}.{release.dataset}.dicom_all"
        with explained(f"reading the schema of {table_id}", None, self.settings):
            table = self.client.get_table(table_id, retry=self._retry())
        return LiveSchema.from_table(table, self.settings.cache_dir, project, release.dataset)

    def describe(self, release: Release) -> str:
        return f"BigQuery {self.settings.data_project}.{release.dataset}.dicom_all"

    # ---- job configurations (tested as they are sent)

    def job_config(self, query: Query, *, dry_run: bool) -> Any:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=query_parameters(query.params, query.param_types),
            labels=job_labels(query.label),
            use_legacy_sql=False,
        )
        if dry_run:
            config.dry_run = True
            config.use_query_cache = False
        else:
            config.maximum_bytes_billed = self.settings.cap_bytes
        check_request(query.sql, config)
        return config

    def _retry(self) -> Any:
        from google.cloud import bigquery

        return bigquery.DEFAULT_RETRY.with_deadline(self.settings.deadline)

    # ---- running

    def estimate(self, query: Query) -> CostDecision:
        """Dry-run ``query`` and decide from the estimate (nothing is billed)."""
        self._check(query)
        with explained("the dry run", None, self.settings):
            job = self.client.query(
                query.sql,
                job_config=self.job_config(query, dry_run=True),
                retry=self._retry(),
                job_retry=None,
            )
        return decide(int(job.total_bytes_processed or 0), self.settings.cap_bytes)

    def execute(self, query: Query) -> Rows:
        """Run the real job (after the pipeline's dry run) and return its rows."""
        import duckdb

        self._check(query)
        release = query.release
        if release.number is None:
            number = self.resolve_current()
            if number is not None:
                release = release.resolved(number, "idc_current")
        table = self._fetch(query)
        connection = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
        # a table of the database (a registered view would be invisible to the rows' cursors)
        connection.from_arrow(table).create("bigquery_rows")
        # names as the query spells them, whatever case the endpoint returned them in
        returned = {name.casefold(): name for name in table.column_names}
        wanted = query.output or tuple(table.column_names)
        missing = [c for c in wanted if c.casefold() not in returned]
        if missing:
            raise EngineError(f"BigQuery's result lacks the columns {', '.join(missing)}")
        rows = exp.select(
            *(
                exp.alias_(exp.column(returned[c.casefold()], quoted=True), c, quoted=True)
                for c in wanted
            )
        ).from_("bigquery_rows")
        return Rows(connection, rows, {}, release, label=query.label)

    def resolve_current(self) -> int | None:
        """The release ``idc_current`` points at (from its version_metadata), for provenance."""
        table = exp.table_(
            "version_metadata", db="idc_current", catalog=self.settings.data_project, quoted=True
        )
        query = exp.select(exp.Max(this=exp.column("idc_version")).as_("v")).from_(table)
        with explained("reading idc_current.version_metadata", None, self.settings):
            rows = list(
                self.client.query(
                    query.sql(dialect="bigquery"), retry=self._retry(), job_retry=None
                ).result(retry=self._retry())
            )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def close(self) -> None:
        if self._client is not None and hasattr(self._client, "close"):
            self._client.close()
        self._client = None

    def _check(self, query: Query) -> None:
        if query.engine != self.target.name:
            raise UsageError(
                f"a query compiled for {query.engine} cannot run on {self.target.name}"
            )

    def _fetch(self, query: Query) -> pyarrow.Table:
        config = self.job_config(query, dry_run=False)
        with explained("the query", None, self.settings):
            job = self.client.query(
                query.sql, job_config=config, retry=self._retry(), job_retry=None
            )
        with explained("the query", job, self.settings), cancel_on_interrupt(job, self.report):
            self._wait(job)
            rows = job.result(retry=self._retry())
            table: pyarrow.Table = rows.to_arrow(
                create_bqstorage_client=self._use_storage_api(), progress_bar_type=None
            )
        return table

    def _use_storage_api(self) -> bool:
        # The Storage Read API is faster for large results when the package is installed;
        # emulators and private endpoints are reached over REST.
        return (
            not self.settings.endpoint
            and importlib.util.find_spec("google.cloud.bigquery_storage") is not None
        )

    def _wait(self, job: Any) -> None:
        """Wait for the job, reporting its progress once it takes longer than a moment."""
        start = time.monotonic()
        shown = False
        while not job.done(retry=self._retry()):
            elapsed = time.monotonic() - start
            if elapsed > PROGRESS_AFTER:
                processed = getattr(job, "total_bytes_processed", None) or 0
                self.report(
                    Notice(
                        "progress",
                        (
                            f"BigQuery job {job.job_id}: {elapsed:.0f} s, ",
                            f"{size(processed)} processed",
                        ),
                        {"job": job.job_id, "elapsed": elapsed, "bytes": processed},
                    )
                )
                shown = True
            time.sleep(0.25 if elapsed < 5 else 1.0)
        if shown:
            self.report(Notice("progress_done"))
