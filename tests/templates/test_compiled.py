"""The command line's cache of compiled templates (idc_sql.templates.compiled, and .rerun
which replays it).

A run of a template kept by an earlier run writes the same file as the ordinary path, with any
parameter values; anything that could change what the compiled statements mean (the template,
the folders it is found in, the index, the options) sends the request down the ordinary path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from idc_sql import cli
from idc_sql.templates import compiled, rerun

#: the shipped templates whose rows are not series, run locally with their defaults
REPORTS = [
    "collection-summary",
    "collections-by-modality",
    "collections-by-cancer-type",
    "license-breakdown",
    "patients-by-sex-and-age",
    "releases",
]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    return folder / "templates"


def _same_but_time(a: Path, b: Path) -> None:
    """The two files are the same, but for the time each was written."""
    one, two = a.read_text().splitlines(), b.read_text().splitlines()
    assert len(one) == len(two)
    for x, y in zip(one, two, strict=True):
        if x.startswith("# provenance: "):
            x, y = (json.loads(v[len("# provenance: ") :]) for v in (x, y))
            assert x.pop("written_at")
            assert y.pop("written_at")
        elif x.startswith("# written by idc-sql"):
            x, y = x.rsplit(" at ", 1)[0], y.rsplit(" at ", 1)[0]
        assert x == y


def _ordinary(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``argv`` the ordinary way (which keeps an entry); its standard output."""
    assert cli.main(argv) == 0
    return capsys.readouterr().out


def _replayed(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str | None:
    """Replay ``argv``: its standard output, or None when it is left to the ordinary path."""
    code = rerun.replay(argv)
    out = capsys.readouterr().out
    if code is None:
        return None
    assert code == 0
    return out


@pytest.mark.parametrize("name", REPORTS)
def test_a_replayed_report_is_the_file_the_ordinary_path_writes(
    name: str, cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rerun.replay(["template", "run", name, "-o", "a.csv"]) is None  # nothing kept
    said = _ordinary(["template", "run", name, "-o", "a.csv"], capsys)
    assert len(list(cache.glob("*.json"))) == 1
    assert _replayed(["template", "run", name, "-o", "b.csv"], capsys) == said.replace(
        "a.csv", "b.csv"
    )
    _same_but_time(tmp_path / "a.csv", tmp_path / "b.csv")


def test_a_replayed_parquet_file_holds_the_same_rows_and_record(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["template", "run", "collection-summary", "-p", "collection_id=rider_pilot"]
    said = _ordinary([*argv, "-o", "a.parquet"], capsys)
    assert _replayed([*argv, "-o", "b.parquet"], capsys) == said.replace("a.parquet", "b.parquet")
    a, b = (pq.read_table(tmp_path / f"{x}.parquet") for x in "ab")
    assert a.equals(b)
    assert a.num_rows == 6
    records = []
    for table in (a, b):
        record = json.loads(table.schema.metadata[b"idc_sql"])
        assert record.pop("written_at")
        records.append(record)
    assert records[0] == records[1]
    assert records[0]["rows"] == 6
    assert records[0]["params"] == {"collection_id": "rider_pilot"}


def test_new_values_are_bound_and_checked_as_the_ordinary_path_does(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Values other than the first run's are bound (hostile ones as literals); one the
    ordinary path would refuse, or a name it does not know, is left to it."""
    _ordinary(["template", "run", "collection-summary", "-o", "first.csv"], capsys)
    for i, value in enumerate(["tcga_luad", "x'; DROP TABLE idc_index; --", "a\\'b`c\"d"]):
        argv = ["template", "run", "collection-summary", "-p", f"collection_id={value}"]
        assert _replayed([*argv, "-o", f"r{i}.csv"], capsys) is not None
        with pytest.MonkeyPatch.context() as nowhere:  # the ordinary path, keeping nothing
            nowhere.setenv("IDC_SQL_CACHE_DIR", f"{os.devnull}/none")
            _ordinary([*argv, "-o", f"o{i}.csv"], capsys)
        _same_but_time(tmp_path / f"r{i}.csv", tmp_path / f"o{i}.csv")
    rows = (tmp_path / "r0.csv").read_text()
    assert '# parameters: {"collection_id": "tcga_luad"}' in rows
    assert len([x for x in (tmp_path / "r1.csv").read_text().splitlines() if x[:1] != "#"]) == 1
    run = ["template", "run", "releases", "-o", "v.csv"]
    _ordinary([*run, "-p", "from_version=24"], capsys)
    assert _replayed([*run, "-p", "from_version=23"], capsys) is not None
    assert rerun.replay([*run, "-p", "from_version=x"]) is None  # not an INT64
    assert rerun.replay([*run, "-p", "from_versions=2"]) is None  # no such parameter
    assert rerun.replay([*run, "-p", "from_version"]) is None  # not NAME=VALUE


def test_a_changed_template_or_folder_is_compiled_anew(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    sql = folder / "counts.sql"
    sql.write_text("-- name: counts\nSELECT COUNT(*) AS n FROM idc_index\n")
    argv = ["template", "run", "counts", "--templates", str(folder), "-o", "c.csv"]
    _ordinary(argv, capsys)
    assert _replayed(argv, capsys) is not None
    sql.write_text("-- name: counts\nSELECT COUNT(DISTINCT PatientID) AS n FROM idc_index\n")
    assert rerun.replay(argv) is None  # the template changed
    _ordinary(argv, capsys)
    assert _replayed(argv, capsys) is not None
    (folder / "other.sql").write_text("-- name: counts\nSELECT 1 AS n\n")
    assert rerun.replay(argv) is None  # another file in the folder may now be found
    (folder / "other.sql").unlink()
    _ordinary(argv, capsys)
    (tmp_path / "counts").write_text("a file that `counts` would now name\n")
    assert rerun.replay(argv) is None
    (tmp_path / "counts").unlink()
    assert rerun.replay([*argv, "--idc-version", "24"]) is None  # another release
    assert rerun.replay([*argv, "--index-dir", str(tmp_path)]) is None  # another folder


def test_an_index_folder_that_changes_is_noticed(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    argv = ["template", "run", "releases", "--index-dir", str(index), "-o", "r.csv"]
    _ordinary(argv, capsys)
    assert _replayed(argv, capsys) is not None
    (index / "sm_index.parquet").write_bytes(b"")  # a relation may come from it now
    assert rerun.replay(argv) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["template", "run", "releases", "-o", "r.csv", "--dry-run"],
        ["template", "run", "releases", "--out", "r.csv"],  # argparse's abbreviation
        ["template", "run", "releases", "-o", "-"],
        ["template", "run", "releases", "-o", "r.jsonl"],
        ["template", "run", "releases", "-o", "r.csv", "--format", "tsv"],
        ["template", "run", "releases", "-o", "r.csv", "-o", "s.csv"],
        ["template", "run", "releases", "-o", "r.csv", "--engine", "bigquery"],
        ["template", "run", "releases", "-o", "r.csv", "--idc-version", "v25"],
        ["template", "run", "releases", "-o"],
        ["template", "show", "releases"],
        ["run", "releases", "-o", "r.csv"],  # run takes a .sql file, not a name
        ["--version"],
    ],
)
def test_requests_it_does_not_handle_take_the_ordinary_path(
    argv: list[str], cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ordinary(["template", "run", "releases", "-o", "r.csv"], capsys)
    assert compiled.parse(argv) is None or rerun.replay(argv) is None


def test_what_is_not_kept(cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Series (a summary to print), jsonl, standard output, BigQuery-only options: no entry;
    a damaged entry is ignored; an output that may not be written is the ordinary path's."""
    uid = "1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860"
    _ordinary(["template", "run", "series-by-uid", "-p", f"uids={uid}", "-o", "s.csv"], capsys)
    _ordinary(["template", "run", "releases", "-o", "r.jsonl"], capsys)
    assert cli.main(["template", "run", "releases", "-o", "-"]) == 0
    assert not cache.exists() or not list(cache.glob("*.json"))
    argv = ["template", "run", "releases", "-o", "r.csv"]
    _ordinary(argv, capsys)
    (entry,) = cache.glob("*.json")
    entry.write_text(entry.read_text()[:-40])
    assert rerun.replay(argv) is None
    _ordinary(argv, capsys)
    (tmp_path / "adir.csv").mkdir()
    assert rerun.replay([*argv[:-1], "adir.csv"]) is None
    assert list((tmp_path / "adir.csv").iterdir()) == []


def test_a_parameter_may_not_take_the_writers_name(tmp_path: Path) -> None:
    sql = tmp_path / "clash.sql"
    sql.write_text("SELECT COUNT(*) AS n FROM idc_index WHERE collection_id = @idc_sql_output_file")
    out = tmp_path / "o.csv"
    assert cli.main(["run", str(sql), "-p", "idc_sql_output_file=x", "-o", str(out)]) == 2
    assert not out.exists()


def test_a_replay_loads_neither_sqlglot_nor_pydantic(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["template", "run", "collection-summary", "-o", str(tmp_path / "a.csv")]
    _ordinary(argv, capsys)
    script = (
        "import sys\n"
        "from idc_sql.entry import console\n"
        "sys.argv = ['idc-sql', *sys.argv[1:]]\n"
        "import atexit, os\n"
        "real_exit = os._exit\n"
        "def leave(code):\n"
        "    heavy = sorted(m for m in ('sqlglot', 'pydantic', 'pandas') if m in sys.modules)\n"
        "    print('loaded:', heavy, flush=True)\n"
        "    real_exit(code)\n"
        "os._exit = leave\n"
        "console()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *argv[:-1], str(tmp_path / "b.csv")],
        capture_output=True,
        text=True,
        env=os.environ,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "loaded: []"
    _same_but_time(tmp_path / "a.csv", tmp_path / "b.csv")


def test_the_formats_replayed() -> None:
    assert compiled.Request("collection-summary").fmt == "csv"  # a report's default
    assert compiled.Request("x", output="a.TSV").fmt == "tsv"
    assert compiled.Request("x", output="a.txt").fmt is None
    assert compiled.Request("x", output="a.csv", format="tsv").fmt is None


def test_an_entry_others_may_change_is_not_run(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["template", "run", "releases", "-o", "r.csv"]
    _ordinary(argv, capsys)
    (entry,) = cache.glob("*.json")
    entry.chmod(0o666)
    assert rerun.replay(argv) is None
    entry.chmod(0o600)
    assert _replayed(argv, capsys) is not None


def test_the_least_recently_used_entries_go_first(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(compiled, "KEEP", 2)
    first = ["template", "run", "releases", "-o", "r.csv"]
    _ordinary(first, capsys)
    _ordinary(["template", "run", "license-breakdown", "-o", "l.csv"], capsys)
    os.utime(next(iter(sorted(cache.glob("*.json"), key=lambda p: p.stat().st_mtime_ns))), (1, 1))
    assert _replayed(first, capsys) is not None  # marks its entry used
    _ordinary(["template", "run", "collection-summary", "-o", "c.csv"], capsys)
    assert len(list(cache.glob("*.json"))) == 2
    assert _replayed(first, capsys) is not None
