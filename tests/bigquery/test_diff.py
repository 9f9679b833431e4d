"""A diff on BigQuery: both releases' cohorts in one query over idc_v24 and idc_v25."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from google.cloud import bigquery

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import FAST_RETRY, Emulator
from .fixture import FIXTURE_PROJECT, fixture_tables

REMOVED_UID = "1.2.826.0.1.3680043.8.498.999999999"


def _series(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(Counter(r["SeriesInstanceUID"] for r in rows))


@pytest.fixture(scope="module")
def v24(bq_emulator: Emulator) -> dict[str, str]:
    """idc_v24: v25 without one series (added in v25), another with other files (revised in
    v25), and a series v25 no longer has (removed)."""
    (dicom_all,) = [t for t in fixture_tables() if t.name == "dicom_all"]
    rows = [dict(r) for r in dicom_all.rows]
    uids = _series(rows)
    added, revised, copied = uids[0], uids[1], uids[2]
    older: list[dict[str, Any]] = []
    for row in rows:
        uid = row["SeriesInstanceUID"]
        if uid == added:
            continue
        if uid == revised:
            row = {**row, "crdc_series_uuid": "00000000-0000-4000-8000-000000000024"}
        older.append(row)
        if uid == copied:
            gone = {
                **row,
                "SeriesInstanceUID": REMOVED_UID,
                "SOPInstanceUID": f"{row['SOPInstanceUID']}.9",
                "crdc_series_uuid": "00000000-0000-4000-8000-000000000099",
            }
            older.append(gone)
    client = bq_emulator.client()
    client.create_dataset(
        bigquery.Dataset(f"{FIXTURE_PROJECT}.idc_v24"), exists_ok=True, retry=FAST_RETRY
    )
    table = bigquery.Table(f"{FIXTURE_PROJECT}.idc_v24.dicom_all", schema=dicom_all.schema)
    client.delete_table(table, not_found_ok=True, retry=FAST_RETRY)
    client.create_table(table, retry=FAST_RETRY)
    for start in range(0, len(older), 2000):
        assert not client.insert_rows_json(table, older[start : start + 2000], retry=FAST_RETRY)
    return {"added": added, "revised": revised, "removed": REMOVED_UID, "n": str(len(uids))}


def test_a_diff_across_two_datasets(
    bq_emulator: Emulator, v24: dict[str, str], tmp_path: Path
) -> None:
    engine = BigQueryEngine(
        Settings.resolve(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    )
    change = idc_sql.diff({"name": "everything"}, 24, 25, engine)
    c = change.counts
    n = int(v24["n"])
    assert (c.added, c.removed, c.revised, c.unchanged) == (1, 1, 1, n - 2)
    fetch = tmp_path / "fetch.s5cmd"
    change.to_fetch().write(str(fetch))
    lines = [x for x in fetch.read_text().splitlines() if not x.startswith("#")]
    assert len(lines) == 2
    gone = change.to_delete().to_arrow().to_pydict()
    assert sorted(gone["SeriesInstanceUID"]) == sorted([v24["removed"], v24["revised"]])
    assert "00000000-0000-4000-8000-000000000024" in gone["crdc_series_uuid"]
