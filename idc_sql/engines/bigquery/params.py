"""Bound parameters as BigQuery query parameters, the labels every job carries, and the size
limits of a query job's request."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from ...errors import Option, UsageError

# BigQuery's documented limits on a query job ("Quotas and limits", query jobs):
#: "Maximum request size: 10 MB, including additional properties like query parameters";
#: past it the API answers "Request payload size exceeds the limit: 10485760 bytes"
MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: "Maximum unresolved GoogleSQL query length: 1 MB" (the SQL text, parameters excluded; the
#: API's message counts it as 1024.00K characters)
MAX_QUERY_CHARACTERS = 1024 * 1024
#: "Maximum number of GoogleSQL query parameters: 10,000"
MAX_PARAMETERS = 10_000


def query_parameters(
    params: Mapping[str, Any], types: Mapping[str, str] | None = None
) -> list[Any]:
    """Bound parameters as BigQuery query parameters: of the type ``types`` declares for
    them (``INT64``, ``ARRAY<STRING>``), else typed from the values."""
    from google.cloud import bigquery

    out: list[Any] = []
    for name, value in params.items():
        declared = (types or {}).get(name)
        if declared is not None and declared.startswith("ARRAY<"):
            element = declared[len("ARRAY<") : -1]
            out.append(bigquery.ArrayQueryParameter(name, element, list(value or [])))
        elif declared is not None:
            out.append(bigquery.ScalarQueryParameter(name, declared, value))
        elif isinstance(value, list | tuple):
            out.append(bigquery.ArrayQueryParameter(name, bq_type(value[0]), list(value)))
        else:
            out.append(bigquery.ScalarQueryParameter(name, bq_type(value), value))
    return out


def bq_type(value: Any) -> str:
    """The BigQuery type a Python value binds as."""
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, dt.date):
        return "DATE"
    return "STRING"


def job_labels(label: str) -> dict[str, str]:
    """Labels every job carries: the tool and the query (label values: [a-z0-9_-], 63 chars)."""
    value = "".join(c if c.isalnum() or c in "_-" else "_" for c in label.lower())[:63]
    return {"tool": "idc-sql", "cohort": value}


def check_request(sql: str, config: Any) -> None:
    """Refuse a query job that BigQuery would refuse for its size, before anything is sent.

    ``config`` is the job's ``QueryJobConfig``; the request is measured as the client sends it
    (JSON), so a long list of values is counted with the JSON around each value.
    """
    if len(sql) > MAX_QUERY_CHARACTERS:
        raise UsageError(
            f"the query's SQL is {len(sql):,} characters long, over BigQuery's limit of "
            f"{MAX_QUERY_CHARACTERS:,} for the text of a query; make the specification smaller"
        )
    parameters = config.query_parameters or []
    if len(parameters) > MAX_PARAMETERS:
        raise UsageError(
            f"the query binds {len(parameters):,} parameters, over BigQuery's limit of "
            f"{MAX_PARAMETERS:,} a query; make the specification smaller"
        )
    body = config.to_api_repr()
    body.setdefault("query", {})["query"] = sql
    sent = len(json.dumps({"configuration": body}, separators=(",", ":")).encode())
    if sent > MAX_REQUEST_BYTES:
        values = sum(len(p.values) for p in parameters if getattr(p, "values", None) is not None)
        raise UsageError(
            f"the query's request to BigQuery is {sent:,} bytes with its {values:,} listed "
            f"values, over BigQuery's limit of {MAX_REQUEST_BYTES:,} bytes a request; ask for "
            "fewer values, or use the local engine (",
            Option("engine", "local"),
            ") for the fields it reads",
        )
