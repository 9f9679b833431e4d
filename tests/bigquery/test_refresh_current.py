"""A refresh on BigQuery follows ``idc_current``: a cohort refreshed while ``idc_current`` is
release 24, then again once it is release 25, records each release and the change between."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.cloud import bigquery

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import FAST_RETRY, Emulator
from .fixture import fixture_tables

#: a project of its own: other tests keep ``idc_current`` of the fixture's project
DATA_PROJECT = "idc-refresh-tests"
COLLECTION = "tcga_kich"
OLD_UUID = "00000000-0000-4000-8000-000000000024"


def _publish(client: bigquery.Client, release: int, dicom_all: Sequence[dict[str, Any]]) -> None:
    """Make ``idc_current`` release ``release``, holding ``dicom_all``."""
    dataset = bigquery.Dataset(f"{DATA_PROJECT}.idc_current")
    client.delete_dataset(dataset, delete_contents=True, not_found_ok=True, retry=FAST_RETRY)
    client.create_dataset(dataset, retry=FAST_RETRY)
    tables = {t.name: t for t in fixture_tables()}
    versions = [r for r in tables["version_metadata"].rows if r["idc_version"] <= release]
    for name, rows in (("dicom_all", list(dicom_all)), ("version_metadata", versions)):
        table = bigquery.Table(
            f"{DATA_PROJECT}.idc_current.{name}", schema=list(tables[name].schema)
        )
        client.create_table(table, retry=FAST_RETRY)
        for start in range(0, len(rows), 2000):
            assert not client.insert_rows_json(table, rows[start : start + 2000], retry=FAST_RETRY)


def test_a_refresh_follows_idc_current(
    bq_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (dicom_all,) = [t for t in fixture_tables() if t.name == "dicom_all"]
    rows = [r for r in dicom_all.rows if r["collection_id"] == COLLECTION]
    series = sorted({r["SeriesInstanceUID"] for r in rows})
    added, removed, revised = series[:3]
    # release 24: without the series v25 adds, with the one it removes, and an earlier
    # version of the one it revises
    v24 = []
    for row in rows:
        if row["SeriesInstanceUID"] == added:
            continue
        if row["SeriesInstanceUID"] == revised:
            row = copy.deepcopy(row)
            row["crdc_series_uuid"] = OLD_UUID
        v24.append(row)
    v25 = [r for r in rows if r["SeriesInstanceUID"] != removed]

    client = bq_emulator.client()
    engine = BigQueryEngine(
        Settings(
            project="idc-sql-tests",
            endpoint=bq_emulator.endpoint,
            deadline=10,
            data_project=DATA_PROJECT,
        )
    )
    spec = tmp_path / "kich.yaml"
    spec.write_text(yaml.safe_dump({"name": "kich", "where": {"collection_id": COLLECTION}}))
    state = tmp_path / "state"

    _publish(client, 24, v24)
    (first,) = idc_sql.refresh(str(spec), state, engine)
    assert (first.changed, first.release, first.series) == (True, 24, len(series) - 1)

    (again,) = idc_sql.refresh(str(spec), state, engine)  # idc_current has not moved
    assert (again.changed, again.release, again.snapshot) == (False, 24, first.snapshot)

    _publish(client, 25, v25)
    (second,) = idc_sql.refresh(str(spec), state, engine)
    assert (second.changed, second.release, second.previous) == (True, 25, first.snapshot)
    assert (second.added, second.removed, second.revised) == (1, 1, 1)
    assert second.unchanged == len(series) - 3
    fetch = [
        line.split()[1].split("/")[3]
        for line in second.fetch.read_text().splitlines()
        if line.startswith("cp ")
    ]
    new_uuid = {r["SeriesInstanceUID"]: r["crdc_series_uuid"] for r in v25}
    assert sorted(fetch) == sorted([new_uuid[added], new_uuid[revised]])
    assert "# IDC version: v25 (BigQuery idc-refresh-tests.idc_current.dicom_all" in (
        second.fetch.read_text()
    )
    removed_csv = (second.folder / "removed.csv").read_text()
    assert removed in removed_csv
    revised_csv = (second.folder / "revised.csv").read_text()
    assert OLD_UUID in revised_csv

    records = idc_sql.snapshots(str(spec), state)
    assert [(r.release, r.record["requested"], r.record["engine"]) for r in records] == [
        (24, "current", "bigquery"),
        (25, "current", "bigquery"),
    ]
    then = idc_sql.snapshot(str(spec), state, release=24).to_arrow()
    assert set(then.column("SeriesInstanceUID").to_pylist()) == set(series) - {added}
