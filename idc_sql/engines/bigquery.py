"""BigQuery: the same cohorts over ``bigquery-public-data.idc_vNN.dicom_all``, with a cost guard.

Every query is dry-run first; the estimate is shown in bytes and as a share of the BigQuery
Sandbox's free terabyte a month; a query above the cap is refused before it runs; the real job
always carries ``maximum_bytes_billed`` (the cap) and labels. The toolkit never writes to
BigQuery. The client library is imported only when this engine is used.

>>> decide(3 * 10**9, cap_bytes(50)).allowed
True
>>> print(decide(2 * 10**12, cap_bytes(50)).message)  # doctest: +NORMALIZE_WHITESPACE
this query would process 2.00 TB (200% of the Sandbox's free 1 TB a month), above the cap of
50.00 GB; raise the cap with --max-gb (e.g. --max-gb 2100) if you mean it
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CostError, EngineError, UsageError

if TYPE_CHECKING:
    import pyarrow
    from google.cloud import bigquery

    from ..compiler import Compiled

#: the cap a query may process unless --max-gb says otherwise: 5% of the Sandbox's month
DEFAULT_MAX_GB = 50.0
SANDBOX_BYTES_PER_MONTH = 10**12
ENV_PROJECT = ("IDC_SQL_PROJECT", "GOOGLE_CLOUD_PROJECT")
ENV_ENDPOINT = "IDC_SQL_BIGQUERY_ENDPOINT"
ENV_MAX_GB = "IDC_SQL_MAX_GB"
ENV_DEADLINE = "IDC_SQL_BIGQUERY_DEADLINE"
#: how long transient errors are retried, in seconds
DEFAULT_DEADLINE = 120.0
PROGRESS_AFTER = 2.0


# ----------------------------------------------------------------------------- cost guard


def cap_bytes(max_gb: float) -> int:
    """The cap in bytes for a cap in (decimal) gigabytes."""
    if not math.isfinite(max_gb) or max_gb <= 0:
        raise UsageError(f"--max-gb must be a positive number of gigabytes, got {max_gb}")
    return int(max_gb * 10**9)


def describe_bytes(n: int) -> str:
    share = 100 * n / SANDBOX_BYTES_PER_MONTH
    shown = f"{share:.2g}%" if share < 1 else f"{share:.0f}%"
    return f"{_size(n)} ({shown} of the Sandbox's free 1 TB a month)"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class CostDecision:
    """What the guard decided from a dry run's estimate."""

    estimate_bytes: int
    cap_bytes: int
    allowed: bool
    message: str


def decide(estimate_bytes: int, cap: int) -> CostDecision:
    """Allow a query whose estimate is within the cap; refuse it with a way out otherwise."""
    if estimate_bytes <= cap:
        msg = f"estimate: {describe_bytes(estimate_bytes)}; cap {_size(cap)}"
        return CostDecision(estimate_bytes, cap, True, msg)
    suggestion = math.ceil(estimate_bytes / 10**9 / 100) * 100 + 100
    msg = (
        f"this query would process {describe_bytes(estimate_bytes)}, above the cap of "
        f"{_size(cap)}; raise the cap with --max-gb (e.g. --max-gb {suggestion}) if you mean it"
    )
    return CostDecision(estimate_bytes, cap, False, msg)


# ----------------------------------------------------------------------------- parameters


def query_parameters(params: Mapping[str, Any]) -> list[Any]:
    """Bound parameters as BigQuery query parameters (typed from the values)."""
    from google.cloud import bigquery

    out: list[Any] = []
    for name, value in params.items():
        if isinstance(value, list):
            out.append(bigquery.ArrayQueryParameter(name, _bq_type(value[0]), value))
        else:
            out.append(bigquery.ScalarQueryParameter(name, _bq_type(value), value))
    return out


def _bq_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, dt.date):
        return "DATE"
    return "STRING"


def job_labels(cohort: str) -> dict[str, str]:
    """Labels every job carries: the tool and the cohort (label values: [a-z0-9_-], 63 chars)."""
    value = "".join(c if c.isalnum() or c in "_-" else "_" for c in cohort.lower())[:63]
    return {"tool": "idc-sql", "cohort": value}


# ----------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class Settings:
    """Where and how to run: from arguments, then the environment, then defaults."""

    project: str | None = None
    endpoint: str | None = None
    max_gb: float = DEFAULT_MAX_GB
    deadline: float = DEFAULT_DEADLINE
    data_project: str = "bigquery-public-data"
    progress: bool = True

    @classmethod
    def resolve(
        cls,
        project: str | None = None,
        endpoint: str | None = None,
        max_gb: float | None = None,
        **rest: Any,
    ) -> Settings:
        env = os.environ
        project = project or next((env[k] for k in ENV_PROJECT if env.get(k)), None)
        endpoint = endpoint or env.get(ENV_ENDPOINT) or None
        if max_gb is None:
            raw = env.get(ENV_MAX_GB)
            try:
                max_gb = float(raw) if raw else DEFAULT_MAX_GB
            except ValueError:
                raise UsageError(f"{ENV_MAX_GB}={raw!r} is not a number of gigabytes") from None
        cap_bytes(max_gb)
        if "deadline" not in rest and env.get(ENV_DEADLINE):
            try:
                rest["deadline"] = float(env[ENV_DEADLINE])
            except ValueError:
                raise UsageError(f"{ENV_DEADLINE} is not a number of seconds") from None
        return cls(project=project, endpoint=endpoint, max_gb=max_gb, **rest)


class BigQueryEngine:
    """Runs compiled ``bigquery`` queries with the official client."""

    name = "bigquery"

    def __init__(self, settings: Settings | None = None, client: Any = None) -> None:
        self.settings = settings or Settings.resolve()
        self._client = client

    # ---- connection

    @property
    def client(self) -> bigquery.Client:
        if self._client is None:
            self._client = self._make_client()
        client: bigquery.Client = self._client
        return client

    def _make_client(self) -> bigquery.Client:
        from google.cloud import bigquery

        s = self.settings
        options: dict[str, Any] = {}
        credentials: Any = None
        if s.endpoint:
            options["client_options"] = {"api_endpoint": s.endpoint}
            if _is_loopback(s.endpoint):
                # An emulator: no credentials, and never a look-up of default credentials
                # (which may probe a metadata server on the network).
                from google.auth.credentials import AnonymousCredentials

                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        if credentials is None:
            try:
                import google.auth

                credentials, found = google.auth.default(
                    scopes=["https://www.googleapis.com/auth/cloud-platform"]
                )
            except Exception as e:  # DefaultCredentialsError and transport errors alike
                raise UsageError(
                    "BigQuery needs Google credentials: run `gcloud auth application-default "
                    "login` (the BigQuery Sandbox is free), or point --bigquery-endpoint at an "
                    f"emulator ({e})"
                ) from e
            project = s.project or found
        else:
            project = s.project or "idc-sql-local"
        if not project:
            raise UsageError(
                "BigQuery needs a project to bill queries to: pass --project, or set "
                "IDC_SQL_PROJECT or GOOGLE_CLOUD_PROJECT"
            )
        return bigquery.Client(project=project, credentials=credentials, **options)

    # ---- job configurations (tested as they are sent)

    def job_config(self, compiled: Compiled, cohort: str, *, dry_run: bool) -> Any:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=query_parameters(compiled.params),
            labels=job_labels(cohort),
            use_legacy_sql=False,
        )
        if dry_run:
            config.dry_run = True
            config.use_query_cache = False
        else:
            config.maximum_bytes_billed = cap_bytes(self.settings.max_gb)
        return config

    def _retry(self) -> Any:
        from google.cloud import bigquery

        return bigquery.DEFAULT_RETRY.with_deadline(self.settings.deadline)

    # ---- planning: the catalog first, the live schema when a name is not in it

    def plan(self, spec: Any, also: tuple[str, ...] = ()) -> Any:
        from ..plan import UnknownFieldError, plan
        from ..schema import LiveSchema

        dataset = dataset_of(spec.idc_version)
        schema = LiveSchema.cached(self.settings.data_project, dataset)
        try:
            return plan(spec, "bigquery", also=also, schema=schema)
        except UnknownFieldError:
            pass  # not in the catalog (nor in a cached schema, which may be old): ask BigQuery
        return plan(spec, "bigquery", also=also, schema=self.live_schema(dataset))

    def live_schema(self, dataset: str) -> Any:
        """The dicom_all schema of ``dataset`` from BigQuery (``get_table``: free), cached."""
        from ..schema import LiveSchema

        project = self.settings.data_project
        with self._errors(f"reading the schema of {project}.{dataset}.dicom_all", None):
            table = self.client.get_table(f"{project}.{dataset}.dicom_all", retry=self._retry())
        return LiveSchema.from_table(table, project, dataset)

    # ---- running

    def estimate(self, compiled: Compiled, cohort: str) -> CostDecision:
        """Dry-run ``compiled`` and decide from the estimate (nothing is billed)."""
        with self._errors("the dry run", None):
            job = self.client.query(
                compiled.sql,
                job_config=self.job_config(compiled, cohort, dry_run=True),
                retry=self._retry(),
                job_retry=None,
            )
        return decide(int(job.total_bytes_processed or 0), cap_bytes(self.settings.max_gb))

    def resolve_current(self, compiled: Compiled) -> int | None:
        """The release ``idc_current`` points at (from its version_metadata), for provenance."""
        from sqlglot import exp

        table = exp.table_(
            "version_metadata", db="idc_current", catalog=self.settings.data_project, quoted=True
        )
        query = exp.select(exp.Max(this=exp.column("idc_version")).as_("v")).from_(table)
        with self._errors("reading idc_current.version_metadata", None):
            rows = list(
                self.client.query(
                    query.sql(dialect="bigquery"), retry=self._retry(), job_retry=None
                ).result(retry=self._retry())
            )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def fetch(self, compiled: Compiled, cohort: str) -> pyarrow.Table:
        """Run the real job (after the caller's dry run) and return its rows as Arrow."""
        config = self.job_config(compiled, cohort, dry_run=False)
        with self._errors("the query", None):
            job = self.client.query(
                compiled.sql, job_config=config, retry=self._retry(), job_retry=None
            )
        with self._errors("the query", job), _cancel_on_interrupt(job):
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
        """Wait for the job, showing progress on a terminal once it takes longer than a moment."""
        start = time.monotonic()
        shown = False
        while not job.done(retry=self._retry()):
            elapsed = time.monotonic() - start
            if self.settings.progress and elapsed > PROGRESS_AFTER and sys.stderr.isatty():
                processed = getattr(job, "total_bytes_processed", None) or 0
                print(
                    f"\r  BigQuery job {job.job_id}: {elapsed:.0f} s, {_size(processed)} processed",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
                shown = True
            time.sleep(0.25 if elapsed < 5 else 1.0)
        if shown:
            print(file=sys.stderr)

    @contextmanager
    def _errors(self, what: str, job: Any) -> Iterator[None]:
        """Plain messages for the client's exceptions, with the job id when there is one."""
        from google.api_core import exceptions as gexc

        try:
            yield
        except KeyboardInterrupt:
            raise
        except EngineError:
            raise
        except gexc.GoogleAPICallError as e:
            raise EngineError(_explain(e, what, job, self.settings)) from e
        except gexc.RetryError as e:
            cause = e.cause
            if isinstance(cause, OSError):
                where = self.settings.endpoint or "its API"
                detail = f"cannot reach BigQuery at {where} ({type(cause).__name__})"
            else:
                detail = f"{cause or e}"
            raise EngineError(
                f"{what} did not succeed within {self.settings.deadline:.0f} s of retries: "
                f"{detail}{_job_suffix(job)}"
            ) from e
        except OSError as e:  # connection refused, DNS, TLS (requests' errors are OSErrors)
            where = self.settings.endpoint or "its API"
            raise EngineError(
                f"cannot reach BigQuery at {where}: {type(e).__name__}{_job_suffix(job)}"
            ) from e


def _explain(e: Any, what: str, job: Any, settings: Settings) -> str:
    from google.api_core import exceptions as gexc

    reason, message = "", ""
    errors = getattr(e, "errors", None) or []
    if errors and isinstance(errors[0], Mapping):
        reason = str(errors[0].get("reason", ""))
        message = str(errors[0].get("message", ""))
    # the client's own message starts with the HTTP method and URL: keep what BigQuery said
    message = (message or getattr(e, "message", None) or str(e)).strip()
    suffix = _job_suffix(job)
    if isinstance(e, gexc.NotFound):
        return (
            f"{what}: not found on BigQuery: {message}. Is the IDC release right "
            f"(datasets are {settings.data_project}.idc_vNN), and the project?{suffix}"
        )
    if isinstance(e, gexc.Forbidden) or reason in (
        "accessDenied",
        "quotaExceeded",
        "rateLimitExceeded",
        "billingNotEnabled",
    ):
        kind = (
            "quota exceeded"
            if "quota" in reason.lower() or "quota" in message.lower()
            else "permission denied"
        )
        return f"{what}: {kind} on BigQuery: {message}{suffix}"
    if isinstance(e, gexc.BadRequest):
        if "bytesBilledLimitExceeded" in reason or "bytes billed" in message.lower():
            return f"{what}: refused by maximum_bytes_billed: {message}{suffix}"
        return f"{what}: BigQuery rejected the query: {message}{suffix}"
    return f"{what}: BigQuery failed ({type(e).__name__}): {message}{suffix}"


def _job_suffix(job: Any) -> str:
    job_id = getattr(job, "job_id", None)
    return f" (job {job_id})" if job_id else ""


def _is_loopback(endpoint: str) -> bool:
    from urllib.parse import urlparse

    host = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


@contextmanager
def _cancel_on_interrupt(job: Any) -> Iterator[None]:
    """Ctrl-C cancels the running job, then stops."""
    try:
        yield
    except KeyboardInterrupt:
        try:
            job.cancel()
            print(f"idc-sql: cancelled BigQuery job {job.job_id}", file=sys.stderr)
        except Exception as e:  # the interrupt matters more than a failed cancel
            print(f"idc-sql: could not cancel job {job.job_id}: {e}", file=sys.stderr)
        raise


# ----------------------------------------------------------------------------- from a spec


def dataset_of(version: Any) -> str:
    return "idc_current" if version in (None, "current") else f"idc_v{int(version)}"


@dataclass
class Estimate:
    """What ``--dry-run`` shows."""

    sql: str
    params: dict[str, Any]
    decision: CostDecision


def run_bigquery(
    spec: Any,
    *,
    project: str | None = None,
    endpoint: str | None = None,
    max_gb: float | None = None,
    dry_run: bool = False,
    report: Callable[[str], None] | None = None,
    engine: BigQueryEngine | None = None,
    also: tuple[str, ...] = (),
    **settings: Any,
) -> Any:
    """Plan, compile, estimate and (unless ``dry_run``) run ``spec`` on BigQuery.

    Returns a :class:`~idc_sql.result.CohortResult`, or an :class:`Estimate` when ``dry_run``.
    ``report`` receives the estimate line (the CLI prints it).
    """
    from ..compiler import compile_plan
    from ..spec import digest

    engine = engine or BigQueryEngine(
        Settings.resolve(project=project, endpoint=endpoint, max_gb=max_gb, **settings)
    )
    compiled = compile_plan(engine.plan(spec, also), project=engine.settings.data_project)
    decision = engine.estimate(compiled, spec.name)
    if report is not None:
        report(decision.message)
    if dry_run:
        return Estimate(compiled.sql, compiled.params, decision)
    if not decision.allowed:
        raise CostError(decision.message)
    resolved = engine.resolve_current(compiled) if spec.idc_version in (None, "current") else None
    table = engine.fetch(compiled, spec.name)
    return _result(spec, compiled, table, engine, resolved, decision, digest(spec))


def _result(
    spec: Any,
    compiled: Compiled,
    table: pyarrow.Table,
    engine: BigQueryEngine,
    resolved: int | None,
    decision: CostDecision,
    spec_digest: str,
) -> Any:
    import duckdb
    from sqlglot import exp

    from ..result import CohortResult, Provenance

    connection = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
    # a table of the database (a registered view would be invisible to the result's cursors)
    connection.from_arrow(table).create("bigquery_rows")
    # Names as the catalog spells them, whatever case the endpoint returned them in.
    returned = {name.casefold(): name for name in table.column_names}
    missing = [c for c in compiled.output if c.casefold() not in returned]
    if missing:
        raise EngineError(f"BigQuery's result lacks the columns {', '.join(missing)}")
    query = exp.select(
        *(
            exp.alias_(exp.column(returned[c.casefold()], quoted=True), c, quoted=True)
            for c in compiled.output
        )
    ).from_("bigquery_rows")
    version = spec.idc_version or "current"
    provenance = Provenance(
        cohort=spec.name,
        engine="bigquery",
        idc_version=version,
        source=f"BigQuery {engine.settings.data_project}."
        + ("idc_current" if version == "current" else f"idc_v{version}")
        + f".dicom_all, {_size(decision.estimate_bytes)} estimated",
        digest=spec_digest,
        sql=compiled.sql,
        params=compiled.params,
        resolved_version=resolved
        if resolved is not None
        else (version if isinstance(version, int) else None),
    )
    return CohortResult(connection, query, {}, compiled.columns, provenance)


__all__ = [
    "DEFAULT_MAX_GB",
    "BigQueryEngine",
    "CostDecision",
    "CostError",
    "Estimate",
    "Settings",
    "cap_bytes",
    "decide",
    "describe_bytes",
    "job_labels",
    "query_parameters",
    "run_bigquery",
]
