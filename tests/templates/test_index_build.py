"""``idc-sql index build`` without BigQuery: what it refuses before it connects to anything, and
how the local engine reads an index folder's builds of each release (the builds themselves are
tested on the BigQuery emulator, tests/bigquery/test_index_build.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import idc_sql
from idc_sql import cli
from idc_sql.errors import UnsupportedError, UsageError
from idc_sql.indexes.build import buildable
from idc_sql.indexes.folder import release_folder
from idc_sql.indexes.wheel import index_release, schema, sql_path
from idc_sql.templates.loading import parse_template

#: an address nothing answers at: every test here must fail before it is used
NOWHERE = ["--bigquery-endpoint", "http://127.0.0.1:9", "--project", "p"]
INSTALLED, _ = index_release()


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_the_indices_it_builds_are_those_the_wheel_ships_one_query_for() -> None:
    names = buildable()
    assert {"seg_index", "sm_index", "clinical_index", "idc_index", "ct_index"} <= set(names)
    assert all(sql_path(n) is not None for n in names)
    assert "prior_versions_index" not in names  # a BigQuery script
    assert sql_path("prior_versions_index") is not None


def test_an_unknown_name_lists_the_names_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["index", "build", "seg_index", "no_such_index", "--engine", "bigquery", *NOWHERE]
    assert cli.main([*args, "--index-dir", str(tmp_path)]) == 2
    assert _error(capsys) == (
        "idc-sql: error: no index no_such_index: index build builds the indices whose SQL "
        f"idc-index-data ships: {', '.join(buildable())}\n"
    )
    with pytest.raises(UsageError, match=r"^name at least one index: index build builds"):
        idc_sql.build_index([], "bigquery", index_dir=tmp_path, endpoint="http://127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []


def test_a_script_is_refused_saying_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["index", "build", "prior_versions_index", "--engine", "bigquery", *NOWHERE]
    assert cli.main([*args, "--index-dir", str(tmp_path)]) == 2
    err = _error(capsys)
    assert err.startswith(
        "idc-sql: error: prior_versions_index cannot be built: IDC's SQL for it is not a single "
        "query ("
    )
    assert "SET is BigQuery scripting" in err


def test_the_local_engine_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["index", "build", "seg_index", "--index-dir", str(tmp_path)]) == 2
    assert _error(capsys) == (
        "idc-sql: error: index build reads IDC's tables on BigQuery, which the local engine "
        "does not hold (it reads the indices once built). Run it with --engine bigquery\n"
    )
    with pytest.raises(UsageError, match=r"Run it with engine='bigquery'$"):
        idc_sql.build_index("seg_index", "local", index_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_needed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("IDC_SQL_INDEX_DIR", raising=False)
    assert cli.main(["index", "build", "seg_index", "--engine", "bigquery", *NOWHERE]) == 2
    assert _error(capsys) == (
        "idc-sql: error: index build needs a folder to write the indices to: name one with "
        "--index-dir (or IDC_SQL_INDEX_DIR)\n"
    )


def test_the_help_says_where_builds_go(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["index", "build", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--idc-version N builds release N into the folder's idc_vN/" in out
    assert "stops them all before any query runs" in out


# ----------------------------------------------------------------------------- reading builds


def _sm_index(path: Path, series: list[str], release: Any) -> None:
    """An sm_index file as ``index build`` writes it (the wheel's columns, the release in the
    metadata); ``release`` None records none."""
    arrays = {}
    for c in schema("sm_index")["columns"]:  # type: ignore[index]
        kind = {"STRING": pa.string(), "INTEGER": pa.int64(), "FLOAT": pa.float64()}[c["type"]]
        repeated = c["mode"] == "REPEATED"
        if c["name"] == "SeriesInstanceUID":
            values: list[Any] = series
        elif c["name"] == "staining_usingSubstance_CodeMeaning":
            values = [["hematoxylin stain"]] * len(series)
        else:
            values = [[] if repeated else None] * len(series)
        arrays[c["name"]] = pa.array(values, pa.list_(kind) if repeated else kind)
    table = pa.table(arrays)
    if release is not None:
        table = table.replace_schema_metadata(
            {"idc_sql": json.dumps({"index": "sm_index", "idc_version": release})}
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


@pytest.fixture(scope="module")
def sm_series() -> list[str]:
    """SM series that IDC v24 served (none was added or revised in v25)."""
    result = idc_sql.run_template(
        parse_template(
            "SELECT SeriesInstanceUID FROM idc_index WHERE Modality = 'SM'\n"
            "ORDER BY SeriesInstanceUID LIMIT 2",
            "sm.sql",
        ),
        idc_version=INSTALLED - 1,
    )
    return [str(v) for v in result.to_arrow().column("SeriesInstanceUID").to_pylist()]


def test_an_earlier_release_is_read_from_its_own_folder_for_that_release_only(
    tmp_path: Path, sm_series: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = INSTALLED - 1
    assert release_folder(tmp_path, INSTALLED, INSTALLED) == tmp_path
    kept = release_folder(tmp_path, earlier, INSTALLED)
    assert kept == tmp_path / f"idc_v{earlier}"
    _sm_index(kept / "sm_index.parquet", sm_series, earlier)

    result = idc_sql.run_template("slides-by-stain", idc_version=earlier, index_dir=tmp_path)
    (row,) = result.to_arrow().to_pylist()
    assert (row["stain"], row["sm_series"]) == ("hematoxylin stain", len(sm_series))
    assert result.provenance.release == f"v{earlier}"
    assert f"{kept / 'sm_index.parquet'}, built from IDC v{earlier}" in result.provenance.source

    # never for the installed release: that one has no sm_index here, and the refusal says how
    # to build it
    with pytest.raises(UnsupportedError) as refused:
        idc_sql.run_template("slides-by-stain", index_dir=tmp_path)
    assert "`idc-sql index build sm_index --engine bigquery`" in str(refused.value)

    assert cli.main(["tables", "--engine", "local", "--index-dir", str(tmp_path)]) == 0
    assert "sm_index" not in capsys.readouterr().out
    args = ["tables", "--engine", "local", "--index-dir", str(tmp_path)]
    assert cli.main([*args, "--idc-version", str(earlier)]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "sm_index" in line]
    assert len(listed) == 1
    assert f"{len(sm_series):>12,}" in listed[0]


@pytest.mark.parametrize(
    ("release", "why"),
    [
        (None, "does not record the release it was built from"),
        (INSTALLED, f"was built from IDC v{INSTALLED}; its folder is for v{INSTALLED - 1}"),
    ],
)
def test_a_file_in_a_release_folder_must_record_that_release(
    tmp_path: Path, sm_series: list[str], release: int | None, why: str
) -> None:
    earlier = INSTALLED - 1
    _sm_index(tmp_path / f"idc_v{earlier}" / "sm_index.parquet", sm_series, release)
    with pytest.raises(UnsupportedError, match=why):
        idc_sql.run_template("slides-by-stain", idc_version=earlier, index_dir=tmp_path)


def test_a_recorded_release_may_be_written_as_a_label(tmp_path: Path, sm_series: list[str]) -> None:
    # as a result written by `idc-sql template run -o x.parquet` records it
    _sm_index(tmp_path / "sm_index.parquet", sm_series, f"v{INSTALLED - 1}")
    with pytest.raises(UnsupportedError, match=f"was built from IDC v{INSTALLED - 1}; the local"):
        idc_sql.run_template("slides-by-stain", index_dir=tmp_path)
