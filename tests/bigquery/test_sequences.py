"""Conditions on DICOM sequences (``has``) on BigQuery, checked against a plain-Python reading
of the fixture's rows: RTSTRUCT regions of interest and private elements, nested two and three
levels deep, under ``not`` and with ``instances: all``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings
from idc_sql.errors import SpecError

from .emulator import Emulator
from .fixture import fixture_tables

Row = dict[str, Any]


@pytest.fixture(scope="module")
def instances() -> dict[str, list[Row]]:
    """dicom_all rows of the fixture, by series."""
    table = next(t for t in fixture_tables() if t.name == "dicom_all")
    by_series: dict[str, list[Row]] = defaultdict(list)
    for row in table.rows:
        by_series[row["SeriesInstanceUID"]].append(dict(row))
    return by_series


@pytest.fixture
def engine(
    bq_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> BigQueryEngine:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path / "cache"))
    return BigQueryEngine(
        Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    )


def _selected(engine: BigQueryEngine, where: dict[str, Any], instances: str = "any") -> set[str]:
    spec = {
        "name": "t",
        "idc_version": 25,
        "instances": instances,
        "where": where,
        "columns": ["SeriesInstanceUID"],
    }
    table = idc_sql.run(idc_sql.parse_spec(spec), engine).to_arrow()
    return set(table.column("SeriesInstanceUID").to_pylist())


def _some(items: list[Row] | None, test: Callable[[Row], bool]) -> bool:
    return any(test(item) for item in items or [])


def _ilike_lung(value: str | None) -> bool:
    return value is not None and "lung" in value.lower()


def _private(tag: str, values: set[str]) -> Callable[[Row], bool]:
    return lambda e: e["Tag"] == tag and any(d in values for d in e["Data"])


CASES: list[tuple[str, dict[str, Any], Callable[[Row], bool], str]] = [
    (
        "roi name",
        {"StructureSetROISequence": {"has": {"ROIName": {"ilike": "%lung%"}}}},
        lambda r: _some(r["StructureSetROISequence"], lambda e: _ilike_lung(e["ROIName"])),
        "any",
    ),
    (
        "two conditions on one element",
        {"StructureSetROISequence": {"has": {"ROIName": {"regex": "^Lung"}, "ROINumber": 1}}},
        lambda r: _some(
            r["StructureSetROISequence"],
            lambda e: re.search("^Lung", e["ROIName"]) is not None and e["ROINumber"] == "1",
        ),
        "any",
    ),
    (
        "nested private element",
        {
            "StructureSetROISequence": {
                "has": {"OtherElements": {"has": {"Data": {"in": ["LUNG", "A"]}}}}
            }
        },
        lambda r: _some(
            r["StructureSetROISequence"],
            lambda e: _some(e["OtherElements"], lambda o: bool({"LUNG", "A"} & set(o["Data"]))),
        ),
        "any",
    ),
    (
        "private element",
        {"OtherElements": {"has": {"Tag": "(0019,10b0)", "Data": {"contains": "x"}}}},
        lambda r: _some(r["OtherElements"], _private("(0019,10b0)", {"x"})),
        "any",
    ),
    (
        "private element on every instance",
        {"OtherElements": {"has": {"Tag": {"like": "(00%"}}}},
        lambda r: _some(r["OtherElements"], lambda o: o["Tag"].startswith("(00")),
        "all",
    ),
    (
        "empty data",
        {"OtherElements": {"has": {"Data": {"is_null": True}}}},
        lambda r: _some(r["OtherElements"], lambda o: not o["Data"]),
        "any",
    ),
]


def _expected(by_series: dict[str, list[Row]], test: Callable[[Row], bool], match: str) -> set[str]:
    pick = all if match == "all" else any
    return {uid for uid, rows in by_series.items() if pick(test(r) for r in rows)}


@pytest.mark.parametrize(
    ("where", "test", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_sequences(
    engine: BigQueryEngine,
    instances: dict[str, list[Row]],
    where: dict[str, Any],
    test: Callable[[Row], bool],
    match: str,
) -> None:
    expected = _expected(instances, test, match)
    assert expected  # the fixture holds such series: the case can fail
    assert expected != set(instances)
    assert _selected(engine, where, match) == expected


def test_not_is_the_complement(engine: BigQueryEngine, instances: dict[str, list[Row]]) -> None:
    where = {"StructureSetROISequence": {"has": {"ROIName": {"ilike": "%lung%"}}}}
    lung = _selected(engine, where)
    rtstruct = {uid for uid, rows in instances.items() if rows[0]["Modality"] == "RTSTRUCT"}
    assert lung
    assert lung < rtstruct
    both = {"all": [{"Modality": "RTSTRUCT"}, {"not": where}]}
    assert _selected(engine, both) == rtstruct - lung


def test_a_sequence_of_the_live_schema(
    engine: BigQueryEngine, instances: dict[str, list[Row]]
) -> None:
    """ReferencedSeriesSequence is not catalogued: its sub-fields come from get_table."""
    referenced = sorted(
        {
            ref["SeriesInstanceUID"]
            for rows in instances.values()
            for ref in rows[0]["ReferencedSeriesSequence"]
        }
    )
    assert len(referenced) >= 2
    wanted = referenced[:2]
    where = {"ReferencedSeriesSequence": {"has": {"SeriesInstanceUID": {"in": wanted}}}}
    expected = _expected(
        instances,
        lambda r: _some(r["ReferencedSeriesSequence"], lambda e: e["SeriesInstanceUID"] in wanted),
        "any",
    )
    assert expected
    assert _selected(engine, where) == expected
    with pytest.raises(SpecError) as caught:
        _selected(engine, {"ReferencedSeriesSequence": {"has": {"SeriesUID": "1"}}})
    assert caught.value.message == (
        "ReferencedSeriesSequence has no sub-field 'SeriesUID'; did you mean SeriesInstanceUID? "
        "(its sub-fields: ReferencedImageSequence, ReferencedInstanceSequence, SeriesInstanceUID)"
    )
