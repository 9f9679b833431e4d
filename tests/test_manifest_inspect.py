"""`idc-sql manifest inspect`: manifests of any form, resolved against the installed index.

Expected counts are computed here straight from the index's parquet files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

import idc_sql
from idc_sql.engines.local import index_dir
from idc_sql.manifests_in import inspect, parse_text

INSTALLED = 25


def _index(query: str, **params: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect() as con:
        for name in ("idc_index", "prior_versions_index"):
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{index_dir() / name}.parquet')"
            )
        return con.execute(query, params).fetchall()


def _releases(ranges: list[tuple[int, int]]) -> dict[str, int]:
    counts: Counter[int] = Counter()
    for first, last in ranges:
        counts.update(range(first, last + 1))
    return {f"v{r}": n for r, n in sorted(counts.items())}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", *args], capture_output=True, text=True, check=False
    )


def _earlier(n: int) -> list[tuple[str, str, str, int, int, int]]:
    """Series versions only earlier releases served: uuid, buckets, releases, bytes."""
    return _index(
        "SELECT crdc_series_uuid, arg_max(aws_bucket, max_idc_version), "
        "arg_max(gcs_bucket, max_idc_version), min(min_idc_version), max(max_idc_version), "
        "CAST(round(max(series_size_MB) * 1e6) AS BIGINT) FROM prior_versions_index "
        "GROUP BY crdc_series_uuid ORDER BY crdc_series_uuid LIMIT $n",
        n=n,
    )


def test_a_current_manifest(tmp_path: Path) -> None:
    spec = {"name": "rider", "where": {"collection_id": "rider_pilot", "Modality": "CT"}}
    path = tmp_path / "rider.s5cmd"
    idc_sql.run(spec).write(str(path))
    ((series, instances, size),) = _index(
        "SELECT count(*), sum(instanceCount), sum(CAST(round(series_size_MB * 1e6) AS BIGINT)) "
        "FROM idc_index WHERE collection_id = 'rider_pilot' AND Modality = 'CT'"
    )
    ranges = _index(
        "SELECT series_revised_idc_version, $v FROM idc_index "
        "WHERE collection_id = 'rider_pilot' AND Modality = 'CT'",
        v=INSTALLED,
    )
    report = inspect(path).as_dict()
    assert (report["current_lines"], report["earlier_release_lines"]) == (series, 0)
    assert (report["resolved_lines"], report["unresolved_lines"]) == (series, 0)
    assert (report["series"], report["instances_current"]) == (series, instances)
    assert report["size_bytes"] == size
    assert report["releases"] == _releases(ranges)
    assert report["best_release"] == INSTALLED
    assert report["declared"]["release"] == INSTALLED
    assert report["declared"]["series"] == series
    assert report["collections"] == ["rider_pilot"]


def test_an_earlier_release_manifest(tmp_path: Path) -> None:
    old = _earlier(9)
    lines = [f"cp s3://{aws}/{uuid}/* ." for uuid, aws, _, _, _, _ in old[:3]]
    lines += [f"cp gs://{gcs}/{uuid}/* data/" for uuid, _, gcs, _, _, _ in old[3:6]]
    lines += [uuid.upper() for uuid, *_ in old[6:]]  # bare, in upper case
    path = tmp_path / "v20.txt"
    path.write_text("\n".join(lines) + "\n")
    report = inspect(path).as_dict()
    assert report["current_lines"] == 0
    assert report["earlier_release_lines"] == 9
    assert report["unresolved_lines"] == 0
    assert report["size_bytes"] == sum(row[5] for row in old)
    assert report["instances_current"] == 0
    assert report["releases"] == _releases([(row[3], row[4]) for row in old])


def test_garbage_lines_are_counted_by_number(tmp_path: Path) -> None:
    current = _index("SELECT aws_bucket, crdc_series_uuid FROM idc_index ORDER BY 2 LIMIT 3")
    old = _earlier(2)
    text = "\r\n".join(
        [
            "# a manifest with garbage in it",  # 1
            f"cp s3://{current[0][0]}/{current[0][1]}/* .",  # 2: current
            "hello world",  # 3: not a line of a manifest
            f"cp s3://{old[0][1]}/{old[0][0]}/* .",  # 4: earlier
            "cp s3://idc-open-data/not-a-uuid/* .",  # 5: names no series
            "",  # 6
            f"s3://{current[1][0]}/{current[1][1]}/*",  # 7: a URL alone, current
            "cp s3://idc-open-data/00000000-0000-4000-8000-000000000000/* .",  # 8: unknown
            f'cp "s3://{current[2][0]}/{current[2][1]}/* .',  # 9: unbalanced quote
            f"cp --show-progress 's3://{current[2][0]}/{current[2][1]}/*' './a b/'",  # 10
            f"{old[1][0]}",  # 11: bare, earlier
            f"cp s3://{current[0][0]}/{current[0][1]}/* .",  # 12: current, a duplicate
            "rm s3://idc-open-data/x/*",  # 13: not a cp line
        ]
    )
    path = tmp_path / "mixed.s5cmd"
    path.write_text(text + "\r\n")
    found = inspect(path)
    report = found.as_dict()
    assert report["lines"] == 13
    assert report["comment_lines"] == 1
    assert report["series_lines"] == 11
    assert report["current_lines"] == 4
    assert report["earlier_release_lines"] == 2
    assert report["unresolved_lines"] == 5
    assert [u["line"] for u in report["unresolved"]] == [3, 5, 8, 9, 13]
    assert report["series"] == 5
    assert report["duplicates"] == {current[0][1]: [2, 12]}
    tenth = next(e for e in found.manifest.entries if e.line == 10)
    assert tenth.destination == "./a b/"  # quotes are read as a shell reads them


def test_the_command_line(tmp_path: Path) -> None:
    old = _earlier(1)
    path = tmp_path / "m.txt"
    path.write_text(f"cp s3://{old[0][1]}/{old[0][0]}/* .\nnot a line\n")
    done = _cli("manifest", "inspect", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["earlier_release_lines"], report["unresolved_lines"]) == (1, 1)
    done = _cli("manifest", "inspect", str(path))
    assert done.returncode == 0, done.stderr
    assert "  line 2: neither a cp line, a series URL nor a crdc_series_uuid: not a line" in (
        done.stdout.splitlines()
    )
    done = _cli("manifest", "inspect", str(tmp_path / "missing.txt"))
    assert done.returncode == 2
    assert done.stderr.startswith("idc-sql: error: cannot read the manifest")


@pytest.mark.parametrize(
    ("line", "read"),
    [
        ("cp s3://b-1/0a0b0c0d-0000-4000-8000-000000000001/* d/", ("s3", "b-1", "d/")),
        ("cp gs://g/0A0B0C0D-0000-4000-8000-000000000001/* .", ("gs", "g", ".")),
        ("cp s3://b/0a0b0c0d-0000-4000-8000-000000000001/*", ("s3", "b", None)),
        ("s3://b/0a0b0c0d-0000-4000-8000-000000000001/", ("s3", "b", None)),
        ("  cp  -n  s3://b/0a0b0c0d-0000-4000-8000-000000000001/*  'x y/'  ", ("s3", "b", "x y/")),
    ],
)
def test_the_forms_of_a_line(line: str, read: tuple[str, str, str | None]) -> None:
    (entry,) = parse_text(line).entries
    assert entry.crdc_series_uuid == "0a0b0c0d-0000-4000-8000-000000000001"
    assert (entry.scheme, entry.bucket, entry.destination) == read
