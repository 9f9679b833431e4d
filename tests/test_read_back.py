"""Manifests read back: what `idc-sql run` writes as s5cmd or manifest-json, `manifest inspect`,
`download` and `cite` read back to the same series and provenance. (The tables, csv, tsv,
parquet and jsonl, are read back in test_formats.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.errors import UsageError
from idc_sql.manifests_in import inspect, names_a_spec, read_manifest
from idc_sql.outputs.provenance import read_header

SPEC = {
    "name": "rider-mixed",
    "where": {"collection_id": ["rider_pilot", "rider_lung_ct"], "Modality": ["CT", "PT"]},
    "limit": 25,
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("read-back")
    result = idc_sql.run(SPEC)
    rows = result.fetch(
        result.select(("crdc_series_uuid", "aws_bucket", "instanceCount", "series_size_MB")),
        "to_arrow_table",
    ).to_pylist()
    paths = {}
    for fmt, name in (("s5cmd", "m.s5cmd"), ("manifest-json", "m.json")):
        paths[fmt] = folder / name
        result.write(str(paths[fmt]), destination="data")
    doc = json.loads(paths["manifest-json"].read_text())
    return {"rows": rows, "paths": paths, "doc": doc, "folder": folder}


@pytest.mark.parametrize("fmt", ["s5cmd", "manifest-json"])
def test_a_manifest_is_read_back_to_its_series_and_provenance(
    written: dict[str, Any], fmt: str
) -> None:
    path = written["paths"][fmt]
    provenance = written["doc"]["provenance"]
    if fmt == "s5cmd":
        assert read_header(path.read_text())["digest"] == provenance["digest"]
    assert not names_a_spec(path)
    m = read_manifest(path)
    assert m.form == ("manifest-json" if fmt == "manifest-json" else "text")
    assert not m.unreadable
    rows = written["rows"]
    assert [e.crdc_series_uuid for e in m.entries] == [r["crdc_series_uuid"] for r in rows]
    assert [e.bucket for e in m.entries] == [r["aws_bucket"] for r in rows]
    assert [e.destination for e in m.entries] == [
        s["destination"] for s in written["doc"]["series"]
    ]
    assert all(e.destination.startswith("data/") for e in m.entries)
    h = m.header
    assert (h.cohort, h.release, h.digest, h.series) == (
        SPEC["name"],
        25,
        provenance["digest"],
        len(rows),
    )
    assert h.size_mb == pytest.approx(provenance["size_mb"], abs=0.01)
    if fmt == "manifest-json":
        assert [e.instances for e in m.entries] == [r["instanceCount"] for r in rows]
        assert [e.size_bytes for e in m.entries] == [round(r["series_size_MB"] * 1e6) for r in rows]
        # each series is numbered by the line of the file that holds it
        lines = path.read_text().splitlines()
        assert all(e.crdc_series_uuid in lines[e.line - 1] for e in m.entries)


@pytest.mark.parametrize("fmt", ["s5cmd", "manifest-json"])
def test_inspect_resolves_every_series(written: dict[str, Any], fmt: str) -> None:
    report = inspect(written["paths"][fmt])
    n = len(written["rows"])
    assert (len(report.current), len(report.earlier), len(report.unresolved)) == (n, 0, 0)
    assert report.size_bytes == written["doc"]["provenance"]["size_bytes"]


def test_download_and_cite_take_a_manifest_json(written: dict[str, Any]) -> None:
    from idc_sql.citations import cite
    from idc_sql.downloads import plan

    paths, folder = written["paths"], written["folder"]
    plans = {fmt: plan(paths[fmt], folder / "dest") for fmt in paths}
    commands = {fmt: [s.command() for s in p.steps] for fmt, p in plans.items()}
    assert commands["manifest-json"] == commands["s5cmd"]
    assert len(commands["s5cmd"]) == len(written["rows"])
    sizes = [s.item.size_bytes for s in plans["manifest-json"].steps]
    assert sizes == [round(r["series_size_MB"] * 1e6) for r in written["rows"]]
    credits = {fmt: cite(paths[fmt]) for fmt in paths}
    assert credits["manifest-json"].licenses == credits["s5cmd"].licenses
    collections = credits["manifest-json"].collections
    assert list(collections) == list(credits["s5cmd"].collections)
    assert set(collections) == set(idc_sql.run(SPEC).to_arrow().column("collection_id").to_pylist())


def test_the_command_line_reads_a_manifest_json(written: dict[str, Any]) -> None:
    path = written["paths"]["manifest-json"]
    done = subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", "manifest", "inspect", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    n = len(written["rows"])
    assert (report["form"], report["current_lines"], report["unresolved_lines"]) == (
        "manifest-json",
        n,
        0,
    )
    assert report["declared"]["digest"] == written["doc"]["provenance"]["digest"]
    done = subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", "download", str(path), "--dest", "d", "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
        cwd=written["folder"],
    )
    assert done.returncode == 0, done.stderr
    assert f"# would fetch {n} of {n} series" in done.stdout


UUID = "085e85b3-3780-47f6-8538-585bcca95336"
URL = f"s3://idc-open-data/{UUID}/*"


@pytest.mark.parametrize(
    ("series", "reason"),
    [
        ([{"url": URL}], "series[1] has no crdc_series_uuid"),
        ([{"crdc_series_uuid": "nope", "url": URL}], "series[1] has no valid crdc_series_uuid"),
        (
            [{"crdc_series_uuid": UUID, "url": "s3://idc-open-data/other/*"}],
            "series[1]: s3://idc-open-data/other/* is not the URL of its series",
        ),
        ([{"crdc_series_uuid": UUID}], "series[1] names no bucket (url or bucket)"),
        (["cp s3://a/b/* ."], "series[1] is not an object"),
    ],
)
def test_a_series_that_cannot_be_read_is_named_by_its_line(
    tmp_path: Path, series: list[Any], reason: str
) -> None:
    good = {"crdc_series_uuid": UUID, "bucket": "idc-open-data"}
    body = ",\n".join(json.dumps(s) for s in [good, *series])
    path = tmp_path / "m.json"
    path.write_text('{\n"provenance": {"cohort": "x"},\n"series": [\n' + body + "\n]\n}\n")
    m = read_manifest(path)
    assert [(e.line, e.bucket) for e in m.entries] == [(4, "idc-open-data")]
    assert [(u.line, u.reason) for u in m.unreadable] == [(5, reason)]
    report = inspect(path)
    assert len(report.unresolved) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"series": [', "is not a JSON document: Expecting value: line 1 column 13 (char 12)"),
        ('{"series": {"a": 1}}', ': a JSON manifest is an object whose "series" is a list'),
    ],
)
def test_a_broken_manifest_json_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        read_manifest(path)
    assert str(caught.value) == f"{path}{' ' if message[0] != ':' else ''}{message}"


def test_a_json_specification_is_still_a_specification(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"name": "x", "where": {"collection_id": "rider_pilot"}}))
    assert names_a_spec(path)
    assert names_a_spec(tmp_path / "missing.json")
