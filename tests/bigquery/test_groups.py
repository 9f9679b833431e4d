"""Summaries by field and warnings of values that match nothing, on BigQuery (the emulator)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings
from idc_sql.settings import Notice

from .emulator import Emulator


@pytest.fixture
def engine(
    bq_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BigQueryEngine]:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path / "cache"))
    eng = BigQueryEngine(
        Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    )
    yield eng
    eng.close()


def test_count_by_groups_the_cohort_the_engine_selects(engine: BigQueryEngine) -> None:
    spec = {"name": "all", "idc_version": 25}
    columns = ["collection_id", "PatientID", "StudyInstanceUID", "Modality", "series_size_MB"]
    rows = idc_sql.run({**spec, "columns": columns}, engine).to_arrow().to_pylist()
    assert rows
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["Modality"]].append(row)
    expected = sorted(
        (
            {
                "Modality": key,
                "series": len(members),
                "studies": len({m["StudyInstanceUID"] for m in members}),
                "patients": len({(m["collection_id"], m["PatientID"]) for m in members}),
            }
            for key, members in groups.items()
        ),
        key=lambda g: (-g["series"], g["Modality"] is None, g["Modality"] or ""),
    )
    frame = idc_sql.count_by(spec, "Modality", engine)
    assert frame.drop(columns="size_mb").to_dict("records") == expected
    sizes = {k: sum(m["series_size_MB"] or 0 for m in v) for k, v in groups.items()}
    for record in frame.to_dict("records"):
        assert record["size_mb"] == pytest.approx(sizes[record["Modality"]])
    values = idc_sql.values("Modality", spec, engine)
    assert values.to_dict("records") == [
        {"Modality": g["Modality"], "series": g["series"]} for g in expected
    ]


def test_values_that_match_nothing_cost_no_scan(engine: BigQueryEngine) -> None:
    # looked up in the local index of the same release (v25): no query of dicom_all beyond
    # the cohort's own, whose estimate is the only one
    heard: list[Notice] = []
    spec = {"name": "w", "idc_version": 25, "where": {"Modality": ["CT", "MRI"]}}
    result = idc_sql.run(spec, engine, report=heard.append)
    assert result.warnings == ("no series has Modality 'MRI'; did you mean 'MR'?",)
    assert [n.kind for n in heard] == ["estimate", "warning"]
    plain = idc_sql.count({"name": "p", "idc_version": 25, "where": {"Modality": "CT"}}, engine)
    assert result.summary == plain
