"""Specification errors at the Python level: the exact message and the place it names.

``SpecError.location`` is the file (when there is one) and the path inside the spec; ``str(exc)``
is ``"<location>: <message>"``. Structural errors come from ``idc_sql.parse_spec``; errors about
fields, values and engines from ``idc_sql.compile``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.errors import (
    IdcSqlError,
    SpecError,
    UnknownFieldError,
    UnsupportedError,
    UsageError,
)
from idc_sql.spec import NODE_KEYS

OPERATORS = (
    "eq, ne, in, not_in, in_file, not_in_file, lt, lte, gt, gte, between, like, ilike, regex, "
    "is_null, contains, has, column"
)
BOOLEANS = "(YAML reads yes/no/on/off/true/false as booleans: quote the value)"
VERSION = "idc_version is a release number (1, 2, ...) or 'current'"
LOCAL_FIELDS = " (`idc-sql fields --engine local` lists the local fields)"
AGE_TEXT = (
    "PatientAge is text in DICOM's form ('065Y', '018M', '003W', '010D'), not a number; "
    "compare ages in years with patient_age_years (e.g. "
)
TOP_LEVEL = "is not a field but a key of the specification's top level, beside name"


def test_error_classes() -> None:
    assert issubclass(SpecError, IdcSqlError)
    assert issubclass(UnsupportedError, SpecError)
    assert SpecError.exit_code == UnsupportedError.exit_code == UsageError.exit_code == 2
    assert idc_sql.SpecError is SpecError
    assert idc_sql.UnsupportedError is UnsupportedError
    error = SpecError("cohort.yaml: where.Modality", "must not be empty")
    assert str(error) == "cohort.yaml: where.Modality: must not be empty"
    assert (error.location, error.message) == ("cohort.yaml: where.Modality", "must not be empty")


def _deep(key: str, levels: int) -> Any:
    node: Any = {"Modality": "CT"}
    for _ in range(levels):
        node = {key: node}
    return node


PARSE_ERRORS: dict[str, tuple[Any, str, str]] = {
    "unknown-operator": (
        {"name": "x", "where": {"Modality": {"equals": "CT"}}},
        "where.Modality.equals",
        f"unknown operator 'equals'; allowed: {OPERATORS}",
    ),
    "unknown-top-level-key": (
        {"name": "x", "wher": {"Modality": "CT"}},
        "wher",
        "unknown key 'wher'; did you mean where? (allowed: name, description, idc_version, "
        "columns, order_by, limit, unit, licenses, instances, where)",
    ),
    "unknown-set-key": (
        {"name": "x", "union": ["a.yaml", "b.yaml"], "where": {"Modality": "CT"}},
        "where",
        "unknown key 'where' (allowed: name, description, idc_version, columns, order_by, "
        "limit, unit, licenses, union, intersect, except)",
    ),
    "unknown-unit": (
        {"name": "x", "unit": "studies", "where": {"Modality": "CT"}},
        "unit",
        "input should be 'series', 'study' or 'patient', got str 'studies'",
    ),
    "boolean-value": (
        {"name": "x", "where": {"all": [{"Modality": "CT"}, {"PatientSex": True}]}},
        "where.all[1].PatientSex",
        f"a value is a string, a number or a date, got the boolean true {BOOLEANS}",
    ),
    "null-value": (
        {"name": "x", "where": {"Modality": None}},
        "where.Modality",
        "a value is a string, a number or a date, got null "
        "(to select missing values use is_null: true)",
    ),
    "empty-all": ({"name": "x", "where": {"all": []}}, "where.all", "must not be empty"),
    "empty-any": (
        {"name": "x", "where": {"not": {"any": []}}},
        "where.not.any",
        "must not be empty",
    ),
    "empty-in": (
        {"name": "x", "where": {"Modality": {"in": []}}},
        "where.Modality.in",
        "must not be empty",
    ),
    "empty-list": ({"name": "x", "where": {"Modality": []}}, "where.Modality", "must not be empty"),
    "empty-operators": (
        {"name": "x", "where": {"Modality": {}}},
        "where.Modality",
        "an operator mapping must not be empty",
    ),
    "between-one-value": (
        {"name": "x", "where": {"instanceCount": {"between": [3]}}},
        "where.instanceCount.between",
        "between takes two values [low, high], got 1",
    ),
    "node-beside-fields": (
        {"name": "x", "where": {"Modality": "CT", "study_has": {"Modality": "SEG"}}},
        "where",
        f"a predicate has exactly one of {', '.join(NODE_KEYS)} and nothing beside it; "
        "got keys Modality, study_has",
    ),
    "version-0": ({"name": "x", "idc_version": 0}, "idc_version", f"{VERSION}, got int 0"),
    "version-negative": ({"name": "x", "idc_version": -1}, "idc_version", f"{VERSION}, got int -1"),
    "version-latest": (
        {"name": "x", "idc_version": "latest"},
        "idc_version",
        f"{VERSION}, got str 'latest'",
    ),
    "version-quoted": (
        {"name": "x", "idc_version": "25"},
        "idc_version",
        f"{VERSION}, got str '25' (in quotes a number is text: write it as 25, without quotes)",
    ),
    "limit-quoted": (
        {"name": "x", "limit": "10"},
        "limit",
        "input should be a valid integer, got str '10' (in quotes a number is text: write it "
        "as 10, without quotes)",
    ),
    "version-float": (
        {"name": "x", "idc_version": 25.0},
        "idc_version",
        f"{VERSION}, got float 25.0",
    ),
    "limit-0": ({"name": "x", "limit": 0}, "limit", "input should be greater than 0, got int 0"),
    "bad-name": (
        {"name": "My Cohort"},
        "name",
        "name 'My Cohort' must match [a-z0-9][a-z0-9._-]* (lower case, digits, . _ -)",
    ),
    "no-name": ({"where": {"Modality": "CT"}}, "name", "'name' is required"),
    "instances": (
        {"name": "x", "instances": "most"},
        "instances",
        "input should be 'any' or 'all', got str 'most'",
    ),
    "nested-too-deep": (  # limits: docs/limits.md and test_spec_limits.py
        {"name": "x", "where": {"all": [{"not": _deep("study_has", 40)}]}},
        "where.all[0].not.study_has…(27 more)…study_has.study_has.study_has",
        "predicates nested deeper than the limit of 32 levels",
    ),
    "control-characters": (
        {"name": "x", "where": {"study_has\n": {"Modality": "SEG"}}},
        "where.study_has\\n",
        "unknown predicate 'study_has\\n'; did you mean study_has?",
    ),
}


@pytest.mark.parametrize("case", list(PARSE_ERRORS))
def test_parse_errors(case: str) -> None:
    data, location, message = PARSE_ERRORS[case]
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec(data)
    assert (caught.value.location, caught.value.message) == (location, message)
    assert str(caught.value) == f"{location}: {message}"


def test_not_a_mapping() -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec(["Modality", "CT"])
    assert str(caught.value) == "a specification is a mapping, got a list"
    assert caught.value.location == ""


INSTANCE_LOCAL = (
    "is a per-instance DICOM attribute the local index does not carry; "
    "run this cohort with engine='bigquery'"
)

PLAN_ERRORS: dict[str, tuple[Any, str, type[SpecError], str, str]] = {
    "unknown-field": (
        {"all": [{"Modality": "CT"}, {"Modalty": "MR"}]},
        "local",
        SpecError,
        "where.all[1].Modalty",
        f"unknown field 'Modalty'; did you mean Modality?{LOCAL_FIELDS}",
    ),
    "string-for-number": (
        {"all": [{"Modality": "CT"}, {"SliceThickness": {"lte": "2.5"}}]},
        "bigquery",
        SpecError,
        "where.all[1].SliceThickness.lte",
        "SliceThickness compares as a number; got str '2.5'",
    ),
    "number-for-string": (
        {"Modality": {"in": ["CT", 5]}},
        "local",
        SpecError,
        "where.Modality.in[1]",
        "Modality compares as text; got int 5 (quote it)",
    ),
    "bad-date": (
        {"StudyDate": {"between": ["2001-01-01", "2001-02-30"]}},
        "local",
        SpecError,
        "where.StudyDate.between[1]",
        "StudyDate compares as a date (YYYY-MM-DD); got '2001-02-30'",
    ),
    "not-finite": (
        {"series_size_MB": {"gt": float("inf")}},
        "local",
        SpecError,
        "where.series_size_MB.gt",
        "series_size_MB needs a finite number, got inf",
    ),
    "like-on-number": (
        {"instanceCount": {"like": "1%"}},
        "local",
        SpecError,
        "where.instanceCount.like",
        "like compares text; instanceCount compares as a number "
        "(allowed: eq, ne, in, not_in, lt, lte, gt, gte, between, is_null)",
    ),
    "patient-age-as-number": (
        {"PatientAge": {"gt": 60}},
        "local",
        SpecError,
        "where.PatientAge.gt",
        f"{AGE_TEXT}patient_age_years: {{gt: 60}})",
    ),
    "patient-age-equal-to-number": (
        {"all": [{"Modality": "CT"}, {"PatientAge": 65}]},
        "bigquery",
        SpecError,
        "where.all[1].PatientAge",
        f"{AGE_TEXT}patient_age_years: 65)",
    ),
    "limit-under-where": (
        {"Modality": "CT", "limit": 10},
        "local",
        SpecError,
        "where.limit",
        f"'limit' {TOP_LEVEL}: move it out of where",
    ),
    "columns-under-where": (
        {"all": [{"Modality": "CT"}, {"columns": ["PatientID"]}]},
        "bigquery",
        SpecError,
        "where.all[1].columns",
        f"'columns' {TOP_LEVEL}: move it out of where",
    ),
    "idc-version-under-where": (
        {"not": {"idc_version": 24}},
        "local",
        SpecError,
        "where.not.idc_version",
        f"'idc_version' {TOP_LEVEL}: move it out of where",
    ),
    "instances-under-where": (
        {"Modality": "CT", "instances": "all"},
        "local",
        SpecError,
        "where.instances",
        f"'instances' {TOP_LEVEL} (instances: all makes every instance-level condition hold "
        "for every instance of a series; the default, any, for at least one): move it out of where",
    ),
    "unit-under-where": (
        {"Modality": "CT", "unit": "study"},
        "local",
        SpecError,
        "where.unit",
        f"'unit' {TOP_LEVEL}: move it out of where",
    ),
    "licenses-under-where": (
        {"any": [{"Modality": "CT"}, {"licenses": ["CC BY 4.0"]}]},
        "bigquery",
        SpecError,
        "where.any[1].licenses",
        f"'licenses' {TOP_LEVEL}: move it out of where",
    ),
    "invalid-regex": (
        {"SeriesDescription": {"regex": "(T1"}},
        "local",
        SpecError,
        "where.SeriesDescription.regex",
        "invalid regular expression '(T1' (RE2 syntax): missing ): (T1",
    ),
    "regex-lookahead": (
        {"not": {"SeriesDescription": {"regex": "^(?=scout)"}}},
        "bigquery",
        SpecError,
        "where.not.SeriesDescription.regex",
        "invalid regular expression '^(?=scout)' (RE2 syntax): invalid perl operator: (?=",
    ),
    "regex-backreference": (
        {"SeriesDescription": {"regex": r"(a)\1"}},
        "local",
        SpecError,
        "where.SeriesDescription.regex",
        r"invalid regular expression '(a)\\1' (RE2 syntax): invalid escape sequence: \1",
    ),
    "between-reversed": (
        {"study_has": {"SeriesNumber": {"between": [9, 2]}}},
        "local",
        SpecError,
        "where.study_has.SeriesNumber.between",
        "between [9, 2] is empty: write [low, high]",
    ),
    "instance-field-on-local": (
        {"patient_has": {"any": [{"Modality": "MR"}, {"EchoTime": {"lt": 20}}]}},
        "local",
        UnsupportedError,
        "where.patient_has.any[1].EchoTime",
        f"EchoTime {INSTANCE_LOCAL}",
    ),
    "contains-on-single-value": (
        {"Modality": {"contains": "CT"}},
        "bigquery",
        SpecError,
        "where.Modality.contains",
        "contains is for fields holding several values (e.g. ImageType); Modality holds one",
    ),
    "eq-on-repeated": (
        {"ImageType": "AXIAL"},
        "bigquery",
        SpecError,
        "where.ImageType",
        "ImageType holds several values per instance; a value cannot compare with it: "
        "use contains (or is_null)",
    ),
    "in-on-repeated": (
        {"PixelSpacing": {"in": ["0.5", "0.7"]}},
        "bigquery",
        SpecError,
        "where.PixelSpacing.in",
        "PixelSpacing holds several values per instance; 'in' cannot compare with it: "
        "use contains (or is_null)",
    ),
}


@pytest.mark.parametrize("case", list(PLAN_ERRORS))
def test_plan_errors(case: str) -> None:
    where, engine, kind, location, message = PLAN_ERRORS[case]
    with pytest.raises(kind) as caught:
        idc_sql.compile({"name": "x", "where": where}, engine)
    assert (caught.value.location, caught.value.message) == (location, message)
    assert str(caught.value) == f"{location}: {message}"


@pytest.mark.parametrize(
    ("spec", "location", "message"),
    [
        (
            {"name": "x", "idc_version": 26},
            "idc_version",
            "the local index is IDC v25 (idc-index-data 25.0.5); v26 is not published in it: run "
            "this cohort with engine='bigquery' (dataset idc_v26) once IDC publishes it, or "
            "install a newer index",
        ),
        (
            {"name": "x", "columns": ["SeriesInstanceUID", "SliceThickness"]},
            "columns[1]",
            f"SliceThickness {INSTANCE_LOCAL}",
        ),
        (
            {"name": "x", "order_by": ["-KVP"]},
            "order_by[0]",
            f"KVP {INSTANCE_LOCAL}",
        ),
    ],
    ids=["version-26", "instance-column", "instance-order"],
)
def test_local_engine_refuses(spec: dict[str, Any], location: str, message: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        idc_sql.compile(spec, "local")
    assert str(caught.value) == f"{location}: {message}"


def test_unknown_engine() -> None:
    with pytest.raises(UsageError) as caught:
        idc_sql.compile({"name": "x"}, "duckdb")
    assert str(caught.value) == "unknown engine 'duckdb'; choose one of local, bigquery"


# ----------------------------------------------------------------------------- files


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


FILE_ERRORS: dict[str, tuple[dict[str, str], str, str, str]] = {
    "malformed-yaml": (
        {"c.yaml": "name: x\nwhere:\n  Modality: [CT\n"},
        "c.yaml",
        "c.yaml:4:1",
        "malformed YAML: did not find expected ',' or ']'",
    ),
    "malformed-json": (
        {"c.json": '{"name": "x",}'},
        "c.json",
        "c.json:1:14",
        "malformed JSON: Expecting property name enclosed in double quotes",
    ),
    "duplicate-yaml-key": (
        {"c.yml": "name: x\nname: y\n"},
        "c.yml",
        "c.yml:2:1",
        "malformed YAML: duplicate key 'name'",
    ),
    "spec-error-in-file": (
        {"c.yaml": "name: x\nwhere:\n  all:\n    - Modality: CT\n    - PatientSex: no\n"},
        "c.yaml",
        "c.yaml: where.all[1].PatientSex",
        f"a value is a string, a number or a date, got the boolean false {BOOLEANS}",
    ),
    "missing": ({}, "gone.yaml", "gone.yaml", "no such file"),
    "wrong-suffix": (
        {"c.toml": "name = 'x'\n"},
        "c.toml",
        "c.toml",
        "a specification file ends in .yaml, .yml or .json",
    ),
    "set-cycle": (
        {"s.yaml": "name: s\nexcept: [a.yaml, s.yaml]\n", "a.yaml": "name: a\n"},
        "s.yaml",
        "s.yaml: except[1]",
        "s.yaml includes itself (a cycle)",
    ),
    "set-member-outside": (
        {"s.yaml": "name: s\nunion: [a.yaml, ../a.yaml]\n", "a.yaml": "name: a\n"},
        "s.yaml",
        "s.yaml: union[1]",
        "../a.yaml is outside the spec's folder (allowed with allow_outside=True)",
    ),
    "yaml-merge-of-a-list": (
        {"c.yaml": "name: x\nwhere: {<<: [Modality, CT]}\n"},
        "c.yaml",
        "c.yaml:2:9",
        "malformed YAML: a merge key (<<) takes a mapping or a list of mappings",
    ),
}


@pytest.mark.parametrize("case", list(FILE_ERRORS))
def test_file_errors(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, path, location, message = FILE_ERRORS[case]
    _write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec(path)
    assert (caught.value.location, caught.value.message) == (location, message)
    assert str(caught.value) == f"{location}: {message}"


def test_folder_is_not_a_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c.yaml").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        idc_sql.compile("c.yaml")
    assert str(caught.value) == "c.yaml: is a directory, not a specification file"


def test_member_errors_name_the_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error inside a member names the member's file."""
    _write(
        tmp_path,
        {"s.yaml": "name: s\nunion: [a.yaml, b.yaml]\n", "a.yaml": "name: a\n",
         "b.yaml": "name: b\nwhere: {Modalty: CT}\n"},
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        idc_sql.compile("s.yaml")
    assert caught.value.location == f"{tmp_path.resolve() / 'b.yaml'}: where.Modalty"
    assert caught.value.message == f"unknown field 'Modalty'; did you mean Modality?{LOCAL_FIELDS}"


def test_duplicate_json_key_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, {"c.json": '{\n  "name": "x",\n  "limit": 3,\n  "name": "y"\n}\n'})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec("c.json")
    assert str(caught.value) == "c.json:4:3: malformed JSON: duplicate key 'name'"


def test_missing_member_names_the_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, {"s.yaml": "name: s\nunion: [a.yaml, gone.yaml]\n", "a.yaml": "name: a\n"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        idc_sql.load_spec("s.yaml")
    assert caught.value.location == "s.yaml: union[1]"
    assert caught.value.message == (
        "gone.yaml: no such file (paths are relative to the spec's folder)"
    )


@pytest.mark.parametrize("pattern", ["a++", "a*+", "(?>ab)c", "ab\\Z"])
@pytest.mark.parametrize("engine", ["local", "bigquery"])
def test_regex_re2_cannot_read(pattern: str, engine: str) -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.compile({"name": "x", "where": {"SeriesDescription": {"regex": pattern}}}, engine)
    assert caught.value.location == "where.SeriesDescription.regex"
    assert caught.value.message.startswith(f"invalid regular expression {pattern!r} (RE2 syntax)")


def test_limit_beyond_int64() -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec({"name": "x", "limit": 2**63})
    assert caught.value.location == "limit"


# ----------------------------------------------------------------------------- every problem


def test_every_problem_of_the_structure_is_listed() -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec({"name": "x", "limit": 0, "where": {"Modality": {"equals": "CT"}}})
    assert str(caught.value) == (
        "limit: input should be greater than 0, got int 0\n"
        f"where.Modality.equals: unknown operator 'equals'; allowed: {OPERATORS}"
    )
    assert (caught.value.location, caught.value.message) == (
        "limit",
        "input should be greater than 0, got int 0",
    )


def test_a_one_member_union_does_not_hide_its_other_problem() -> None:
    with pytest.raises(SpecError) as caught:
        idc_sql.parse_spec({"name": "x", "union": ["a.yaml"], "limit": 0})
    assert str(caught.value) == (
        "limit: input should be greater than 0, got int 0\n"
        "union: union combines at least 2 cohorts, got 1"
    )


@pytest.mark.parametrize("engine", ["local", "bigquery"])
def test_every_problem_of_the_fields_is_listed(engine: str) -> None:
    spec = {
        "name": "x",
        "where": {
            "all": [
                {"Modalty": "CT"},
                {"not": {"PatientAge": {"gt": 60}}},
                {"BodyPartExamnied": "CHEST", "limit": 3},
            ]
        },
        "columns": ["SeriesInstanceUID", "Modalityy"],
    }
    hint = (
        LOCAL_FIELDS
        if engine == "local"
        else (" (not in the catalog; not checked against the live dicom_all schema)")
    )
    with pytest.raises(UnknownFieldError) as caught:
        idc_sql.compile(spec, engine)
    assert str(caught.value).split("\n") == [
        f"where.all[0].Modalty: unknown field 'Modalty'; did you mean Modality?{hint}",
        f"where.all[1].not.PatientAge.gt: {AGE_TEXT}patient_age_years: {{gt: 60}})",
        "where.all[2].BodyPartExamnied: unknown field 'BodyPartExamnied'; "
        f"did you mean BodyPartExamined?{hint}",
        f"where.all[2].limit: 'limit' {TOP_LEVEL}: move it out of where",
        f"columns[1]: unknown field 'Modalityy'; did you mean Modality?{hint}",
    ]
    assert caught.value.location == "where.all[0].Modalty"


def test_problems_are_listed_up_to_a_cap() -> None:
    spec = {"name": "x", "where": {"all": [{f"Nofield{i}": "x"} for i in range(25)]}}
    with pytest.raises(SpecError) as caught:
        idc_sql.compile(spec, "local")
    lines = str(caught.value).split("\n")
    assert len(lines) == 21
    assert lines[0].startswith("where.all[0].Nofield0: unknown field 'Nofield0'")
    assert lines[19].startswith("where.all[19].Nofield19: unknown field 'Nofield19'")
    assert lines[20] == "and 5 more problems"


def test_what_the_engine_cannot_read_is_said_once() -> None:
    spec = {"name": "x", "where": {"all": [{"EchoTime": {"lt": 20}}, {"SliceThickness": 1}]}}
    with pytest.raises(UnsupportedError) as caught:
        idc_sql.compile(spec, "local")
    assert str(caught.value) == f"where.all[0].EchoTime: EchoTime {INSTANCE_LOCAL}"
