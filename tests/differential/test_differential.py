"""Differential tests: the local engine against an independent evaluator (evaluator.py).

Random cohort specifications built from real index values (strategies.py) must select exactly
the same series, in the same order, on both. Hand-written cases pin each semantic rule.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest
import yaml
from hypothesis import HealthCheck, given, note, reject, settings

import idc_sql

from .evaluator import (
    CANONICAL,
    KINDS,
    Index,
    age_years,
    evaluate,
    index_path,
    load_file,
    load_index,
)
from .strategies import AGREED, ANSWERS, SetCase, canonical, cohort_spec, set_case

#: random specifications, each new (a repeat is drawn again): 500 in all
COHORT_EXAMPLES = 460
SET_EXAMPLES = 40
PROPERTY = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture(scope="module")
def index() -> Index:
    return load_index()


def engine(spec: dict[str, Any] | Path) -> list[str]:
    """What the local engine selects: SeriesInstanceUID in the result's order."""
    table = idc_sql.run(spec).to_arrow()
    uids: list[str] = table["SeriesInstanceUID"].to_pylist()
    return uids


def check(spec: dict[str, Any], index: Index, expected: list[str] | None = None) -> list[str]:
    """Assert that engine and evaluator agree on ``spec``; return the answer.

    ``expected`` is the evaluator's answer when already known."""
    if expected is None:
        expected = evaluate(spec, index)
    actual = engine(spec)
    if actual != expected:
        sql = idc_sql.compile(spec).sql
        spelled = json.dumps(spec, default=str)
        pytest.fail(f"{explain(expected, actual)}\nspec: {spelled}\n{sql}", pytrace=False)
    return expected


def explain(expected: list[str], actual: list[str]) -> str:
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if not missing and not extra:
        first = next(i for i, (e, a) in enumerate(zip(expected, actual, strict=True)) if e != a)
        return f"same {len(expected)} series, order differs first at position {first}"
    return (
        f"expected {len(expected)} series, got {len(actual)}; "
        f"missing {len(missing)} (e.g. {missing[:3]}), unexpected {len(extra)} (e.g. {extra[:3]})"
    )


# ----------------------------------------------------------------------------- properties


@settings(PROPERTY, max_examples=COHORT_EXAMPLES)
@given(spec=cohort_spec())
def test_random_cohorts_agree(spec: dict[str, Any], index: Index) -> None:
    key = canonical(spec)
    if key in AGREED:
        reject()  # drawn before (Hypothesis can reach one spec along several paths)
    check(spec, index, ANSWERS.pop(key, None))
    AGREED.add(key)


def write(path: Path, spec: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(spec, default=str), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")


@settings(PROPERTY, max_examples=SET_EXAMPLES)
@given(case=set_case())
def test_random_set_specs_agree(case: SetCase, index: Index) -> None:
    if case.key in AGREED:
        reject()
    note(json.dumps({"spec": case.spec, "files": case.files}, default=str))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, member in case.files.items():
            write(root / rel, member)
        top = root / "set.yaml"
        write(top, case.spec)
        expected = evaluate(load_file(top), index, top.parent)
        actual = engine(top)
    assert actual == expected, explain(expected, actual)
    AGREED.add(case.key)


# ----------------------------------------------------------------------------- the data


def test_index_is_in_canonical_order(index: Index) -> None:
    """The local engine orders by the file's row number: the file must be sorted by
    (collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID), each series once."""
    table = index.table.select(list(CANONICAL))
    assert table.num_rows == 1_044_191
    assert pc.count_distinct(table["SeriesInstanceUID"]).as_py() == table.num_rows
    for name in CANONICAL:
        assert table[name].null_count == 0, name
    # compare each row with the next, key by key, in plain Python
    rows = zip(*(table[name].to_pylist() for name in CANONICAL), strict=True)
    previous = next(rows)
    for i, row in enumerate(rows, start=1):
        assert previous < row, f"row {i} {row} sorts before row {i - 1} {previous}"
        previous = row
    # and the evaluator's own ranking (computed from sorted values) agrees
    assert np.array_equal(index.canonical_rank, np.arange(index.n))


def test_evaluator_kinds_match_the_catalog() -> None:
    local = {f.name: f.kind for f in idc_sql.fields(engine="local")}
    # viewer_url is built from the series' UIDs for people to click; the evaluator does not
    # draw conditions on it (the catalog's golden and viewer tests cover it)
    assert local.pop("viewer_url") == "string"
    assert local == KINDS


def test_index_path_is_the_engines() -> None:
    from idc_sql.engines.local import index_dir

    assert index_dir() / "idc_index.parquet" == index_path()


# ----------------------------------------------------------------------------- rules by hand


def spec_of(where: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "case", "columns": ["SeriesInstanceUID"], **extra}
    if where is not None:
        spec["where"] = where
    return spec


_COLUMNS: dict[str, list[Any]] = {}


def column(index: Index, name: str) -> list[Any]:
    """A column of the index as a Python list (read once)."""
    if name not in _COLUMNS:
        _COLUMNS[name] = index.table[name].to_pylist()
    return _COLUMNS[name]


@pytest.mark.parametrize("op", ["ne", "not_in"])
def test_null_never_matches_ne_or_not_in(index: Index, op: str) -> None:
    """``ne`` and ``not_in`` do not select a series whose value is NULL."""
    # qin_lung_ct has CHEST, LUNG and NULL body parts
    value: Any = "CHEST" if op == "ne" else ["CHEST"]
    where = {"collection_id": "qin_lung_ct", "BodyPartExamined": {op: value}}
    got = set(check(spec_of(where), index))
    coll, body = column(index, "collection_id"), column(index, "BodyPartExamined")
    nulls = {
        u
        for u, c, b in zip(column(index, "SeriesInstanceUID"), coll, body, strict=True)
        if c == "qin_lung_ct" and b is None
    }
    assert nulls, "the case needs NULL BodyPartExamined in qin_lung_ct"
    assert got
    assert not got & nulls


def test_is_null(index: Index) -> None:
    where = {"collection_id": "lidc_idri", "BodyPartExamined": {"is_null": True}}
    assert check(spec_of(where), index)
    where = {"collection_id": "lidc_idri", "BodyPartExamined": {"is_null": False}}
    assert check(spec_of(where), index)


@pytest.mark.parametrize(
    "inner",
    [
        {"BodyPartExamined": {"ne": "CHEST"}},
        {"PatientAge": {"not_in": ["065Y", "070Y"]}},
        {"patient_age_years": {"gt": 60}},
        {"SeriesDescription": {"like": "%AX%"}},
        {"any": [{"Modality": "SEG"}, {"BodyPartExamined": {"ne": "LUNG"}}]},
        {"study_has": {"Modality": "SEG"}},
    ],
)
def test_not_is_the_complement(index: Index, inner: dict[str, Any]) -> None:
    """``not: P`` and ``P`` split every collection: NULLs fall on the ``not`` side."""
    collection = {"collection_id": {"in": ["lidc_idri", "qin_lung_ct", "rider_pilot"]}}
    yes = check(spec_of({"all": [collection, inner]}), index)
    no = check(spec_of({"all": [collection, {"not": inner}]}), index)
    every = check(spec_of(collection), index)
    assert not set(yes) & set(no)
    assert set(yes) | set(no) == set(every)
    assert yes
    assert no


def test_double_negation(index: Index) -> None:
    inner = {"PatientAge": {"ne": "060Y"}}
    collection = {"collection_id": "lidc_idri"}
    once = check(spec_of({"all": [collection, inner]}), index)
    twice = check(spec_of({"all": [collection, {"not": {"not": inner}}]}), index)
    assert once == twice


def test_study_has(index: Index) -> None:
    """CT series in studies that also hold a SEG: the study's SEG is not itself selected."""
    where = {
        "all": [
            {"collection_id": "lidc_idri", "Modality": "CT"},
            {"study_has": {"Modality": "SEG"}},
        ]
    }
    got = check(spec_of(where), index)
    assert got
    study = column(index, "StudyInstanceUID")
    seg_studies = {s for s, m in zip(study, column(index, "Modality"), strict=True) if m == "SEG"}
    by_uid = dict(zip(column(index, "SeriesInstanceUID"), study, strict=True))
    assert all(by_uid[u] in seg_studies for u in got)


def test_study_has_includes_the_series_itself(index: Index) -> None:
    rider = {"collection_id": "rider_pilot"}
    where = {"all": [rider, {"study_has": rider}]}
    assert check(spec_of(where), index) == check(spec_of(rider), index)


def test_patient_has_is_per_collection(index: Index) -> None:
    """A PatientID found in two collections is two patients: one's series do not qualify
    the other's."""
    coll, pid = column(index, "collection_id"), column(index, "PatientID")
    pairs: dict[str, set[str]] = {}
    for c, p in zip(coll, pid, strict=True):
        pairs.setdefault(p, set()).add(c)
    shared = sorted(p for p, cs in pairs.items() if len(cs) > 1)
    assert shared, "the case needs a PatientID used in two collections"
    patient = shared[0]
    first, second = sorted(pairs[patient])
    where = {"all": [{"PatientID": patient}, {"patient_has": {"collection_id": first}}]}
    got = check(spec_of(where), index)
    by_uid = dict(zip(column(index, "SeriesInstanceUID"), coll, strict=True))
    assert got
    assert {by_uid[u] for u in got} == {first}
    where = {
        "all": [{"PatientID": {"in": shared[:20]}}, {"patient_has": {"collection_id": second}}]
    }
    assert check(spec_of(where), index)


def test_nested_has(index: Index) -> None:
    where = {
        "all": [
            {"collection_id": "qin_lung_ct"},
            {"patient_has": {"study_has": {"not": {"Modality": "CT"}}}},
        ]
    }
    assert check(spec_of(where), index)


def test_like_escapes(index: Index) -> None:
    """``\\_`` and ``\\%`` are literal; bare ``_`` and ``%`` are wildcards."""
    descriptions = index.strings("SeriesDescription").values
    sample = next(v for v in descriptions if "_" in v and len(v) > 5)
    head, _, tail = sample.partition("_")
    exact = head.replace("%", "\\%") + "\\_" + tail.replace("_", "\\_").replace("%", "\\%")
    for pattern in (exact, head + "_" + tail, "%\\_%", "%\\%%", "%.0\\%", "_%"):
        where = {"SeriesDescription": {"like": pattern}}
        got = check(spec_of(where, limit=50), index)
        if pattern == exact:
            assert got
    # an underscore must not match any character when escaped
    where = {"collection_id": "rider_pilot", "SeriesDescription": {"like": "%\\_%"}}
    got = check(spec_of(where), index)
    assert all("_" in d for d in descriptions_of(index, got))


def descriptions_of(index: Index, uids: list[str]) -> list[str]:
    by_uid = dict(
        zip(column(index, "SeriesInstanceUID"), column(index, "SeriesDescription"), strict=True)
    )
    return [by_uid[u] for u in uids]


def test_ilike_and_regex(index: Index) -> None:
    for cond in (
        {"ilike": "%cHeSt%"},
        {"regex": "(?i)^ax"},
        {"regex": "[0-9]+mm"},
        {"ilike": "%é%"},
        {"regex": "é|Ç"},
    ):
        check(spec_of({"SeriesDescription": cond}, limit=30), index)


def test_control_characters_in_values(index: Index) -> None:
    odd = [v for v in index.strings("SeriesDescription").values if "\x00" in v]
    assert odd
    check(spec_of({"SeriesDescription": odd[0]}), index)
    check(spec_of({"SeriesDescription": {"like": odd[0].replace("_", "\\_")}}), index)
    check(spec_of({"SeriesDescription": {"regex": odd[0].replace(".", "\\.")}}), index)
    check(spec_of({"SeriesDescription": {"ilike": "%\x01%"}}), index)
    check(spec_of({"SeriesDescription": {"gt": odd[0]}}, limit=20), index)


def test_series_number_compares_as_a_number(index: Index) -> None:
    where = {"collection_id": "rider_pilot", "SeriesNumber": {"gt": 9}}
    got = check(spec_of(where), index)
    numbers = dict(
        zip(column(index, "SeriesInstanceUID"), column(index, "SeriesNumber"), strict=True)
    )
    assert got
    assert all(float(numbers[u]) > 9 for u in got)
    assert any(numbers[u] < "9" for u in got)  # e.g. "102", less than "9" as text
    check(spec_of({"collection_id": "rider_pilot", "SeriesNumber": [1, 2.0, 3.5]}), index)


def test_patient_age_years(index: Index) -> None:
    """Years from Y, M and D ages (W works alike; the index has none); malformed ages ('47',
    '042y', 'N-A') are NULL."""
    for cond in ({"between": [44.5, 45]}, {"lt": 1}, {"is_null": True}, {"eq": 0.5}):
        check(spec_of({"patient_age_years": cond}, limit=200), index)
    where = {"PatientAge": {"in": ["47", "90", "042y", "N-A"]}}
    odd = check(spec_of(where), index)
    assert odd
    assert check(spec_of({"all": [where, {"patient_age_years": {"is_null": True}}]}), index) == odd
    # every unit the index uses (no age is in weeks), compared for equality with the years
    # computed here
    ages = index.strings("PatientAge").values
    for unit in "YMD":
        age = next(a for a in ages if a.endswith(unit) and a[:3].isdigit() and a[:3] != "000")
        years = age_years(age)
        assert years is not None
        got = check(spec_of({"patient_age_years": years}, limit=50), index)
        assert got, f"{age} is {years} years"


def test_dates_compare_as_dates(index: Index) -> None:
    for cond in (
        {"lt": "1950-01-01"},
        {"between": ["2000-02-28", "2000-03-01"]},
        {"eq": "2000-01-01"},
        {"gt": "2025-12-31"},
        {"is_null": True},
    ):
        check(spec_of({"StudyDate": cond}, limit=100), index)


@pytest.mark.parametrize(
    "key",
    [
        "BodyPartExamined",
        "-BodyPartExamined",
        "-PatientAge",
        "patient_age_years",
        "-SeriesDate",
        "-Manufacturer",
    ],
)
def test_order_puts_nulls_last(index: Index, key: str) -> None:
    collections = {"collection_id": {"in": ["lidc_idri", "rider_pilot", "qin_lung_ct"]}}
    got = check(spec_of(collections, order_by=[key, "-Modality"]), index)
    _, missing = index.column(key.lstrip("-")).sort_key(np.array(rows_of(index, got)))
    flags = missing.tolist()
    assert flags == sorted(flags)
    assert flags[0] is False, "no series has a value"
    assert flags[-1] is True, "no series lacks a value"


def rows_of(index: Index, uids: list[str]) -> list[int]:
    uid = index.strings("SeriesInstanceUID")
    where = uid.codes.argsort()  # code -> row: every series once
    return [int(where[uid.position[u]]) for u in uids]


def test_default_order_and_limit(index: Index) -> None:
    first = check(spec_of({"Modality": "CT"}, limit=7), index)
    assert len(first) == 7
    check(spec_of(None, limit=3), index)
    check(spec_of(None, order_by=["-SeriesInstanceUID"], limit=3), index)
    check(spec_of({"collection_id": "rider_pilot"}, order_by=["-instanceCount"], limit=5), index)


@pytest.mark.parametrize(
    ("unit", "keys"), [("study", ["StudyInstanceUID"]), ("patient", ["collection_id", "PatientID"])]
)
def test_units_keep_every_selected_series_of_the_first_units(
    index: Index, unit: str, keys: list[str]
) -> None:
    columns = ["SeriesInstanceUID", "collection_id", "PatientID", "StudyInstanceUID"]
    where = {"collection_id": ["rider_pilot", "nsclc_radiomics"], "Modality": "CT"}
    every = idc_sql.run({**spec_of(where), "columns": columns}).to_arrow().to_pylist()
    spec = {**spec_of(where, order_by=["-series_size_MB"], limit=3), "unit": unit}
    spec["columns"] = columns
    check(spec, index)
    rows = idc_sql.run(spec).to_arrow().to_pylist()
    chosen = list(dict.fromkeys(tuple(r[k] for k in keys) for r in rows))
    assert len(chosen) == 3
    # a unit's series together: the units appear one after another
    runs = [tuple(r[k] for k in keys) for r in rows]
    assert [u for i, u in enumerate(runs) if i == 0 or runs[i - 1] != u] == chosen
    # every selected series of those units, no other
    held = {r["SeriesInstanceUID"] for r in every if tuple(r[k] for k in keys) in chosen}
    assert {r["SeriesInstanceUID"] for r in rows} == held
    assert len(held) > 3  # the cases hold units of several series
    # the first unit is the one holding the largest selected series
    largest = idc_sql.run({**spec_of(where, order_by=["-series_size_MB"], limit=1)}).to_arrow()
    assert rows[0]["SeriesInstanceUID"] == largest["SeriesInstanceUID"][0].as_py()
    summary = idc_sql.count(spec)
    assert summary.series == len(held)
    assert (summary.studies if unit == "study" else summary.patients) == 3
    # without a limit: the same series as without a unit, grouped by unit
    whole = {**spec_of(where), "unit": unit, "columns": columns}
    assert sorted(check(whole, index)) == sorted(r["SeriesInstanceUID"] for r in every)


def test_empty_result(index: Index) -> None:
    assert check(spec_of({"collection_id": "no_such_collection"}), index) == []
    assert check(spec_of({"all": [{"Modality": "CT"}, {"not": {"Modality": "CT"}}]}), index) == []


def test_set_operations(index: Index, tmp_path: Path) -> None:
    write(tmp_path / "ct.yaml", spec_of({"collection_id": "rider_pilot", "Modality": "CT"}))
    write(
        tmp_path / "first.json",
        spec_of({"collection_id": "rider_pilot"}, order_by=["-instanceCount"], limit=100),
    )
    sizes = {}
    for op in ("union", "intersect", "except"):
        spec = {
            "name": op,
            "columns": ["SeriesInstanceUID"],
            op: ["first.json", "ct.yaml"],
            "order_by": ["series_size_MB"],
        }
        write(tmp_path / f"{op}.yaml", spec)
        expected = evaluate(spec, index, tmp_path)
        assert engine(tmp_path / f"{op}.yaml") == expected
        sizes[op] = len(expected)
    assert sizes["intersect"] + sizes["except"] == 100
    assert sizes["union"] >= 100


# ----------------------------------------------------------------------------- found here


@pytest.mark.parametrize("key", ["-SeriesNumber", "SeriesNumber"])
def test_order_by_series_number_is_numeric(index: Index, key: str) -> None:
    """SeriesNumber is text that compares, and so orders, as a number: 90002 before 945
    descending, 9 before 102 ascending. (The engine first sorted the text; fixed in 0ea6fe6.)"""
    got = check(spec_of({"collection_id": "rider_pilot"}, order_by=[key]), index)
    numbers = dict(
        zip(column(index, "SeriesInstanceUID"), column(index, "SeriesNumber"), strict=True)
    )
    values = [float(numbers[u]) for u in got if numbers[u] is not None]
    assert values == sorted(values, reverse=key.startswith("-"))


@pytest.mark.parametrize("op", ["like", "ilike"])
def test_like_pattern_ending_in_backslash_is_checked(op: str) -> None:
    """The pattern escapes nothing: it is refused when the spec is checked, as a bad regex is.
    (The engine first let DuckDB fail on it at run time; fixed in d623fe5.)"""
    spec = spec_of({"Modality": {op: "CT\\"}})
    with pytest.raises(idc_sql.SpecError, match="escape character"):
        idc_sql.compile(spec)


# ----------------------------------------------------------------------------- multi-valued

JPEG_OR_JPEG_2000 = ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.91"]


@pytest.mark.parametrize(
    ("instances", "series"),
    [("any", 75_708), ("all", 4_742)],
)
def test_multi_valued_any_or_every_value(index: Index, instances: str, series: int) -> None:
    """Series with a JPEG or JPEG 2000 instance; with instances: all, those with no other
    syntax (the joined value is one of the two): IDC v25's figures."""
    spec = {
        "name": "jpeg",
        "instances": instances,
        "columns": ["SeriesInstanceUID"],
        "where": {"TransferSyntaxUID": JPEG_OR_JPEG_2000},
    }
    assert len(check(spec, index)) == series


@pytest.mark.parametrize(
    "where",
    [
        {"TransferSyntaxUID": {"contains": "1.2.840.10008.1.2.4.50"}},
        {"all": [{"not": {"PhotometricInterpretation": "RGB"}}, {"Modality": "SM"}]},
        {"PhotometricInterpretation": {"not_in": ["RGB"], "is_null": False}, "Modality": "SM"},
        {"PixelRepresentation": {"gt": "0"}},
        {"transfer_syntax_name": {"like": "JPEG 2000%"}, "collection_id": "cptac_cm"},
        {"collection_cancerType": {"ilike": "%lung%"}, "Modality": "SEG"},
        {"collection_tumorLocation": ["Chest", "Lung"], "Modality": "RTSTRUCT"},
        {"collection_species": {"ne": "Human"}},
        {"collection_name": {"like": "TCGA-%"}, "Modality": "MR"},
    ],
)
def test_multi_valued_and_collection_fields(index: Index, where: dict[str, Any]) -> None:
    spec = {"name": "multi", "columns": ["SeriesInstanceUID"], "where": where}
    assert check(spec, index)
