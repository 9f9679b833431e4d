"""The BigQuery client: made from the settings, its errors turned into plain messages."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ...errors import EngineError, Option, UsageError
from ...settings import Notice, Reporter, Settings

if TYPE_CHECKING:
    from google.cloud import bigquery

#: the project an emulator's client is made for when none is given
EMULATOR_PROJECT = "idc-sql-local"


def make_client(settings: Settings) -> bigquery.Client:
    """A client for ``settings``: anonymous on a loopback endpoint (an emulator), else with
    the default credentials, which are never looked up for an emulator (the look-up may probe a
    metadata server on the network)."""
    from google.cloud import bigquery

    options: dict[str, Any] = {}
    credentials: Any = None
    if settings.endpoint:
        options["client_options"] = {"api_endpoint": settings.endpoint}
        if is_loopback(settings.endpoint):
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
                "login` (the BigQuery Sandbox is free), or point ",
                Option("endpoint"),
                f" at an emulator ({e})",
            ) from e
        project = settings.project or found
    else:
        project = settings.project or EMULATOR_PROJECT
    if not project:
        raise UsageError(
            "BigQuery needs a project to bill queries to: give ",
            Option("project"),
            ", or set IDC_SQL_PROJECT or GOOGLE_CLOUD_PROJECT",
        )
    return bigquery.Client(project=project, credentials=credentials, **options)


def is_loopback(endpoint: str) -> bool:
    """Whether ``endpoint`` is on this machine: ``localhost`` or a loopback address (by
    address, not by a name that merely begins with ``127.``)."""
    from urllib.parse import urlparse

    try:
        host = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}").hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def explained(what: str, job: Any, settings: Settings) -> Iterator[None]:
    """Plain messages for the client's exceptions, with the job id when there is one."""
    from google.api_core import exceptions as gexc

    start = time.monotonic()
    try:
        yield
    except KeyboardInterrupt:
        raise
    except EngineError:
        raise
    except gexc.GoogleAPICallError as e:
        raise EngineError(explain(e, what, job, settings)) from e
    except gexc.RetryError as e:
        cause = e.cause
        if isinstance(cause, OSError):
            where = settings.endpoint or "its API"
            detail = f"cannot reach BigQuery at {where} ({type(cause).__name__})"
        else:
            detail = f"{cause or e}"
        elapsed = time.monotonic() - start
        raise EngineError(
            f"{what} did not succeed: gave up after {elapsed:.0f} s of retries (deadline "
            f"{settings.deadline:g} s): {detail}{job_suffix(job)}"
        ) from e
    except OSError as e:  # connection refused, DNS, TLS (requests' errors are OSErrors)
        where = settings.endpoint or "its API"
        raise EngineError(
            f"cannot reach BigQuery at {where}: {type(e).__name__}{job_suffix(job)}"
        ) from e


def explain(e: Any, what: str, job: Any, settings: Settings) -> str:
    """What BigQuery said, in a sentence that names the operation and the job."""
    from google.api_core import exceptions as gexc

    reason, message = "", ""
    errors = getattr(e, "errors", None) or []
    if errors and isinstance(errors[0], Mapping):
        reason = str(errors[0].get("reason", ""))
        message = str(errors[0].get("message", ""))
    # the client's own message starts with the HTTP method and URL: keep what BigQuery said
    message = (message or getattr(e, "message", None) or str(e)).strip()
    suffix = job_suffix(job)
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


def job_suffix(job: Any) -> str:
    job_id = getattr(job, "job_id", None)
    return f" (job {job_id})" if job_id else ""


@contextmanager
def cancel_on_interrupt(job: Any, report: Reporter) -> Iterator[None]:
    """Ctrl-C cancels the running job, says so, then stops."""
    try:
        yield
    except KeyboardInterrupt:
        try:
            job.cancel()
            report(Notice("cancelled", (f"cancelled BigQuery job {job.job_id}",)))
        except Exception as e:  # the interrupt matters more than a failed cancel
            report(Notice("cancelled", (f"could not cancel BigQuery job {job.job_id}: {e}",)))
        raise
