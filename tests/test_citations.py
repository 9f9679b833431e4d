"""`idc-sql cite` and the license split of `run`: from the local index only, checked against
counts computed here straight from its parquet files."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

import idc_sql
from idc_sql.citations import FORMATS, IDC, cite, license_split, non_commercial
from idc_sql.engines.local import index_dir

COLLECTIONS = ["acrin_nsclc_fdg_pet", "nsclc_radiomics_interobserver1", "rider_lung_ct"]
SPEC = {"name": "three", "where": {"collection_id": COLLECTIONS}}


def _index(query: str, **params: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect() as con:
        parquet = index_dir() / "idc_index.parquet"
        con.execute(f"CREATE VIEW idc_index AS SELECT * FROM read_parquet('{parquet}')")
        return con.execute(query, params).fetchall()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_a_cohort_cites_exactly_its_collections_and_analysis_results() -> None:
    credits = cite(SPEC)
    report = json.loads(FORMATS["json"](credits))
    by_collection = dict(
        _index(
            "SELECT collection_id, count(*) FROM idc_index WHERE list_contains($c, collection_id) "
            "GROUP BY 1",
            c=COLLECTIONS,
        )
    )
    results = dict(
        _index(
            "SELECT analysis_result_id, count(*) FROM idc_index "
            "WHERE list_contains($c, collection_id) AND analysis_result_id IS NOT NULL GROUP BY 1",
            c=COLLECTIONS,
        )
    )
    assert {c["collection_id"]: c["series"] for c in report["collections"]} == by_collection
    assert {a["analysis_result_id"]: a["series"] for a in report["analysis_results"]} == results
    assert len(results) > 1  # the cohort draws on analysis results too
    assert report["series"] == sum(by_collection.values())
    for collection in report["collections"]:
        assert collection["sources"], collection["collection_id"]
        for source in collection["sources"]:
            assert source["doi"]
            assert source["license"]
            assert source["citation"]
            assert "<i>" not in source["citation"]
            assert "&amp;" not in source["citation"]
    assert report["idc"]["doi"] == "10.1148/rg.230180"


def test_the_license_split_is_the_index_s() -> None:
    expected = _index(
        "SELECT license_short_name, count(*), sum(CAST(round(series_size_MB * 1e6) AS BIGINT)) "
        "FROM idc_index WHERE list_contains($c, collection_id) GROUP BY 1",
        c=COLLECTIONS,
    )
    credits = cite(SPEC)
    assert {(s.license, s.series) for s in credits.licenses.values()} == {
        (name, n) for name, n, _ in expected
    }
    sizes = {s.license: s.size_bytes for s in credits.licenses.values()}
    for name, _, size in expected:
        assert abs(sizes[name] - size) <= 1
    result = idc_sql.run(SPEC, also=("license_short_name",))
    assert {(s.license, s.series) for s in license_split(result)} == {
        (name, n) for name, n, _ in expected
    }
    assert [non_commercial(s.license) for s in license_split(result)].count(True) == 1


def test_every_format_cites_idc_first() -> None:
    credits = cite(SPEC)
    text = FORMATS["text"](credits)
    assert text.splitlines()[2].startswith("[1] Fedorov A, Longabaugh WJR, Pot D")
    assert "https://doi.org/10.1148/rg.230180" in text
    bib = FORMATS["bibtex"](credits)
    keys = re.findall(r"^@\w+\{([^,]+),", bib, flags=re.MULTILINE)
    assert keys[0] == IDC.id
    assert len(keys) == len(set(keys))
    assert bib.count("{") == bib.count("}") + bib.count("\\}") - bib.count("\\{")
    items = json.loads(FORMATS["csl-json"](credits))
    assert items[0]["DOI"] == IDC.doi
    assert items[0]["author"][0] == {"family": "Fedorov", "given": "Andrey"}
    assert len({i["id"] for i in items}) == len(items) == len(keys)
    rows = list(csv.DictReader(io.StringIO(FORMATS["csv"](credits))))
    assert len(rows) == len(keys) - 1
    assert {r["kind"] for r in rows} == {"collection", "analysis_result"}


def test_a_manifest_with_an_earlier_version_and_an_unknown_series(tmp_path: Path) -> None:
    ((uuid, collection),) = duckdb.sql(
        "SELECT crdc_series_uuid, collection_id FROM "
        f"read_parquet('{index_dir()}/prior_versions_index.parquet') "
        "ORDER BY crdc_series_uuid LIMIT 1"
    ).fetchall()
    path = tmp_path / "old.txt"
    path.write_text(f"{uuid}\n00000000-0000-4000-8000-000000000000\n")
    report = json.loads(FORMATS["json"](cite(path)))
    assert report["not_in_the_index"] == 1
    assert [c["collection_id"] for c in report["collections"]] == [collection]
    assert report["collections"][0]["sources"]  # credited to the collection's original data
    assert [s["license"] for s in report["licenses"]] == [
        "unknown (a series version of an earlier release)"
    ]


def test_run_prints_the_license_split_and_warns_of_non_commercial_use(tmp_path: Path) -> None:
    spec = tmp_path / "cohort.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    done = _cli("run", str(spec), "-o", "out.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    split = _index(
        "SELECT license_short_name, count(*) FROM idc_index "
        "WHERE list_contains($c, collection_id) GROUP BY 1 ORDER BY 2 DESC, 1",
        c=COLLECTIONS,
    )
    lines = done.stdout.splitlines()
    start = lines.index("  licenses")
    shown = [
        re.split(r"\s{2,}", line.strip())[:2] for line in lines[start + 1 : start + 1 + len(split)]
    ]
    assert shown == [[name, f"{n:,} series"] for name, n in split]
    (nc,) = [n for name, n in split if "NC" in name]
    assert done.stderr.startswith(f"idc-sql: warning: {nc:,} series (")
    assert "non-commercial use only (CC BY-NC 3.0)" in done.stderr


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_cite_command(tmp_path: Path, fmt: str) -> None:
    spec = tmp_path / "cohort.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    done = _cli("cite", str(spec), "--format", fmt, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert FORMATS[fmt](cite(spec)).strip() == done.stdout.strip()
    assert "non-commercial" in done.stderr
