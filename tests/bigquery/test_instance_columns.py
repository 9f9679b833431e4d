"""Per-instance values as columns on BigQuery (``SliceThickness.min``, ``.max``,
``.distinct``), checked against a plain-Python reading of the fixture's rows, and written in
every tabular format."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import Emulator
from .fixture import fixture_tables

Row = dict[str, Any]

COLUMNS = [
    "SeriesInstanceUID",
    "SliceThickness.min",
    "SliceThickness.max",
    "SliceThickness.distinct",
    "ImageType.distinct",
    "Rows.distinct",
    "PixelSpacing[0].max",
]
NAMES = [
    "SeriesInstanceUID",
    "SliceThickness_min",
    "SliceThickness_max",
    "SliceThickness_distinct",
    "ImageType_distinct",
    "Rows_distinct",
    "PixelSpacing_0_max",
]


@pytest.fixture(scope="module")
def expected() -> dict[str, Row]:
    """What each CT and MR series of the fixture should show, computed row by row."""
    table = next(t for t in fixture_tables() if t.name == "dicom_all")
    by_series: dict[str, list[Row]] = defaultdict(list)
    for row in table.rows:
        if row["Modality"] in ("CT", "MR"):
            by_series[row["SeriesInstanceUID"]].append(row)
    out = {}
    for uid, rows in by_series.items():
        thick = [float(r["SliceThickness"]) for r in rows if r.get("SliceThickness") is not None]
        spacing = [float(r["PixelSpacing"][0]) for r in rows if r.get("PixelSpacing")]
        out[uid] = {
            "SeriesInstanceUID": uid,
            "SliceThickness_min": min(thick, default=None),
            "SliceThickness_max": max(thick, default=None),
            "SliceThickness_distinct": _joined(r.get("SliceThickness") for r in rows),
            "ImageType_distinct": _joined(
                "\\".join(r["ImageType"]) for r in rows if r.get("ImageType")
            ),
            "Rows_distinct": _joined(
                None if r.get("Rows") is None else str(r["Rows"]) for r in rows
            ),
            "PixelSpacing_0_max": max(spacing, default=None),
        }
    return out


def _joined(values: Any) -> str | None:
    kept = sorted({v for v in values if v is not None})
    return ",".join(kept) if kept else None


@pytest.fixture
def engine(
    bq_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> BigQueryEngine:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path / "cache"))
    return BigQueryEngine(
        Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    )


def _result(engine: BigQueryEngine) -> Any:
    spec = {
        "name": "t",
        "idc_version": 25,
        "where": {"Modality": ["CT", "MR"]},
        "columns": COLUMNS,
    }
    return idc_sql.run(idc_sql.parse_spec(spec), engine)


def test_values_per_series(engine: BigQueryEngine, expected: dict[str, Row]) -> None:
    table = _result(engine).to_arrow()
    assert table.column_names == NAMES
    got = {row["SeriesInstanceUID"]: row for row in table.to_pylist()}
    assert got == expected
    # the fixture varies these within some series: the aggregates can tell them apart
    assert any(r["SliceThickness_min"] != r["SliceThickness_max"] for r in expected.values())
    assert any("," in (r["ImageType_distinct"] or "") for r in expected.values())


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "jsonl"])
def test_every_format_writes_them(
    engine: BigQueryEngine, expected: dict[str, Row], tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"out.{fmt}"
    _result(engine).write(str(path), fmt)
    if fmt == "parquet":
        rows = pq.read_table(path).to_pylist()
    elif fmt == "jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if not line.startswith("#")]
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
        body = [line for line in lines if not line.startswith("#")]
        rows = list(csv.DictReader(body, delimiter="\t" if fmt == "tsv" else ","))
    assert len(rows) == len(expected)
    for row in rows:
        want = expected[row["SeriesInstanceUID"]]
        assert list(row) == NAMES
        for name in NAMES:
            value = row[name]
            if fmt in ("csv", "tsv"):
                shown = want[name]
                if isinstance(shown, float):
                    assert value != "", name
                    assert float(value) == shown, name
                else:
                    assert value == ("" if shown is None else shown), name
            else:
                assert value == want[name], name
