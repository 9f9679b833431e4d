"""Long lists and many conditions on the local engine, against the independent evaluator.

Lists of real SeriesInstanceUIDs (and some that no series holds) of every size up to the limit
of a list, in ``in`` and ``not_in``: a list longer than 1,000 values is a relation joined by hash,
a shorter one a list searched in place, and both must select exactly what the evaluator does.
Specifications with thousands of conditions that the planner merges (an ``any`` of equalities,
an ``all`` of ``not``) and nested ``study_has`` must too. Nothing here is timed (see bench/).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.spec.limits import MAX_LIST

from .evaluator import Index, evaluate, load_index
from .test_differential import check


@pytest.fixture(scope="module")
def index() -> Index:
    return load_index()


@pytest.fixture(scope="module")
def uids(index: Index) -> list[str]:
    """Every SeriesInstanceUID of the index, in a fixed random order."""
    column = index.column("SeriesInstanceUID")
    values = [column.values[code] for code in column.codes]
    random.Random(12).shuffle(values)
    return values


MISSING = [f"1.2.826.0.1.3680043.99.{i}" for i in range(10)]  # UIDs no series holds


@pytest.mark.parametrize("size", [10, 1_000, 1_001, 100_000, 200_000, MAX_LIST])
@pytest.mark.parametrize("op", ["in", "not_in"])
def test_lists_of_every_size(index: Index, uids: list[str], op: str, size: int) -> None:
    values = uids[: size - len(MISSING)] + MISSING
    random.Random(size).shuffle(values)
    spec = {"name": "list", "where": {"SeriesInstanceUID": {op: values}}}
    got = check(spec, index)
    expected = size - len(MISSING) if op == "in" else index.n - (size - len(MISSING))
    assert len(got) == expected


def test_a_long_list_is_a_relation_and_a_short_one_a_list(uids: list[str]) -> None:
    short = idc_sql.compile({"name": "s", "where": {"SeriesInstanceUID": uids[:1000]}})
    long = idc_sql.compile({"name": "l", "where": {"SeriesInstanceUID": uids[:1001]}})
    assert "ARRAY_CONTAINS($p0, series.SeriesInstanceUID)" in short.sql
    assert "series.SeriesInstanceUID IN (" in long.sql
    assert "FROM UNNEST($p0) AS _list(_v)" in long.sql


def test_long_lists_with_nulls_and_negation(index: Index, uids: list[str]) -> None:
    """The null rule holds for relations: a missing value is in no list and in no not_in list,
    and ``not`` selects it."""
    descriptions = index.column("SeriesDescription").values[:5000]
    for where in (
        {"SeriesDescription": {"not_in": descriptions}},
        {"not": {"SeriesDescription": {"in": descriptions}}},
        {"not": {"SeriesDescription": {"not_in": descriptions}}},
        {"any": [{"SeriesDescription": descriptions}, {"SeriesInstanceUID": uids[:5000]}]},
        {"study_has": {"SeriesInstanceUID": uids[:3000]}},
    ):
        check({"name": "nulls", "where": where}, index)


def test_a_long_list_in_a_set(index: Index, uids: list[str], tmp_path: Path) -> None:
    import yaml

    (tmp_path / "a.yaml").write_text(
        yaml.safe_dump({"name": "a", "where": {"SeriesInstanceUID": uids[:50_000]}})
    )
    (tmp_path / "b.yaml").write_text(
        yaml.safe_dump({"name": "b", "where": {"SeriesInstanceUID": {"not_in": uids[:40_000]}}})
    )
    (tmp_path / "s.yaml").write_text("name: s\nintersect: [a.yaml, b.yaml]\n")
    result = idc_sql.run(tmp_path / "s.yaml").to_arrow()
    assert sorted(result["SeriesInstanceUID"].to_pylist()) == sorted(uids[40_000:50_000])


# ----------------------------------------------------------------------------- many conditions


def _distinct(index: Index, name: str, n: int) -> list[str]:
    return index.column(name).values[:n]


def _many(values: list[str], n: int) -> dict[str, tuple[Any, Any]]:
    """Specifications of many conditions on one field, each with an equivalent of a few
    conditions (what the evaluator is given when the conditions are thousands: it builds one
    mask of a million rows per condition)."""
    half = n // 2
    return {
        "any": (
            {"any": [{"SeriesDescription": v} for v in values]},
            {"SeriesDescription": values},
        ),
        "all-not": (
            {"all": [{"not": {"SeriesDescription": v}} for v in values]},
            {"not": {"SeriesDescription": values}},
        ),
        "all-ne": (
            {"all": [{"SeriesDescription": {"ne": v}} for v in values]},
            {"SeriesDescription": {"not_in": values}},
        ),
        "mixed": (
            {
                "all": [{"not": {"SeriesDescription": v}} for v in values[:half]]
                + [{"SeriesDescription": {"ne": v}} for v in values[half:]]
                + [{"Modality": "CT"}]
            },
            {
                "all": [
                    {"not": {"SeriesDescription": values[:half]}},
                    {"SeriesDescription": {"not_in": values[half:]}},
                    {"Modality": "CT"},
                ]
            },
        ),
    }


@pytest.mark.parametrize("n", [31, 32, 4_999])
def test_many_conditions_on_one_field(index: Index, n: int) -> None:
    values = _distinct(index, "SeriesDescription", n)
    for many, few in _many(values, n).values():
        expected = evaluate({"name": "few", "where": few if n > 100 else many}, index)
        check({"name": "many", "where": many}, index, expected)


def test_conditions_merged_into_one_list_at_32(index: Index) -> None:
    values = _distinct(index, "SeriesDescription", 32)
    merged = idc_sql.compile(
        {"name": "m", "where": {"all": [{"not": {"SeriesDescription": v}} for v in values]}}
    )
    kept = idc_sql.compile(
        {"name": "k", "where": {"all": [{"not": {"SeriesDescription": v}} for v in values[:31]]}}
    )
    assert list(merged.params.values()) == [values]
    assert len(kept.params) == 31


def test_nested_study_has_is_one(index: Index) -> None:
    where: dict[str, Any] = {"Modality": "SEG"}
    for _ in range(31):
        where = {"study_has": where}
    check({"name": "deep", "where": where}, index)
    sql = idc_sql.compile({"name": "deep", "where": where}).sql
    assert sql.count("EXISTS") == 1
    patient: dict[str, Any] = {"all": [{"Modality": "RTSTRUCT"}]}
    for i in range(16):
        patient = {"patient_has": patient} if i % 2 else {"study_has": patient}
    check({"name": "alternating", "where": patient}, index)
