"""Gaps of bqemulator 1.4.0 found while building the fixture, beyond those in the recipe.

Each test pins the emulator's current (wrong) behaviour, so that code and tests written around a
gap learn when it closes. Real BigQuery behaves as each docstring says.
"""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from .emulator import run_query
from .fixture import table_id

pytestmark = pytest.mark.bigquery

DICOM_ALL = f"`{table_id('dicom_all')}`"


@pytest.mark.parametrize(
    "expression",
    ["CONCAT(Modality, '*')", "Modality || '*'", "UPPER(Modality)", "FORMAT('%s', Modality)"],
)
def test_some_functions_lower_case_every_output_name(
    bq_client: bigquery.Client, expression: str
) -> None:
    """BigQuery keeps the case of aliases; the emulator lower-cases all of them when a query over
    a table uses one of these functions anywhere. Match result columns case-insensitively."""
    [row] = run_query(
        bq_client,
        f"""
        SELECT {expression} AS Value, SeriesInstanceUID AS SeriesInstanceUID
        FROM {DICOM_ALL} LIMIT 1""",
    )
    assert list(row.keys()) == ["value", "seriesinstanceuid"]


def test_other_functions_keep_output_names(bq_client: bigquery.Client) -> None:
    [row] = run_query(
        bq_client,
        f"""
        SELECT LOWER(Modality) AS Value, SeriesInstanceUID AS SeriesInstanceUID
        FROM {DICOM_ALL} LIMIT 1""",
    )
    assert list(row.keys()) == ["Value", "SeriesInstanceUID"]


def test_error_in_a_distinct_aggregate_order_by_is_refused(bq_client: bigquery.Client) -> None:
    """BigQuery accepts ``STRING_AGG(DISTINCT e, "," ORDER BY e)`` when ``e`` calls ERROR() (as
    idc_index.sql's transfer_syntax_name does); the emulator (DuckDB) refuses it at bind time."""
    expression = "CASE Modality WHEN 'CT' THEN 'ct' ELSE ERROR('unmapped') END"
    with pytest.raises(exceptions.BadRequest):
        run_query(
            bq_client,
            f"""
            SELECT STRING_AGG(DISTINCT {expression}, ',' ORDER BY {expression}) AS names
            FROM {DICOM_ALL} WHERE Modality = 'CT' GROUP BY SeriesInstanceUID""",
        )
