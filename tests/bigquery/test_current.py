"""``idc_version: current`` reads ``idc_current`` and records the release it resolved to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from google.cloud import bigquery

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import FAST_RETRY, Emulator
from .fixture import FIXTURE_PROJECT, fixture_tables


@pytest.fixture(scope="module")
def current(bq_emulator: Emulator) -> Emulator:
    """``idc_current`` holding the fixture's dicom_all and version_metadata (IDC: views)."""
    client = bq_emulator.client()
    dataset = bigquery.Dataset(f"{FIXTURE_PROJECT}.idc_current")
    client.create_dataset(dataset, exists_ok=True, retry=FAST_RETRY)
    for table in fixture_tables():
        if table.name not in ("dicom_all", "version_metadata"):
            continue
        target = bigquery.Table(f"{FIXTURE_PROJECT}.idc_current.{table.name}", schema=table.schema)
        client.create_table(target, exists_ok=True, retry=FAST_RETRY)
        rows = list(table.rows)
        for start in range(0, len(rows), 2000):
            errors = client.insert_rows_json(target, rows[start : start + 2000], retry=FAST_RETRY)
            assert not errors
    return bq_emulator


def test_current_resolves_and_is_recorded(current: Emulator, tmp_path: Path) -> None:
    engine = BigQueryEngine(
        Settings(project="idc-sql-tests", endpoint=current.endpoint, deadline=10)
    )
    spec = {
        "name": "ct-now",
        "idc_version": "current",
        "where": {"Modality": "CT"},
        "columns": ["SeriesInstanceUID"],
    }
    result = idc_sql.run(idc_sql.parse_spec(spec), engine)
    assert "`idc_current`.`dicom_all`" in result.provenance.sql
    assert result.provenance.settled.number == 25
    assert result.provenance.settled.requested == "current"
    assert result.provenance.release == "v25"
    pinned = idc_sql.run(idc_sql.parse_spec({**spec, "idc_version": 25}), engine)
    assert result.to_arrow().equals(pinned.to_arrow())

    path = tmp_path / "ct-now.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "ct-now.s5cmd"
    result.write(str(out))
    assert "# IDC version: v25 (BigQuery bigquery-public-data.idc_current.dicom_all" in (
        out.read_text()
    )
