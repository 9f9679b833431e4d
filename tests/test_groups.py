"""Summaries by field: ``idc-sql count SPEC --by FIELD[,FIELD...]``, ``idc-sql values FIELD``
and their Python API (DataFrames), checked against a plain reading of the index's parquet."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import idc_index_data
import pyarrow.parquet as pq
import pytest

import idc_sql
from idc_sql.errors import UsageError

CLI = (sys.executable, "-m", "idc_sql.cli")
RIDER = "name: rider\nwhere:\n  collection_id: rider_pilot\n"


def idc_sql_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def rider_rows() -> list[dict[str, Any]]:
    table = pq.read_table(
        idc_index_data.IDC_INDEX_PARQUET_FILEPATH,
        columns=[
            "collection_id",
            "PatientID",
            "StudyInstanceUID",
            "Modality",
            "BodyPartExamined",
            "series_size_MB",
        ],
        filters=[("collection_id", "=", "rider_pilot")],
    )
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _expected(rows: list[dict[str, Any]], by: tuple[str, ...]) -> list[dict[str, Any]]:
    """The groups of ``rows``, counted in Python, most series first, then by value."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[f] for f in by)].append(row)
    out = [
        {
            **dict(zip(by, key, strict=True)),
            "series": len(members),
            "studies": len({m["StudyInstanceUID"] for m in members}),
            "patients": len({(m["collection_id"], m["PatientID"]) for m in members}),
            "size_mb": sum(m["series_size_MB"] for m in members),
        }
        for key, members in groups.items()
    ]
    return sorted(out, key=lambda g: (-g["series"], *((g[f] is None, g[f] or "") for f in by)))


def _same(found: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [{k: v for k, v in g.items() if k != "size_mb"} for g in found] == [
        {k: v for k, v in g.items() if k != "size_mb"} for g in expected
    ]
    for f, e in zip(found, expected, strict=True):
        assert f["size_mb"] == pytest.approx(e["size_mb"])


def test_count_by_as_json(tmp_path: Path, rider_rows: list[dict[str, Any]]) -> None:
    (tmp_path / "rider.yaml").write_text(RIDER, encoding="utf-8")
    done = idc_sql_cli(
        "count", "rider.yaml", "--by", "Modality,BodyPartExamined", "--json", cwd=tmp_path
    )
    assert (done.returncode, done.stderr) == (0, "")
    _same(json.loads(done.stdout), _expected(rider_rows, ("Modality", "BodyPartExamined")))


def test_count_by_as_a_table(tmp_path: Path) -> None:
    (tmp_path / "rider.yaml").write_text(RIDER, encoding="utf-8")
    done = idc_sql_cli("count", "rider.yaml", "--by", "Modality,BodyPartExamined", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        "Modality  BodyPartExamined  SERIES  STUDIES  PATIENTS       SIZE",
        "PR        CHEST                240       17         8  342.12 KB",
        "SEG       (missing)            200       17         8   29.18 MB",
        "CT        (missing)            172       32         8   10.84 GB",
        "SR        (missing)            140      117         8    5.00 MB",
        "DX        CHEST                 20       20         5  374.27 MB",
        "CR        CHEST                  2        2         2   15.07 MB",
    ]


def test_values_of_a_field(tmp_path: Path, rider_rows: list[dict[str, Any]]) -> None:
    (tmp_path / "rider.yaml").write_text(RIDER, encoding="utf-8")
    done = idc_sql_cli("values", "Modality", "--spec", "rider.yaml", "--json", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    expected = [
        {"Modality": g["Modality"], "series": g["series"]}
        for g in _expected(rider_rows, ("Modality",))
    ]
    assert json.loads(done.stdout) == expected
    done = idc_sql_cli("values", "Modality", "--spec", "rider.yaml", cwd=tmp_path)
    assert done.stdout.splitlines()[:3] == [
        "Modality  SERIES",
        "PR           240",
        "SEG          200",
    ]


def test_values_over_every_series(tmp_path: Path) -> None:
    done = idc_sql_cli("values", "collection_id", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    collections = pq.read_table(
        idc_index_data.IDC_INDEX_PARQUET_FILEPATH, columns=["collection_id"]
    ).column(0)
    assert len(rows) == len(set(collections.to_pylist()))
    assert sum(r["series"] for r in rows) == len(collections)
    assert rows[0] == {"collection_id": "nlst", "series": rows[0]["series"]}


BAD_BY = {
    (
        "count",
        "rider.yaml",
        "--by",
        "Modalty",
    ): "--by Modalty: unknown field 'Modalty'; did you mean Modality?",
    (
        "count",
        "rider.yaml",
        "--by",
        "Modality,",
    ): "--by takes field names separated by commas, got 'Modality,'",
    ("count", "rider.yaml", "--by", "SliceThickness"): (
        "--by SliceThickness: SliceThickness is recorded per instance and a series has many "
        "values; group by series-level fields"
    ),
    ("values", "Modalty"): "values Modalty: unknown field 'Modalty'; did you mean Modality?",
}


@pytest.mark.parametrize("args", list(BAD_BY))
def test_bad_fields_are_refused(args: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "rider.yaml").write_text(RIDER, encoding="utf-8")
    done = idc_sql_cli(*args, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        f"idc-sql: error: {BAD_BY[args]}\n",
    )


def test_python_api_returns_dataframes(rider_rows: list[dict[str, Any]]) -> None:
    spec = {"name": "rider", "where": {"collection_id": "rider_pilot"}}
    frame = idc_sql.count_by(spec, ["Modality"])
    assert list(frame.columns) == ["Modality", "series", "studies", "patients", "size_mb"]
    _same(frame.to_dict("records"), _expected(rider_rows, ("Modality",)))
    values = idc_sql.values("Modality", spec)
    assert list(values.columns) == ["Modality", "series"]
    assert values.to_dict("records") == [
        {"Modality": g["Modality"], "series": g["series"]}
        for g in _expected(rider_rows, ("Modality",))
    ]
    with pytest.raises(UsageError) as caught:
        idc_sql.count_by(spec, "Modalty")
    assert str(caught.value) == "by='Modalty': unknown field 'Modalty'; did you mean Modality?"
