"""The ``idc-sql`` command, run as a user runs it: a process of its own, on the local index.

Cohorts stay small (collection rider_pilot, or a limit) so the module runs in seconds. Bad input
must end in exit status 2, one message on standard error that names the place (the file and the
path inside the spec) and what is allowed, no traceback, and no output written or touched.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import idc_index_data
import jsonschema
import pyarrow.parquet as pq
import pytest
import sqlglot

CLI = (sys.executable, "-m", "idc_sql.cli")
SCRIPT = Path(sys.executable).with_name("idc-sql")

RIDER_CT = "name: rider-ct\nwhere:\n  collection_id: rider_pilot\n  Modality: CT\n"
SMALL = """\
name: small
where:
  collection_id: rider_pilot
  Modality: CT
columns: [SeriesInstanceUID, Modality, SeriesNumber, instanceCount]
order_by: [-instanceCount]
limit: 5
"""
SMALL_COLUMNS = ["SeriesInstanceUID", "Modality", "SeriesNumber", "instanceCount"]


def idc_sql(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def idc_sql_side_by_side(
    *runs: tuple[tuple[str | Path, ...], Path],
) -> list[subprocess.CompletedProcess[str]]:
    """Several ``idc-sql`` processes at once, each (args, cwd): the suite stays fast."""
    started = [
        (args, subprocess.Popen(
            [*CLI, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        ))
        for args, cwd in runs
    ]  # fmt: skip
    done = []
    for args, process in started:
        stdout, stderr = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return done


def _index_rider_ct() -> dict[str, str]:
    """crdc_series_uuid -> SeriesInstanceUID of rider_pilot's CT series, read from the index."""
    rows = pq.read_table(
        idc_index_data.IDC_INDEX_PARQUET_FILEPATH,
        columns=["crdc_series_uuid", "SeriesInstanceUID"],
        filters=[("collection_id", "=", "rider_pilot"), ("Modality", "=", "CT")],
    )
    return dict(
        zip(
            rows["crdc_series_uuid"].to_pylist(), rows["SeriesInstanceUID"].to_pylist(), strict=True
        )
    )


@pytest.fixture(scope="module")
def rider_ct() -> dict[str, str]:
    return _index_rider_ct()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "rider-ct.yaml").write_text(RIDER_CT, encoding="utf-8")
    (tmp_path / "small.yaml").write_text(SMALL, encoding="utf-8")
    return tmp_path


# ----------------------------------------------------------------------------- run


MANIFEST_LINE = re.compile(r"^cp s3://([a-z0-9-]+)/([0-9a-f-]{36})/\* (\S+)$")


def _manifest(text: str) -> tuple[list[str], list[re.Match[str]]]:
    lines = text.splitlines()
    header = [line for line in lines if line.startswith("#")]
    body = lines[len(header) :]
    assert header
    assert all(line.startswith("# ") for line in header)
    matches = [MANIFEST_LINE.match(line) for line in body]
    assert all(matches), [line for line, m in zip(body, matches, strict=True) if not m]
    return header, [m for m in matches if m]


def _header_counts(header: list[str]) -> dict[str, int]:
    (line,) = [h for h in header if h.startswith("# series: ")]
    words = line[2:].split()
    return {words[i].rstrip(":"): int(words[i + 1]) for i in range(0, len(words), 2)}


def test_run_writes_an_s5cmd_manifest(folder: Path, rider_ct: dict[str, str]) -> None:
    done = idc_sql("run", "rider-ct.yaml", "-o", "rider.s5cmd", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert f"wrote rider.s5cmd (s5cmd, {len(rider_ct)} series)" in done.stdout
    header, lines = _manifest((folder / "rider.s5cmd").read_text(encoding="utf-8"))
    uuids = [m.group(2) for m in lines]
    assert sorted(uuids) == sorted(rider_ct)
    assert {m.group(1) for m in lines} <= {"idc-open-data", "idc-open-data-cr", "idc-open-data-two"}
    # the default layout: every series in a folder of its own, ending in its uuid
    for m in lines:
        assert re.fullmatch(rf"rider_pilot/[\w.-]+/[\d.]+/CT_{m.group(2)}/", m.group(3))
    counts = _header_counts(header)
    assert counts["series"] == len(lines) == len(rider_ct)
    assert counts["collections"] == 1
    text = "\n".join(header)
    assert "run rider.s5cmd" in text
    assert "# IDC version: v25 " in text
    assert re.search(r"^# spec digest: [0-9a-f]{16}$", text, re.MULTILINE)
    assert sorted(folder.iterdir()) == sorted(
        [folder / "rider-ct.yaml", folder / "small.yaml", folder / "rider.s5cmd"]
    )


def test_installed_script_writes_the_default_output(folder: Path) -> None:
    done = subprocess.run(
        [SCRIPT, "run", "small.yaml"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "wrote small.s5cmd (s5cmd, 5 series)" in done.stdout
    header, lines = _manifest((folder / "small.s5cmd").read_text(encoding="utf-8"))
    assert _header_counts(header)["series"] == len(lines) == 5


@pytest.mark.parametrize("command", [CLI, (SCRIPT,)], ids=["python -m", "installed script"])
def test_a_reader_that_stops_early_ends_the_command_quietly(
    folder: Path, command: tuple[str | Path, ...]
) -> None:
    # `idc-sql run ... -o - | head -n 3`: 194,327 lines, far beyond a pipe's buffer
    (folder / "nlst.yaml").write_text(
        "name: nlst\nwhere: {collection_id: nlst, Modality: CT}\n", encoding="utf-8"
    )
    with subprocess.Popen(
        [*command, "run", "nlst.yaml", "-o", "-", "--format", "csv"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        first = [process.stdout.readline() for _ in range(10)]
        process.stdout.close()
        errors = process.stderr.read().decode()
        assert process.wait(timeout=120) == 141
    assert first[0].startswith(b"# idc-sql csv, 7 comment lines")
    assert first[7].startswith(b"collection_id,")
    assert len(first[9]) > 50
    assert errors == ""  # no traceback, no "Exception ignored": it stops as `cat` would


def test_output_through_a_pipe_is_complete(folder: Path) -> None:
    # the command leaves without the interpreter's teardown: what it printed must be flushed,
    # also when standard output is block-buffered (a pipe, no PYTHONUNBUFFERED)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    compiled = subprocess.run(
        [SCRIPT, "compile", "rider-ct.yaml"], cwd=folder, capture_output=True, env=env, check=False
    )
    assert compiled.returncode == 0, compiled.stderr
    assert compiled.stdout.decode().rstrip().endswith('--   p1 = "CT"')
    done = subprocess.run(
        [SCRIPT, "run", "rider-ct.yaml", "-o", "-", "--format", "csv"],
        cwd=folder,
        capture_output=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = _table_body(done.stdout.decode())
    found = re.search(r"series\s+([\d,]+)", done.stderr.decode())
    assert found is not None
    series = int(found.group(1).replace(",", ""))
    assert len(rows) == series + 1
    assert rows[-1].count(",") == rows[0].count(",")


def _read_rows(path: Path, fmt: str) -> tuple[list[str], list[dict[str, object]]]:
    if fmt == "parquet":
        table = pq.read_table(path)
        return table.column_names, table.to_pylist()
    text = path.read_text(encoding="utf-8")
    if fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
        return list(rows[0]), rows
    reader = csv.DictReader(_table_body(text), delimiter="\t" if fmt == "tsv" else ",")
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _table_body(text: str) -> list[str]:
    """The lines of a csv or tsv file after its comment header, whose first line counts it."""
    lines = text.splitlines()
    counted = re.match(r"# idc-sql [ct]sv, (\d+) comment lines", lines[0])
    assert counted, lines[0]
    n = int(counted.group(1))
    assert all(line.startswith("# ") for line in lines[:n])
    assert not lines[n].startswith("#")
    return lines[n:]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "jsonl"])
def test_run_writes_tables(folder: Path, fmt: str, rider_ct: dict[str, str]) -> None:
    done = idc_sql("run", "small.yaml", "-o", f"small.{fmt}", cwd=folder)
    assert done.returncode == 0, done.stderr
    columns, rows = _read_rows(folder / f"small.{fmt}", fmt)
    assert columns == SMALL_COLUMNS
    assert len(rows) == 5
    assert {r["SeriesInstanceUID"] for r in rows} <= set(rider_ct.values())
    counts = [int(str(r["instanceCount"])) for r in rows]
    assert counts == sorted(counts, reverse=True)


def test_jsonl_has_a_sidecar_and_manifest_json_its_own_suffix(folder: Path) -> None:
    done = idc_sql("run", "small.yaml", "--format", "jsonl", cwd=folder)
    assert done.returncode == 0, done.stderr
    sidecar = json.loads((folder / "small.jsonl.json").read_text())
    assert sidecar["format"] == "jsonl"
    assert sidecar["series"] == 5
    assert sidecar["columns"] == SMALL_COLUMNS
    done = idc_sql("run", "small.yaml", "--format", "manifest-json", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "wrote small.json (manifest-json, 5 series)" in done.stdout
    document = json.loads((folder / "small.json").read_text())
    assert len(document["series"]) == document["provenance"]["series"] == 5
    assert sorted(p.name for p in folder.iterdir()) == [
        "rider-ct.yaml",
        "small.json",
        "small.jsonl",
        "small.jsonl.json",
        "small.yaml",
    ]


def test_a_manifest_for_gcs(folder: Path) -> None:
    done = idc_sql("run", "small.yaml", "-o", "gcs.s5cmd", "--cloud", "gcs", cwd=folder)
    assert done.returncode == 0, done.stderr
    endpoint = "--endpoint-url https://storage.googleapis.com"
    assert f"download: s5cmd --no-sign-request {endpoint} run gcs.s5cmd\n" in done.stdout
    header, lines = _manifest((folder / "gcs.s5cmd").read_text())
    assert f"#   s5cmd --no-sign-request {endpoint} run gcs.s5cmd" in header
    assert {m.group(1) for m in lines} <= {"idc-open-data", "idc-open-idc1", "idc-open-cr"}


def test_format_overrides_the_suffix(folder: Path) -> None:
    done = idc_sql("run", "small.yaml", "-o", "small.txt", "--format", "csv", cwd=folder)
    assert done.returncode == 0, done.stderr
    columns, rows = _read_rows(folder / "small.txt", "csv")
    assert columns == SMALL_COLUMNS
    assert len(rows) == 5


def test_run_to_standard_output(folder: Path) -> None:
    done = idc_sql("run", "small.yaml", "-o", "-", cwd=folder)
    assert done.returncode == 0, done.stderr
    header, lines = _manifest(done.stdout)
    assert _header_counts(header)["series"] == len(lines) == 5
    assert "small  (IDC v25" in done.stderr
    as_csv = idc_sql("run", "small.yaml", "-o", "-", "--format", "csv", cwd=folder)
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(_table_body(as_csv.stdout)))
    assert list(rows[0]) == SMALL_COLUMNS
    assert len(rows) == 5
    assert sorted(p.name for p in folder.iterdir()) == ["rider-ct.yaml", "small.yaml"]


def test_destination_and_layout(folder: Path, rider_ct: dict[str, str]) -> None:
    layout = "{collection_id}/{SeriesInstanceUID}/"
    args = ("-o", "d.s5cmd", "--destination", "data/", "--layout", layout)
    done = idc_sql("run", "rider-ct.yaml", *args, cwd=folder)
    assert done.returncode == 0, done.stderr
    _, lines = _manifest((folder / "d.s5cmd").read_text(encoding="utf-8"))
    assert len(lines) == len(rider_ct)
    for m in lines:
        assert m.group(3) == f"data/rider_pilot/{rider_ct[m.group(2)]}/"


# ----------------------------------------------------------------------------- other commands


def test_count(folder: Path, rider_ct: dict[str, str]) -> None:
    text = idc_sql("count", "rider-ct.yaml", cwd=folder)
    assert text.returncode == 0, text.stderr
    assert re.search(rf"^\s+series\s+{len(rider_ct)}$", text.stdout, re.MULTILINE)
    as_json = idc_sql("count", "rider-ct.yaml", "--json", cwd=folder)
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["cohort"] == "rider-ct"
    assert body["engine"] == "local"
    assert body["idc_version"] == "v25"
    assert body["series"] == len(rider_ct)
    assert body["collections"] == 1
    assert body["size_mb"] > 0
    assert set(body) == {
        "cohort", "idc_version", "engine", "series", "studies", "patients", "collections",
        "size_mb",
    }  # fmt: skip


def test_compile(folder: Path) -> None:
    text = idc_sql("compile", "small.yaml", cwd=folder)
    assert text.returncode == 0, text.stderr
    sql, _, params = text.stdout.partition("\n\n-- parameters:\n")
    sqlglot.parse_one(sql, read="duckdb")
    assert params.splitlines() == ['--   p0 = "rider_pilot"', '--   p1 = "CT"', "--   p2 = 5"]
    for engine, dialect in (("local", "duckdb"), ("bigquery", "bigquery")):
        done = idc_sql("compile", "small.yaml", "--json", "--engine", engine, cwd=folder)
        assert done.returncode == 0, done.stderr
        body = json.loads(done.stdout)
        assert body["engine"] == engine
        assert body["params"] == {"p0": "rider_pilot", "p1": "CT", "p2": 5}
        sqlglot.parse_one(body["sql"], read=dialect)
    assert "`bigquery-public-data`.`idc_current`.`dicom_all`" in body["sql"]


def test_compile_writes_dates_as_iso(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text("name: d\nwhere: {StudyDate: {gte: 2001-02-03}}\n")
    done = idc_sql("compile", "d.yaml", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["params"] == {"p0": "2001-02-03"}


def test_validate_several_files(folder: Path) -> None:
    (folder / "good.json").write_text('{"name": "good", "where": {"Modality": ["CT", "MR"]}}')
    (folder / "bad.yaml").write_text("name: bad\nwhere: {Modalty: CT}\n")
    done = idc_sql("validate", "small.yaml", "bad.yaml", "good.json", cwd=folder)
    assert done.returncode == 2
    assert done.stdout.splitlines() == ["ok  small.yaml", "ok  good.json"]
    assert done.stderr.splitlines() == [
        "idc-sql: error: bad.yaml: where.Modalty: unknown field 'Modalty'; did you mean Modality?"
        f"{LOCAL_FIELDS}"
    ]
    good = idc_sql("validate", "small.yaml", "good.json", cwd=folder)
    assert good.returncode == 0, good.stderr
    assert good.stderr == ""


def _field_names(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    assert lines[0].split()[:3] == ["FIELD", "LEVEL", "KIND"]  # a header row
    # the columns line up: each starts where the header's does
    starts = [lines[0].index(h) for h in ("LEVEL", "KIND", "BIGQUERY", "ENGINES", "DESCRIPTION")]
    for line in lines[1:]:
        assert all(line[i - 2 : i] == "  " and line[i] != " " for i in starts), line
    return [line.split()[0] for line in lines[1:]]


def test_fields(tmp_path: Path) -> None:
    from idc_sql.catalog import FIELDS

    every = idc_sql("fields", cwd=tmp_path)
    assert every.returncode == 0, every.stderr
    assert _field_names(every.stdout) == list(FIELDS)
    local = idc_sql("fields", "--engine", "local", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    assert _field_names(local.stdout) == [n for n, f in FIELDS.items() if f.local is not None]
    instance_level = {n for n, f in FIELDS.items() if f.instance_level}
    assert {"SliceThickness", "ImageType", "PixelSpacing"} <= instance_level
    assert not instance_level & set(_field_names(local.stdout))
    thick = idc_sql("fields", "slice", cwd=tmp_path)
    assert _field_names(thick.stdout) == ["SliceThickness"]
    assert "bigquery" in thick.stdout.split()
    glob = idc_sql("fields", "Series*", "--engine", "local", cwd=tmp_path)
    assert _field_names(glob.stdout) == [
        n for n in _field_names(local.stdout) if n.casefold().startswith("series")
    ]
    none = idc_sql("fields", "zzz", cwd=tmp_path)
    assert none.returncode == 1
    assert none.stdout == ""
    assert none.stderr == "no field matches 'zzz'\n"


def test_schema_validates_specs(tmp_path: Path) -> None:
    done = idc_sql("schema", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = [
        {"name": "ct", "where": {"Modality": "CT"}},
        {
            "name": "thin",
            "instances": "all",
            "where": {"all": [{"Modality": ["CT"]}, {"not": {"SliceThickness": {"gt": 2.5}}}]},
            "order_by": ["-series_size_MB"],
            "limit": 10,
        },
        {"name": "both", "idc_version": 25, "intersect": ["a.yaml", "b.yaml"]},
    ]
    for spec in good:
        assert not list(validator.iter_errors(spec)), spec
    bad = [
        {"name": "x", "wher": {"Modality": "CT"}},
        {"name": "x", "where": {"Modality": {"equals": "CT"}}},
        {"where": {"Modality": "CT"}},
        {"name": "x", "limit": 0},
    ]
    for spec in bad:
        assert list(validator.iter_errors(spec)), spec


def test_version(tmp_path: Path) -> None:
    done = idc_sql("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert re.fullmatch(r"idc-sql \d+\.\d+\.\d+\n", done.stdout)


# ----------------------------------------------------------------------------- bad input


@dataclass(frozen=True)
class Bad:
    """A bad invocation of ``run``: files to write, extra arguments, and the one message."""

    files: dict[str, str]
    message: str
    spec: str = "spec.yaml"
    args: tuple[str, ...] = ()
    output: str = "out.csv"
    dirs: tuple[str, ...] = ()
    marks: tuple[pytest.MarkDecorator, ...] = ()
    #: the error is about the output or the destination (the command looks at the output path)
    about_output: bool = False


ALLOWED_OPERATORS = (
    "eq, ne, in, not_in, in_file, not_in_file, lt, lte, gt, gte, between, like, ilike, regex, "
    "is_null, contains, has, column"
)
ALLOWED_KEYS = (
    "name, description, idc_version, columns, order_by, limit, unit, licenses, instances, where"
)
YAML_BOOLEANS = "(YAML reads yes/no/on/off/true/false as booleans: quote the value)"
INSTANCE_LOCAL = (
    "is a per-instance DICOM attribute the local index does not carry; "
    "run this cohort with --engine bigquery"
)
VERSION = "idc_version is a release number (1, 2, ...) or 'current'"
GOOD = "name: good\nwhere: {collection_id: rider_pilot}\n"
LOCAL_FIELDS = " (`idc-sql fields --engine local` lists the local fields)"


def _spec(where: str) -> dict[str, str]:
    return {"spec.yaml": f"name: bad\nwhere:\n{where}"}


BAD = {
    "malformed-yaml": Bad(
        {"spec.yaml": "name: bad\nwhere: {Modality: CT\n"},
        "spec.yaml:3:1: malformed YAML: did not find expected ',' or '}'",
    ),
    "malformed-json": Bad(
        {"spec.json": '{"name": "bad", "where": {"Modality": "CT"}'},
        "spec.json:1:44: malformed JSON: Expecting ',' delimiter",
        spec="spec.json",
    ),
    "duplicate-key-yaml": Bad(
        _spec("  Modality: CT\n  Modality: MR\n"),
        "spec.yaml:4:3: malformed YAML: duplicate key 'Modality'",
    ),
    "duplicate-key-json": Bad(
        {"spec.json": '{\n  "name": "bad",\n  "where": {"Modality": "CT"},\n  "name": "x"\n}\n'},
        "spec.json:4:3: malformed JSON: duplicate key 'name'",
        spec="spec.json",
    ),
    "unknown-top-level-key": Bad(
        {"spec.yaml": "name: bad\nwher: {Modality: CT}\n"},
        f"spec.yaml: wher: unknown key 'wher'; did you mean where? (allowed: {ALLOWED_KEYS})",
    ),
    "unknown-field": Bad(
        _spec("  all:\n    - Modality: CT\n    - SeriesDescripton: {like: '%T1%'}\n"),
        "spec.yaml: where.all[1].SeriesDescripton: unknown field 'SeriesDescripton'; "
        f"did you mean SeriesDescription, StudyDescription, SeriesDate?{LOCAL_FIELDS}",
    ),
    "string-for-number": Bad(
        _spec("  instanceCount: {gte: '10'}\n"),
        "spec.yaml: where.instanceCount.gte: instanceCount compares as a number; got str '10'",
    ),
    "number-for-string": Bad(
        _spec("  Modality: 5\n"),
        "spec.yaml: where.Modality: Modality compares as text; got int 5 (quote it)",
    ),
    "boolean-from-yes": Bad(
        _spec("  PatientSex: yes\n"),
        "spec.yaml: where.PatientSex: a value is a string, a number or a date, "
        f"got the boolean true {YAML_BOOLEANS}",
    ),
    "unknown-operator": Bad(
        _spec("  Modality: {equals: CT}\n"),
        "spec.yaml: where.Modality.equals: unknown operator 'equals'; "
        f"allowed: {ALLOWED_OPERATORS}",
    ),
    "empty-list": Bad(_spec("  Modality: []\n"), "spec.yaml: where.Modality: must not be empty"),
    "empty-in": Bad(
        _spec("  Modality: {in: []}\n"), "spec.yaml: where.Modality.in: must not be empty"
    ),
    "empty-all": Bad(_spec("  all: []\n"), "spec.yaml: where.all: must not be empty"),
    "empty-any": Bad(
        _spec("  all:\n    - Modality: CT\n    - any: []\n"),
        "spec.yaml: where.all[1].any: must not be empty",
    ),
    "invalid-regex": Bad(
        _spec("  SeriesDescription: {regex: '([a-z'}\n"),
        "spec.yaml: where.SeriesDescription.regex: invalid regular expression '([a-z' "
        "(RE2 syntax): missing ]: [a-z",
    ),
    "regex-lookahead": Bad(
        _spec("  SeriesDescription: {regex: '^(?!scout)'}\n"),
        "spec.yaml: where.SeriesDescription.regex: invalid regular expression '^(?!scout)' "
        "(RE2 syntax): invalid perl operator: (?!",
    ),
    "between-reversed": Bad(
        _spec("  instanceCount: {between: [100, 10]}\n"),
        "spec.yaml: where.instanceCount.between: between [100, 10] is empty: write [low, high]",
    ),
    "version-0": Bad(
        {"spec.yaml": "name: bad\nidc_version: 0\n"},
        f"spec.yaml: idc_version: {VERSION}, got int 0",
    ),
    "version-negative": Bad(
        {"spec.yaml": "name: bad\nidc_version: -1\n"},
        f"spec.yaml: idc_version: {VERSION}, got int -1",
    ),
    "version-latest": Bad(
        {"spec.yaml": "name: bad\nidc_version: latest\n"},
        f"spec.yaml: idc_version: {VERSION}, got str 'latest'",
    ),
    "version-26-on-local": Bad(
        {"spec.yaml": "name: bad\nidc_version: 26\n"},
        "spec.yaml: idc_version: the local index is IDC v25 (idc-index-data 25.0.5); v26 is not "
        "published in it: run this cohort with --engine bigquery (dataset idc_v26) once IDC "
        "publishes it, or install a newer index",
    ),
    "instance-field-on-local": Bad(
        _spec("  all:\n    - Modality: CT\n    - SliceThickness: {lte: 2.5}\n"),
        f"spec.yaml: where.all[1].SliceThickness: SliceThickness {INSTANCE_LOCAL}",
    ),
    "sequence-on-local": Bad(
        _spec("  ReferencedSeriesSequence: {has: {SeriesInstanceUID: '1.2.3'}}\n"),
        "spec.yaml: where.ReferencedSeriesSequence.has: conditions on DICOM sequences (has) "
        "read ReferencedSeriesSequence of dicom_all, a REPEATED RECORD that DuckDB over the "
        "installed idc-index-data does not carry; run this cohort with --engine bigquery",
    ),
    "instance-column-on-local": Bad(
        {"spec.yaml": "name: bad\ncolumns: [SeriesInstanceUID, SliceThickness.max]\n"},
        "spec.yaml: columns[1]: SliceThickness.max sums up the values of a series' instances, "
        "which DuckDB over the installed idc-index-data does not carry; run this cohort with "
        "--engine bigquery",
    ),
    "contains-on-single-value": Bad(
        _spec("  Modality: {contains: CT}\n"),
        "spec.yaml: where.Modality.contains: contains is for fields holding several values "
        "(e.g. ImageType); Modality holds one",
    ),
    "missing-spec-file": Bad({}, "nothing.yaml: no such file", spec="nothing.yaml"),
    "spec-is-a-folder": Bad(
        {},
        "cohort.yaml: is a directory, not a specification file",
        spec="cohort.yaml",
        dirs=("cohort.yaml",),
    ),
    "wrong-suffix": Bad(
        {"spec.txt": GOOD},
        "spec.txt: a specification file ends in .yaml, .yml or .json",
        spec="spec.txt",
    ),
    "set-member-cycle": Bad(
        {"spec.yaml": "name: bad\nunion: [good.yaml, spec.yaml]\n", "good.yaml": GOOD},
        "spec.yaml: union[1]: spec.yaml includes itself (a cycle)",
    ),
    "set-member-missing": Bad(
        {"spec.yaml": "name: bad\nunion: [good.yaml, gone.yaml]\n", "good.yaml": GOOD},
        "spec.yaml: union[1]: gone.yaml: no such file (paths are relative to the spec's folder)",
    ),
    "output-folder-missing": Bad(
        {"spec.yaml": GOOD},
        "cannot write nowhere/out.csv: the folder nowhere does not exist",
        output="nowhere/out.csv",
        about_output=True,
    ),
    "output-is-a-folder": Bad(
        {"spec.yaml": GOOD},
        "cannot write out: it is a directory; an output is a regular file (new or existing), a "
        "symlink to one, or - for standard output",
        output="out",
        dirs=("out",),
        about_output=True,
    ),
    "destination-with-space": Bad(
        {"spec.yaml": GOOD},
        "--destination 'my data/' holds a space, control character, quote, #, backslash, brace "
        "or wildcard, which s5cmd cannot read in a manifest line",
        args=("--destination", "my data/"),
        output="out.s5cmd",
        about_output=True,
    ),
    "destination-with-a-field": Bad(
        {"spec.yaml": GOOD},
        "--destination 'data/{collection_id}/' holds a space, control character, quote, #, "
        "backslash, brace or wildcard, which s5cmd cannot read in a manifest line; name fields "
        "with --layout",
        args=("--destination", "data/{collection_id}/"),
        output="out.s5cmd",
        about_output=True,
    ),
    "layout-unknown-field": Bad(
        {"spec.yaml": GOOD},
        "--layout 'data/{BodyPartExamind}/' names {BodyPartExamind}, which is not a field; "
        "did you mean {BodyPartExamined}?",
        args=("--layout", "data/{BodyPartExamind}/"),
        output="out.s5cmd",
        about_output=True,
    ),
    "layout-unclosed-brace": Bad(
        {"spec.yaml": GOOD},
        "--layout 'data/{collection_id': expected '}' before end of string",
        args=("--layout", "data/{collection_id"),
        output="out.s5cmd",
        about_output=True,
    ),
    "layout-conversion": Bad(
        {"spec.yaml": GOOD},
        "--layout '{PatientID!r}' converts a field ({PatientID!r}); conversions (!r) are not "
        "supported: name the field only, {PatientID}",
        args=("--layout", "{PatientID!r}"),
        output="out.s5cmd",
        about_output=True,
    ),
    "layout-format-spec": Bad(
        {"spec.yaml": GOOD},
        "--layout '{PatientID:>40}' formats a field ({PatientID:>40}); format specifications "
        "(:>40) are not supported: name the field only, {PatientID}",
        args=("--layout", "{PatientID:>40}"),
        output="out.json",
        about_output=True,
    ),
    "layout-quote": Bad(
        {"spec.yaml": GOOD},
        "--layout '\"{PatientID}' holds '\"' outside the fields; the text of a layout is made "
        "of letters, digits, '.', '_', '-' and '/' between folders",
        args=("--layout", '"{PatientID}'),
        output="out.s5cmd",
        about_output=True,
    ),
    "layout-climbs": Bad(
        {"spec.yaml": GOOD},
        "--layout '../{PatientID}' has a folder beginning with '.'; a folder of a layout "
        "begins with a letter, a digit, '_' or a field",
        args=("--layout", "../{PatientID}"),
        output="out.s5cmd",
        about_output=True,
    ),
    "destination-empty": Bad(
        {"spec.yaml": GOOD},
        "--destination must not be empty (the current folder is .)",
        args=("--destination", ""),
        output="out.s5cmd",
        about_output=True,
    ),
    "layout-of-a-parquet-file": Bad(
        {"spec.yaml": GOOD},
        "--layout applies to manifests (s5cmd, manifest-json); a parquet file lists the "
        "columns only",
        args=("--layout", "{PatientID}"),
        output="out.parquet",
        about_output=True,
    ),
    "cloud-of-a-csv-file": Bad(
        {"spec.yaml": GOOD},
        "--cloud applies to manifests (s5cmd, manifest-json); a csv file lists the columns only",
        args=("--cloud", "gcs"),
        about_output=True,
    ),
    "sidecar-is-a-folder": Bad(
        {"spec.yaml": GOOD},
        "cannot write out.jsonl.json: it is a directory; an output is a regular file (new or "
        "existing), a symlink to one, or - for standard output",
        output="out.jsonl",
        dirs=("out.jsonl.json",),
        about_output=True,
    ),
    "dry-run-on-the-local-engine": Bad(
        {"spec.yaml": GOOD},
        "--dry-run applies to --engine bigquery; the local engine (DuckDB over the installed "
        "idc-index-data) takes no such option",
        args=("--dry-run",),
        output="out.s5cmd",
    ),
    "bigquery-options-on-the-local-engine": Bad(
        {"spec.yaml": GOOD},
        "--project, --max-gb apply to --engine bigquery; the local engine (DuckDB over the "
        "installed idc-index-data) takes no such option",
        args=("--max-gb", "3", "--project", "mine"),
    ),
    "format-against-suffix": Bad(
        {"spec.yaml": GOOD},
        "out.csv names a csv file but the format asked for is parquet; name it *.parquet, or "
        "leave out the format",
        args=("--format", "parquet"),
        about_output=True,
    ),
    "destination-of-a-csv-file": Bad(
        {"spec.yaml": GOOD},
        "--destination applies to manifests (s5cmd, manifest-json); a csv file lists the "
        "columns only",
        args=("--destination", "data/"),
        about_output=True,
    ),
    "misspelt-predicate": Bad(
        _spec("  study_hass: {Modality: SEG}\n"),
        "spec.yaml: where.study_hass: unknown predicate 'study_hass'; did you mean study_has?",
    ),
    "misspelt-predicate-in-a-list": Bad(
        _spec("  all:\n    - Modality: CT\n    - alll: [{Modality: SEG}]\n"),
        "spec.yaml: where.all[1].alll: unknown predicate 'alll'; did you mean all?",
    ),
}


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int] | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
        for p in folder.rglob("*")
    }


def _prepare(tmp_path: Path, bad: Bad, existing: bool) -> dict[str, tuple[bytes, int] | None]:
    for name, text in bad.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name in bad.dirs:
        (tmp_path / name).mkdir()
    target = tmp_path / bad.output
    if existing and target.parent.is_dir() and not target.exists():
        target.write_text("an earlier result\n", encoding="utf-8")
    return _snapshot(tmp_path)


@pytest.mark.parametrize(
    "bad", [pytest.param(b, id=name, marks=b.marks) for name, b in BAD.items()]
)
def test_bad_input(tmp_path: Path, bad: Bad) -> None:
    """One message, exit 2, and the folder exactly as it was: no file created, none touched.

    The output named by ``-o`` exists beforehand (it must be left alone); errors about the
    output or destination also run with no output file yet (none may appear).
    """
    variants = [False, True] if bad.about_output else [True]
    folders = [tmp_path / f"existing-{existing}" for existing in variants]
    before = []
    for folder, existing in zip(folders, variants, strict=True):
        folder.mkdir()
        before.append(_prepare(folder, bad, existing))
    args = ("run", bad.spec, "-o", bad.output, *bad.args)
    runs = idc_sql_side_by_side(*((args, folder) for folder in folders))
    for folder, snapshot, done in zip(folders, before, runs, strict=True):
        assert done.stderr == f"idc-sql: error: {bad.message}\n", folder.name
        assert done.returncode == 2
        assert done.stdout == ""
        assert _snapshot(folder) == snapshot


def test_unknown_format(folder: Path) -> None:
    (folder / "out.csv").write_text("an earlier result\n")
    before = _snapshot(folder)
    done = idc_sql("run", "small.yaml", "-o", "out.csv", "--format", "xml", cwd=folder)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert errors == [
        "idc-sql run: error: argument --format: invalid choice: 'xml' "
        "(choose from 's5cmd', 'manifest-json', 'csv', 'tsv', 'parquet', 'jsonl')"
    ]
    assert _snapshot(folder) == before


COMPILE_BAD = {
    "string-for-number": (
        "name: bad\nwhere:\n  all:\n    - Modality: CT\n    - SliceThickness: {lte: '2.5'}\n",
        "spec.yaml: where.all[1].SliceThickness.lte: SliceThickness compares as a number; "
        "got str '2.5'",
    ),
    "eq-on-repeated": (
        "name: bad\nwhere:\n  ImageType: AXIAL\n",
        "spec.yaml: where.ImageType: ImageType holds several values per instance; a value "
        "cannot compare with it: use contains (or is_null)",
    ),
    "explicit-eq-on-repeated": (
        "name: bad\nwhere:\n  ImageType: {eq: AXIAL}\n",
        "spec.yaml: where.ImageType.eq: ImageType holds several values per instance; 'eq' "
        "cannot compare with it: use contains (or is_null)",
    ),
    "contains-a-number": (
        "name: bad\nwhere:\n  ImageType: {contains: 5}\n",
        "spec.yaml: where.ImageType.contains: ImageType compares as text; got int 5 (quote it)",
    ),
    "unknown-sequence-sub-field": (
        "name: bad\nwhere:\n  StructureSetROISequence: {has: {ROINam: {ilike: '%lung%'}}}\n",
        "spec.yaml: where.StructureSetROISequence.has.ROINam: StructureSetROISequence has no "
        "sub-field 'ROINam'; did you mean ROIName, ROINumber? (its sub-fields: "
        "SpecificCharacterSet, ROINumber, ReferencedFrameOfReferenceUID, ROIName, "
        "ROIDescription, ROIVolume, ROIGenerationAlgorithm, OtherElements)",
    ),
    "unknown-nested-sub-field": (
        "name: bad\nwhere:\n  StructureSetROISequence:\n"
        "    has: {OtherElements: {has: {Dat: x}}}\n",
        "spec.yaml: where.StructureSetROISequence.has.OtherElements.has.Dat: "
        "StructureSetROISequence.OtherElements has no sub-field 'Dat'; did you mean Data? "
        "(its sub-fields: Tag, Data)",
    ),
    "sequence-without-has": (
        "name: bad\nwhere:\n  StructureSetROISequence: lung\n",
        "spec.yaml: where.StructureSetROISequence: StructureSetROISequence is a DICOM sequence "
        "(a list of items per instance); a condition names the items' sub-fields under has, "
        "e.g. StructureSetROISequence: {has: {ROINumber: ...}}",
    ),
    "has-on-a-scalar": (
        "name: bad\nwhere:\n  Modality: {has: {ROIName: lung}}\n",
        "spec.yaml: where.Modality.has: has is for DICOM sequences (REPEATED RECORD columns of "
        "dicom_all, e.g. StructureSetROISequence); Modality is not one",
    ),
    "instance-field-as-column": (
        "name: bad\ncolumns: [SeriesInstanceUID, SliceThickness]\n",
        "spec.yaml: columns[1]: SliceThickness is recorded per instance and a series has many "
        "values; name SliceThickness.min, SliceThickness.max, SliceThickness.distinct, or "
        "select series-level fields and filter on instance fields in where",
    ),
    "median-of-instances": (
        "name: bad\ncolumns: [SeriesInstanceUID, SliceThickness.median]\n",
        "spec.yaml: columns[1]: SliceThickness.median: .median is not a summary of a series' "
        "instances; allowed: .min, .max, .distinct",
    ),
    "min-of-a-series-field": (
        "name: bad\ncolumns: [SeriesInstanceUID, Modality.min]\n",
        "spec.yaml: columns[1]: Modality.min: Modality holds one value per series; .min, .max "
        "and .distinct sum up the values of a per-instance field (e.g. SliceThickness.max)",
    ),
    "max-of-a-repeated-field": (
        "name: bad\ncolumns: [SeriesInstanceUID, ImageType.max]\n",
        "spec.yaml: columns[1]: ImageType.max: ImageType holds several values per instance; "
        "ImageType.distinct lists them",
    ),
}


@pytest.mark.parametrize("case", list(COMPILE_BAD))
def test_bad_input_on_bigquery(tmp_path: Path, case: str) -> None:
    """Errors only BigQuery reaches (the local engine refuses instance-level fields first)."""
    text, message = COMPILE_BAD[case]
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    done = idc_sql("compile", "spec.yaml", "--engine", "bigquery", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"idc-sql: error: {message}\n"
    assert done.stdout == ""


def test_validate_reports_every_bad_file_on_bigquery(tmp_path: Path) -> None:
    names = []
    for case, (text, _) in COMPILE_BAD.items():
        (tmp_path / case).mkdir()
        (tmp_path / case / "spec.yaml").write_text(text, encoding="utf-8")
        names.append(f"{case}/spec.yaml")
    (tmp_path / "good.yaml").write_text("name: good\nwhere: {SliceThickness: {lte: 1}}\n")
    done = idc_sql("validate", "--engine", "bigquery", *names, "good.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == "ok  good.yaml\n"
    assert done.stderr.splitlines() == [
        f"idc-sql: error: {case}/{message}" for case, (_, message) in COMPILE_BAD.items()
    ]


@pytest.mark.parametrize("command", ["run", "count"])
def test_bigquery_spec_errors_come_before_the_engine(tmp_path: Path, command: str) -> None:
    text, message = COMPILE_BAD["string-for-number"]
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    done = idc_sql(command, "spec.yaml", "--engine", "bigquery", cwd=tmp_path)
    assert done.stderr == f"idc-sql: error: {message}\n"
    assert done.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


# ----------------------------------------------------------------------------- once bugs

RE2_ONLY = ["a++", "(?>ab)c", "ab\\Z"]


@pytest.mark.parametrize("pattern", RE2_ONLY)
def test_regex_re2_cannot_read_is_a_spec_error(tmp_path: Path, pattern: str) -> None:
    text = f"name: rx\nwhere:\n  SeriesDescription: {{regex: '{pattern}'}}\n"
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    for command in ("validate", "run"):
        done = idc_sql(command, "spec.yaml", cwd=tmp_path)
        assert done.returncode == 2
        (line,) = done.stderr.splitlines()
        assert line.startswith("idc-sql: error: spec.yaml: where.SeriesDescription.regex: ")
        assert repr(pattern) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_engine_failure_leaves_outputs_alone(tmp_path: Path) -> None:
    """A query DuckDB refuses half-way (RE2 cannot read the pattern) writes nothing.

    Once the spec check catches the pattern, this fails early instead: nothing is written either.
    """
    text = "name: rx\nwhere:\n  collection_id: rider_pilot\n  SeriesDescription: {regex: 'a++'}\n"
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "out.csv").write_text("an earlier result\n", encoding="utf-8")
    before = _snapshot(tmp_path)
    for output in ("out.csv", "new.s5cmd"):
        done = idc_sql("run", "spec.yaml", "-o", output, cwd=tmp_path)
        assert done.returncode in (1, 2)
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("idc-sql: error: ")
        assert _snapshot(tmp_path) == before


def test_count_engine_failure_is_one_message(tmp_path: Path) -> None:
    text = "name: rx\nwhere:\n  collection_id: rider_pilot\n  SeriesDescription: {regex: 'a++'}\n"
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    done = idc_sql("count", "spec.yaml", cwd=tmp_path)
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("idc-sql: error: ")


@pytest.mark.parametrize("command", ["validate", "count", "run"])
def test_limit_beyond_int64_is_a_spec_error(tmp_path: Path, command: str) -> None:
    text = "name: big\nwhere: {collection_id: rider_pilot}\nlimit: 100000000000000000000000\n"
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    done = idc_sql(command, "spec.yaml", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("idc-sql: error: spec.yaml: limit: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_run_does_not_overwrite_its_spec(folder: Path) -> None:
    before = (folder / "small.yaml").read_bytes()
    done = idc_sql("run", "small.yaml", "-o", "small.yaml", cwd=folder)
    assert (folder / "small.yaml").read_bytes() == before
    assert done.returncode == 2
    assert done.stderr.startswith("idc-sql: error: ")


def test_a_command_started_with_a_closed_stream(folder: Path) -> None:
    # `idc-sql run ... 2>&-`: nothing to report to, which is no reason to fail; and with
    # `-o -` the summary must not fall back into the manifest on standard output
    def shell(command: str) -> subprocess.CompletedProcess[bytes]:
        line = " ".join(shlex.quote(str(part)) for part in CLI)
        return subprocess.run(
            ["bash", "-c", f"{line} {command}"], cwd=folder, capture_output=True, check=False
        )

    done = shell("run small.yaml -o small.s5cmd 2>&-")
    assert done.returncode == 0
    assert _header_counts(_manifest((folder / "small.s5cmd").read_text())[0])["series"] == 5
    done = shell("run small.yaml -o - 2>&-")
    assert done.returncode == 0
    header, lines = _manifest(done.stdout.decode())
    assert len(lines) == 5
    assert all(line.startswith("# ") for line in header)
    assert shell("count small.yaml >&-").returncode == 0


def test_leaving_removes_the_folder_a_spilling_database_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from idc_sql.cli import _remove_spills

    monkeypatch.chdir(tmp_path)
    connection = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": "40MB"})
    connection.execute(
        "CREATE TABLE t AS SELECT md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s "
        "FROM range(2000000) r(i) ORDER BY s"
    )
    assert (tmp_path / ".tmp").is_dir()  # DuckDB's folder for an in-memory database

    class Kept:
        pass

    kept = Kept()
    kept.connection = connection  # type: ignore[attr-defined]
    _remove_spills([kept])
    assert not (tmp_path / ".tmp").exists()


def test_an_empty_cohort_says_which_values_no_series_holds(tmp_path: Path) -> None:
    # values compare exactly, case included: NLST is not nlst; the local engine says so
    (tmp_path / "empty.yaml").write_text(
        "name: empty\n"
        "where:\n"
        "  collection_id: [NLST, rider_pilot]\n"  # a few values: read whole, case and spelling
        "  Modality: [ct, SGE]\n"
        "  SeriesDescription: [lesion designator, no such description]\n"  # many values
        "  Manufacturer: ACME\n",
        encoding="utf-8",
    )
    note = "idc-sql: warning: no series has "
    expected = [
        f"{note}collection_id 'NLST'; did you mean 'nlst'?",
        f"{note}Modality 'ct'; did you mean 'CT'?",
        f"{note}Modality 'SGE'; did you mean 'SEG'?",
        f"{note}SeriesDescription 'lesion designator'; did you mean 'Lesion Designator'?",
        f"{note}SeriesDescription 'no such description'",
        f"{note}Manufacturer 'ACME'",
    ]
    for command in (("count", "empty.yaml"), ("run", "empty.yaml", "-o", "empty.s5cmd")):
        done = idc_sql(*command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "series                  0" in done.stdout
        assert done.stderr.splitlines() == expected
    assert "download:" not in done.stdout  # nothing to download
    lines = (tmp_path / "empty.s5cmd").read_text().splitlines()
    assert lines
    assert all(line.startswith("# ") for line in lines)


def test_values_no_series_holds_of_multi_valued_fields(tmp_path: Path) -> None:
    # each value of a series' list counts: 1.2.840.10008.1.2.4.50 is held (within lists), .5 not
    (tmp_path / "empty.yaml").write_text(
        "name: empty\n"
        "where:\n"
        "  TransferSyntaxUID: [1.2.840.10008.1.2.4.50, 1.2.840.10008.1.2.4.5]\n"
        "  collection_species: [mouse, Mouse]\n"
        "  collection_cancerType: {contains: Lung cancer}\n",
        encoding="utf-8",
    )
    note = "idc-sql: warning: no series has "
    done = idc_sql("count", "empty.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "series                  0" in done.stdout
    assert done.stderr.splitlines() == [
        f"{note}TransferSyntaxUID '1.2.840.10008.1.2.4.5'; did you mean "
        "'1.2.840.10008.1.2.4.51' or '1.2.840.10008.1.2.4.50' or '1.2.840.10008.1.2.4.91'?",
        f"{note}collection_species 'mouse'; did you mean 'Mouse'?",
        f"{note}collection_cancerType 'Lung cancer'; did you mean 'Lung Cancer'?",
    ]


def test_a_cohort_that_selects_series_gets_no_notes(folder: Path) -> None:
    done = idc_sql("count", "small.yaml", cwd=folder)
    assert done.returncode == 0
    assert done.stderr == ""


def test_a_replaced_output_keeps_its_permissions(folder: Path) -> None:
    out = folder / "out.csv"
    out.write_text("an earlier result\n")
    out.chmod(0o640)
    done = idc_sql("run", "small.yaml", "-o", "out.csv", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert _table_body(out.read_text())[0].startswith("SeriesInstanceUID,")
    out.chmod(0o444)
    before = out.read_bytes()
    done = idc_sql("run", "rider-ct.yaml", "-o", "out.csv", cwd=folder)
    # refused for root too: a file nobody may write is not replaced behind its owner's back
    assert done.returncode == 2
    assert done.stderr == (
        "idc-sql: error: cannot write out.csv: the file is read-only; make it writable to "
        "replace it\n"
    )
    assert out.read_bytes() == before


def test_set_members_outside_the_folder_need_the_flag(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "other" / "a.yaml").write_text("name: a\nwhere: {collection_id: rider_pilot}\n")
    (tmp_path / "sub" / "u.yaml").write_text("name: u\nunion: [../other/a.yaml, ../other/a.yaml]\n")
    refused = idc_sql("count", "sub/u.yaml", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "idc-sql: error: sub/u.yaml: union[0]: ../other/a.yaml is outside the spec's folder "
        "(allowed with --allow-outside)\n"
    )
    allowed = idc_sql("count", "sub/u.yaml", "--allow-outside", "--json", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["series"] > 0
