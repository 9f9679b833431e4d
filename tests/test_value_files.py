"""Identifiers from files: ``{in_file: ...}`` and ``{not_in_file: ...}`` (idc_sql.spec.files).

Each format (text, CSV, TSV, parquet, s5cmd manifest) gives exactly the values it holds, counted
on the local engine against the index read directly; each malformed line is told by its file and
number; the file's content is part of the spec's digest.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import idc_index_data
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import idc_sql
from idc_sql.errors import SpecError
from idc_sql.plan import files as plan_files
from idc_sql.spec import digest, files, source_files

INDEX = str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)
CLI = [sys.executable, "-c", "from idc_sql.cli import console; console()"]


def _index(sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` over the index (``idx``), read directly with DuckDB."""
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW idx AS SELECT * FROM read_parquet('{INDEX}')")
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def rider() -> list[tuple[str, str, str, str]]:
    """(SeriesInstanceUID, PatientID, crdc_series_uuid, aws_bucket) of rider_pilot's series."""
    rows = _index(
        "SELECT SeriesInstanceUID, PatientID, crdc_series_uuid, aws_bucket FROM idx "
        "WHERE collection_id = 'rider_pilot' ORDER BY SeriesInstanceUID"
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name files as given: relative to the working folder


def spec_in(folder: Path, condition: dict[str, Any], name: str = "spec.yaml") -> Path:
    """A spec ``name`` in ``folder`` with ``where: condition``; its path relative to the
    working folder."""
    import yaml

    path = folder / name
    path.write_text(yaml.safe_dump({"name": "f", "where": condition}), encoding="utf-8")
    return path.relative_to(Path.cwd())


def series(path: Path) -> int:
    return idc_sql.count(path).series


def refused(path: Path) -> tuple[str, str]:
    with pytest.raises(SpecError) as caught:
        idc_sql.compile(path)
    return caught.value.location, caught.value.message


# ----------------------------------------------------------------------------- formats


def test_text_file(tmp_path: Path, rider: list[tuple[str, ...]]) -> None:
    uids = [r[0] for r in rider[:30]]
    text = "\ufeff# series of a split\r\n" + "".join(f"  {u}\t\r\n" for u in uids[:20])
    text += "\n   \n# more\n" + "\n".join(uids[20:]) + "\n1.2.3.4.5.6.7.8.9\n"
    (tmp_path / "uids.txt").write_text(text, encoding="utf-8")
    spec = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "uids.txt"}})
    assert series(spec) == 30
    (params,) = idc_sql.compile(spec).params.values()
    assert params == [*uids, "1.2.3.4.5.6.7.8.9"]
    excluded = spec_in(
        tmp_path,
        {"collection_id": "rider_pilot", "SeriesInstanceUID": {"not_in_file": "uids.txt"}},
        "not.yaml",
    )
    assert series(excluded) == len(rider) - 30


def test_csv_and_tsv_columns(tmp_path: Path, rider: list[tuple[str, ...]]) -> None:
    patients = sorted({r[1] for r in rider})[:3]
    expected = sum(1 for r in rider if r[1] in patients)
    rows = "".join(f'"{p}",train,"a, b"\n' for p in patients)
    (tmp_path / "split.csv").write_text("PatientID,split,note\n" + rows, encoding="utf-8")
    (tmp_path / "split.tsv").write_text(
        "subject\tsplit\n" + "".join(f"{p}\ttest\n" for p in patients), encoding="utf-8"
    )
    by_name = spec_in(tmp_path, {"PatientID": {"in_file": "split.csv"}}, "a.yaml")  # the field's
    by_column = spec_in(tmp_path, {"PatientID": {"in_file": "split.tsv", "column": "subject"}})
    folded = spec_in(tmp_path, {"patientid": {"in_file": "split.csv"}}, "b.yaml")
    assert series(by_name) == series(by_column) == series(folded) == expected
    assert 0 < expected < len(rider)


def test_parquet_column(tmp_path: Path, rider: list[tuple[str, ...]]) -> None:
    uids = [r[0] for r in rider[:40]]
    table = pa.table({"n": list(range(40)), "series": uids})
    pq.write_table(table, tmp_path / "split.parquet")
    spec = spec_in(
        tmp_path, {"SeriesInstanceUID": {"in_file": "split.parquet", "column": "series"}}
    )
    assert series(spec) == 40
    numbers = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "split.parquet", "column": "n"}})
    assert refused(numbers) == ("split.parquet", "column 'n' holds int64, not text")
    with_null = pa.table({"SeriesInstanceUID": [uids[0], None]})
    pq.write_table(with_null, tmp_path / "null.parquet")
    nulls = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "null.parquet"}}, "n.yaml")
    assert refused(nulls) == ("null.parquet: row 2", "no value in column 'SeriesInstanceUID'")


def test_s5cmd_manifest(tmp_path: Path, rider: list[tuple[str, ...]]) -> None:
    chosen = rider[:25]
    lines = ["# idc-sql manifest", "# download: s5cmd run x.s5cmd", ""]
    lines += [f"cp s3://{bucket}/{uuid}/* ." for _, _, uuid, bucket in chosen[:20]]
    lines += [f'cp --show-progress "s3://{b}/{u}/*" "data/a b/"' for _, _, u, b in chosen[20:]]
    (tmp_path / "cohort.s5cmd").write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = spec_in(tmp_path, {"crdc_series_uuid": {"in_file": "cohort.s5cmd"}})
    assert series(spec) == 25
    wrong_field = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "cohort.s5cmd"}}, "w.yaml")
    assert refused(wrong_field) == (
        "w.yaml: where.SeriesInstanceUID.in_file",
        "cohort.s5cmd is a manifest, which lists crdc_series_uuid values, not SeriesInstanceUID "
        "(write crdc_series_uuid: {in_file: ...})",
    )


def test_a_manifest_written_by_run_reads_back(tmp_path: Path) -> None:
    (tmp_path / "rider.yaml").write_text(
        "name: rider\nwhere: {collection_id: rider_pilot, Modality: CT}\n", encoding="utf-8"
    )
    idc_sql.run(tmp_path / "rider.yaml").write(str(tmp_path / "rider.s5cmd"))
    again = spec_in(tmp_path, {"crdc_series_uuid": {"in_file": "rider.s5cmd"}})
    assert series(again) == series(tmp_path / "rider.yaml") > 0


# ----------------------------------------------------------------------------- malformed


MALFORMED = {
    "tab": ("uids.txt", "1.2.3\n1.2.4\tx\n", "uids.txt:2", "a tab in '1.2.4\\tx'"),
    "control": ("uids.txt", "1.2.3\n\n1.2\x00.4\n", "uids.txt:3", "a control character"),
    "manifest-in-text": ("uids.txt", "cp s3://b/u/* .\n", "uids.txt:1", "a manifest line"),
    "not-utf8": ("uids.txt", b"1.2.3\n1.2.\xff4\n", "uids.txt:2", "not UTF-8 text"),
    "not-a-uid": ("uids.txt", "# h\n1.2.3\n1.2.x\n", "uids.txt:3", "SeriesInstanceUID '1.2.x'"),
    "too-long": ("uids.txt", "1." * 40 + "1\n", "uids.txt:1", "longer than 64 characters"),
    "csv-fields": ("s.csv", "SeriesInstanceUID,b\n1.2,x\n1.3\n", "s.csv:3", "1 field where"),
    "csv-empty": ("s.csv", "SeriesInstanceUID,b\n1.2,x\n,y\n", "s.csv:3", "no value in column"),
    "csv-column": ("s.csv", "uid,b\n1.2,x\n", "s.csv:1", "no column 'SeriesInstanceUID'"),
    "csv-quote": ("s.csv", 'SeriesInstanceUID\n"1.2\n', "s.csv:", "malformed"),
    "empty": ("uids.txt", "# nothing\n\n", "uids.txt", "holds no values"),
    "bad-manifest": ("m.s5cmd", "# c\nrm -rf /\n", "m.s5cmd:2", "not a manifest line"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_lines_are_told_by_number(tmp_path: Path, case: str) -> None:
    name, content, place, message = MALFORMED[case]
    target = tmp_path / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")
    field = "crdc_series_uuid" if name.endswith(".s5cmd") else "SeriesInstanceUID"
    spec = spec_in(tmp_path, {field: {"in_file": name}})
    location, text = refused(spec)
    assert location.startswith(place), (location, text)
    assert message in text, text


UUID = "0c014675-dba6-4667-b821-80d120a6de07"
BAD_LINES = {  # each format, good lines around one bad one: the place and the message, exactly
    "txt": (
        "uids.txt",
        "# a split\n1.2.3\n\n1.2.x\n1.2.4\n",
        "uids.txt:4",
        "SeriesInstanceUID '1.2.x' is not a DICOM UID (digits in groups separated by dots) "
        "(read for spec.yaml: where.SeriesInstanceUID.in_file)",
    ),
    "csv": (
        "s.csv",
        "SeriesInstanceUID,split\n1.2.3,train\n1.2.4\n1.2.5,test\n",
        "s.csv:3",
        "1 field where the header has 2",
    ),
    "tsv": (
        "s.tsv",
        "SeriesInstanceUID\tsplit\n1.2.3\ttrain\n\ttest\n",
        "s.tsv:3",
        "no value in column 'SeriesInstanceUID'",
    ),
    "s5cmd": (
        "m.s5cmd",
        f"# a manifest\ncp s3://idc-open-data/{UUID}/* .\nrm -rf /\n",
        "m.s5cmd:3",
        "not a manifest line (cp s3://<bucket>/<crdc_series_uuid>/* <destination>): 'rm -rf /'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_bad_line_of_each_format_exactly(tmp_path: Path, case: str) -> None:
    name, content, place, message = BAD_LINES[case]
    (tmp_path / name).write_text(content, encoding="utf-8")
    field = "crdc_series_uuid" if case == "s5cmd" else "SeriesInstanceUID"
    spec = spec_in(tmp_path, {field: {"in_file": name}})
    assert refused(spec) == (place, message)
    done = subprocess.run(
        [*CLI, "count", str(spec)], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"idc-sql: error: {place}: {message}\n"


def test_the_good_lines_around_a_bad_one_count_exactly(tmp_path: Path) -> None:
    """Without the bad line, each file above gives exactly the values of its good lines."""
    (tmp_path / "uids.txt").write_text("# a split\n1.2.3\n\n1.2.4\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text("SeriesInstanceUID,split\n1.2.3,train\n1.2.5,test\n")
    (tmp_path / "m.s5cmd").write_text(f"# a manifest\ncp s3://idc-open-data/{UUID}/* .\n")
    for name, field, expected in (
        ("uids.txt", "SeriesInstanceUID", ["1.2.3", "1.2.4"]),
        ("s.csv", "SeriesInstanceUID", ["1.2.3", "1.2.5"]),
        ("m.s5cmd", "crdc_series_uuid", [UUID]),
    ):
        spec = spec_in(tmp_path, {field: {"in_file": name}}, f"{name}.yaml")
        assert list(idc_sql.compile(spec).params.values()) == [expected]


def test_uuids_of_a_manifest_are_checked(tmp_path: Path) -> None:
    (tmp_path / "m.s5cmd").write_text("cp s3://idc-open-data/ABC/* .\n", encoding="utf-8")
    spec = spec_in(tmp_path, {"crdc_series_uuid": {"in_file": "m.s5cmd"}})
    assert refused(spec) == (
        "m.s5cmd:1",
        "crdc_series_uuid 'ABC' is not a crdc_series_uuid (lowercase hexadecimal 8-4-4-4-12) "
        "(read for spec.yaml: where.crdc_series_uuid.in_file)",
    )


def test_where_a_file_may_be_and_what_it_may_hold(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "uids.txt").write_text("1.2.3\n", encoding="utf-8")
    outside = spec_in(tmp_path / "sub", {"SeriesInstanceUID": {"in_file": "../uids.txt"}})
    assert refused(outside) == (
        f"{outside}: where.SeriesInstanceUID.in_file",
        "../uids.txt is outside the spec's folder (allowed with allow_outside=True)",
    )
    assert idc_sql.compile(outside, allow_outside=True).params == {"p0": ["1.2.3"]}
    missing = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "no.txt"}}, "m.yaml")
    assert refused(missing) == (
        "m.yaml: where.SeriesInstanceUID.in_file",
        "no.txt: no such file (paths are relative to the spec's folder)",
    )
    number = spec_in(tmp_path, {"instanceCount": {"in_file": "uids.txt"}}, "n.yaml")
    location, message = refused(number)
    assert location == "n.yaml: where.instanceCount.in_file"
    assert message.startswith("in_file reads text values from a file; instanceCount compares as")
    column = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "uids.txt", "column": "x"}})
    assert refused(column) == (
        "uids.txt",
        "column applies to .csv, .tsv and .parquet files, not to text",
    )
    alone = spec_in(tmp_path, {"SeriesInstanceUID": {"column": "x"}}, "c.yaml")
    assert refused(alone)[1] == "column names the column of an in_file or not_in_file"


def test_more_values_than_a_list_may_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_LIST", 3)
    (tmp_path / "uids.txt").write_text("1.1\n1.2\n# c\n1.3\n1.4\n", encoding="utf-8")
    spec = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "uids.txt"}})
    assert refused(spec) == ("uids.txt:5", "more values than the limit of 3 in one list")


def test_a_file_of_values_at_and_past_its_list_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_LIST", 3)
    (tmp_path / "uids.txt").write_text("1.1\n1.2\n# c\n1.3\n", encoding="utf-8")
    spec = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "uids.txt"}})
    assert idc_sql.compile(spec).params == {"p0": ["1.1", "1.2", "1.3"]}
    (tmp_path / "uids.txt").write_text("1.1\n1.2\n# c\n1.3\n1.4\n", encoding="utf-8")
    assert refused(spec) == ("uids.txt:5", "more values than the limit of 3 in one list")


@pytest.mark.parametrize("name", ["uids.txt", "uids.parquet"])
def test_a_file_of_values_at_and_past_its_size_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = tmp_path / name
    if name.endswith(".parquet"):
        pq.write_table(pa.table({"SeriesInstanceUID": ["1.2.3"]}), path)
    else:
        path.write_text("1.2.3\n" + "#" * 200 + "\n", encoding="utf-8")
    size = path.stat().st_size
    spec = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": name}})
    monkeypatch.setattr(files, "MAX_VALUES_FILE_BYTES", size)  # at the limit: read
    assert idc_sql.compile(spec).params == {"p0": ["1.2.3"]}
    monkeypatch.setattr(files, "MAX_VALUES_FILE_BYTES", size - 1)  # one byte past it
    limit = (size - 1) // 2**20
    assert refused(spec) == (name, f"larger than the limit of {limit} MiB for a file of values")


# ----------------------------------------------------------------------------- digest


def test_the_files_content_is_part_of_the_digest(tmp_path: Path) -> None:
    (tmp_path / "uids.txt").write_text("1.2.3\n", encoding="utf-8")
    spec = spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "uids.txt"}})
    first = digest(idc_sql.load_spec(spec))
    (tmp_path / "uids.txt").write_text("# a comment changes the file\n1.2.3\n", encoding="utf-8")
    second = digest(idc_sql.load_spec(spec))
    (tmp_path / "uids.txt").write_text("1.2.3\n1.2.4\n", encoding="utf-8")
    third = digest(idc_sql.load_spec(spec))
    assert len({first, second, third}) == 3
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "uids.txt").write_text("1.2.3\n1.2.4\n", encoding="utf-8")
    assert (
        digest(idc_sql.load_spec(spec_in(moved, {"SeriesInstanceUID": {"in_file": "uids.txt"}})))
        == third
    )
    assert (tmp_path / "uids.txt").resolve() in source_files(idc_sql.load_spec(spec))


def test_the_manifest_header_carries_the_digest(
    tmp_path: Path, rider: list[tuple[str, ...]]
) -> None:
    (tmp_path / "uids.txt").write_text(rider[0][0] + "\n", encoding="utf-8")
    spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "uids.txt"}})
    headers = []
    for content in (rider[0][0], rider[1][0]):
        (tmp_path / "uids.txt").write_text(content + "\n", encoding="utf-8")
        done = subprocess.run(
            [*CLI, "run", "spec.yaml", "-o", "out.s5cmd"], cwd=tmp_path, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        text = (tmp_path / "out.s5cmd").read_text()
        headers.append(re.findall(r"[0-9a-f]{16}", text.split("\ncp ")[0]))
        assert digest(idc_sql.load_spec(tmp_path / "spec.yaml")) in headers[-1]
    assert headers[0] != headers[1]


def test_a_run_does_not_write_over_a_file_of_values(tmp_path: Path) -> None:
    (tmp_path / "uids.txt").write_text("1.2.3\n", encoding="utf-8")
    spec_in(tmp_path, {"SeriesInstanceUID": {"in_file": "uids.txt"}})
    done = subprocess.run(
        [*CLI, "run", "spec.yaml", "-o", "uids.txt", "--format", "csv"], cwd=tmp_path,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "is a specification this cohort is read from" in done.stderr
    assert (tmp_path / "uids.txt").read_text() == "1.2.3\n"


def test_schema_documents_the_file_operators() -> None:
    schema = idc_sql.spec.json_schema()
    ops = schema["$defs"]["Ops"]["properties"]
    assert {"in_file", "not_in_file", "column"} <= set(ops)


@given(st.text(alphabet="0123.\n a#\té", max_size=12))
def test_the_fast_uid_check_is_the_regular_expression(joined: str) -> None:
    """The byte-level check of a list of UIDs answers as the UID expression does."""
    assert plan_files._uids(joined) == bool(
        plan_files._JOINED["SeriesInstanceUID"].fullmatch(joined)
    )


@given(st.lists(st.text(alphabet="1.2 \t#cp s3:/", max_size=8), max_size=8))
def test_the_fast_reading_of_text_is_the_line_by_line_one(lines: list[str]) -> None:
    """Text read by whole-list steps gives the values and lines of the loop, and leaves every
    text the loop refuses to it (so that it tells the first bad line, as before)."""
    text = "\n".join(lines)
    fast = files._text_lines(text)
    try:
        checked = files._checked_lines(text, "t.txt", "text")
    except SpecError:
        assert fast is None
    else:
        assert fast is None or fast == checked
