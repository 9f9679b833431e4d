"""Every writer's output read back: the same series, in the same order, and the same provenance.

Also the ``viewer_url`` column, computed from the index by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hostile import read_manifest

import idc_sql
from idc_sql.engines.local import index_dir
from idc_sql.outputs.provenance import read_header, record
from idc_sql.result import CohortResult
from idc_sql.writers import WRITERS, Job, default_name, write
from idc_sql.writers.layout import parse_layout
from idc_sql.writers.safety import CLOUDS

SPEC = {
    "name": "rider-mixed",
    "where": {"collection_id": "rider_pilot", "Modality": ["CT", "SR"]},
    "columns": ["SeriesInstanceUID", "Modality", "SeriesNumber", "series_size_MB", "viewer_url"],
}


@pytest.fixture(scope="module")
def result() -> CohortResult:
    return idc_sql.run(idc_sql.parse_spec(SPEC))


def _expected_record(result: CohortResult, fmt: str, written_at: str) -> dict[str, Any]:
    manifest = WRITERS[fmt].manifest
    job = Job(
        fmt,
        "",
        written_at,
        result.columns,
        parse_layout(None, None) if manifest else None,
        CLOUDS["aws"] if manifest else None,
    )
    return record(result.provenance, result.summary, fmt, written_at, job.extra())


def _check_time(written_at: str, start: dt.datetime) -> None:
    when = dt.datetime.strptime(written_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert start.replace(microsecond=0) <= when <= dt.datetime.now(dt.timezone.utc)


def _rows(result: CohortResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = result.to_arrow().to_pylist()
    return rows


def _read(path: Path, fmt: str) -> tuple[dict[str, Any], Any]:
    """(provenance, content) of a written file."""
    if fmt == "parquet":
        metadata = pq.read_schema(path).metadata
        return json.loads(metadata[b"idc_sql"]), pq.read_table(path).to_pylist()
    text = path.read_text(encoding="utf-8")
    if fmt == "jsonl":
        sidecar = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
        return sidecar, [json.loads(line) for line in text.splitlines()]
    if fmt == "manifest-json":
        document = json.loads(text)
        return document["provenance"], document["series"]
    if fmt == "s5cmd":
        manifest = read_manifest(text)
        return manifest.provenance, manifest.lines
    lines = text.splitlines(keepends=True)
    n = int(lines[0].split(", ")[1].split()[0])
    assert all(line.startswith("# ") for line in lines[:n])
    body = "".join(lines[n:])
    reader = csv.DictReader(io.StringIO(body), delimiter="\t" if fmt == "tsv" else ",")
    return read_header(text), list(reader)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_round_trip(result: CohortResult, tmp_path: Path, fmt: str) -> None:
    start = dt.datetime.now(dt.timezone.utc)
    path = tmp_path / default_name("rider", fmt)
    assert write(result, str(path)) == fmt
    provenance, content = _read(path, fmt)
    _check_time(provenance["written_at"], start)
    assert provenance == _expected_record(result, fmt, provenance["written_at"])
    assert provenance["idc_version"] == "v25"
    assert provenance["series"] == len(_rows(result)) > 0
    rows = _rows(result)
    uids = [r["SeriesInstanceUID"] for r in rows]
    if fmt in ("parquet", "jsonl"):
        assert content == rows
    elif fmt in ("csv", "tsv"):
        assert [r["SeriesInstanceUID"] for r in content] == uids
        assert [float(r["series_size_MB"]) for r in content] == [r["series_size_MB"] for r in rows]
        assert list(content[0]) == list(SPEC["columns"])
    else:
        full = result.fetch(
            result.select(("crdc_series_uuid", "aws_bucket", "SeriesInstanceUID", "instanceCount")),
            "to_arrow_table",
        ).to_pylist()
        uuids = [r["crdc_series_uuid"] for r in full]
        if fmt == "s5cmd":
            assert [u for _, u, _ in content] == uuids
            assert [b for b, _, _ in content] == [r["aws_bucket"] for r in full]
        else:
            assert [s["crdc_series_uuid"] for s in content] == uuids
            assert [s["SeriesInstanceUID"] for s in content] == uids
            assert [s["instance_count"] for s in content] == [r["instanceCount"] for r in full]
            assert [s["size_bytes"] for s in content] == [
                round(r["series_size_MB"] * 1e6) for r in rows
            ]
            assert sum(s["size_bytes"] for s in content) == provenance["size_bytes"]
            assert [s["url"] for s in content] == [
                f"s3://{r['aws_bucket']}/{r['crdc_series_uuid']}/*" for r in full
            ]


def test_a_jsonl_on_standard_output_has_no_sidecar(
    result: CohortResult, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    write(result, "-", "jsonl")
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == _rows(result)
    assert list(tmp_path.iterdir()) == []


def test_the_sidecar_is_replaced_with_the_file(result: CohortResult, tmp_path: Path) -> None:
    out = tmp_path / "rider.jsonl"
    out.write_text("old\n")
    Path(f"{out}.json").write_text("old\n")
    write(result, str(out))
    assert json.loads(Path(f"{out}.json").read_text())["format"] == "jsonl"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rider.jsonl", "rider.jsonl.json"]


def test_csv_is_readable_by_duckdb_skipping_the_header(
    result: CohortResult, tmp_path: Path
) -> None:
    out = tmp_path / "rider.csv"
    write(result, str(out))
    n = int(out.read_text().splitlines()[0].split(", ")[1].split()[0])
    table = duckdb.read_csv(str(out), skiprows=n, header=True).to_arrow_table()
    assert table.column("SeriesInstanceUID").to_pylist() == [
        r["SeriesInstanceUID"] for r in _rows(result)
    ]


def test_viewer_urls(result: CohortResult) -> None:
    index = pq.read_table(
        index_dir() / "idc_index.parquet",
        columns=["StudyInstanceUID", "SeriesInstanceUID", "Modality"],
    )
    viewer = "https://viewer.imaging.datacommons.cancer.gov"
    by_uid = {r["SeriesInstanceUID"]: r for r in index.to_pylist()}
    for r in _rows(result):
        study = by_uid[r["SeriesInstanceUID"]]["StudyInstanceUID"]
        assert r["viewer_url"] == (
            f"{viewer}/v3/viewer/?StudyInstanceUIDs={study}"
            f"&initialSeriesInstanceUID={r['SeriesInstanceUID']}"
        )
    slides = idc_sql.run(
        {"name": "slides", "where": {"Modality": "SM"}, "columns": ["viewer_url"], "limit": 20}
    ).to_arrow()
    sm = index.filter(pc.equal(index["Modality"], "SM")).to_pylist()[:20]
    assert slides.column("viewer_url").to_pylist() == [
        f"{viewer}/slim/studies/{r['StudyInstanceUID']}/series/{r['SeriesInstanceUID']}" for r in sm
    ]


def test_writers_load_the_duckdb_dialect_before_a_second_thread_renders() -> None:
    # a process that has rendered no SQL for DuckDB yet (as after a BigQuery query): the
    # dialect must be built whole before the writer's two threads render at once
    code = (
        "from sqlglot.dialects.dialect import Dialect\n"
        "assert 'duckdb' not in Dialect._classes\n"
        "from idc_sql.writers.copying import concurrently\n"
        "with concurrently():\n"
        "    duckdb = Dialect._classes['duckdb']\n"
        "    assert not duckdb.generator_class.COPY_HAS_INTO_KEYWORD\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
