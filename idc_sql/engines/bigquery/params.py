"""Bound parameters as BigQuery query parameters, and the labels every job carries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


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
