"""Multi-valued fields and collection metadata on both engines, over the emulator's fixture.

``TransferSyntaxUID``, ``transfer_syntax_name``, ``PhotometricInterpretation`` and
``PixelRepresentation`` are, in the local index, the distinct values of a series' instances
joined by ","; in ``dicom_all`` they are per instance. ``collection_cancerType``,
``collection_tumorLocation`` and ``collection_species`` are a collection's values joined by ", "
(``collections_index`` locally, ``dicom_all``'s own columns on BigQuery). Each case is checked
three ways: BigQuery, the local engine restricted to the fixture's series, and plain Python over
the fixture's instance rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import Emulator
from .fixture import fixture_series, fixture_tables

Row = dict[str, Any]
JPEG, JPEG_2000, EXPLICIT = (
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.1",
)
COLUMNS = [
    "SeriesInstanceUID",
    "TransferSyntaxUID",
    "transfer_syntax_name",
    "PhotometricInterpretation",
    "PixelRepresentation",
    "collection_name",
    "collection_cancerType",
    "collection_tumorLocation",
    "collection_species",
]


@pytest.fixture(scope="module")
def engine(bq_emulator: Emulator) -> BigQueryEngine:
    return BigQueryEngine(
        Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    )


@pytest.fixture(scope="module")
def instances() -> dict[str, list[Row]]:
    """dicom_all rows of the fixture, by series."""
    table = next(t for t in fixture_tables() if t.name == "dicom_all")
    by_series: dict[str, list[Row]] = defaultdict(list)
    for row in table.rows:
        by_series[row["SeriesInstanceUID"]].append(row)
    return by_series


def _spec(where: dict[str, Any], instances: str) -> dict[str, Any]:
    return {
        "name": "t",
        "idc_version": 25,
        "instances": instances,
        "where": where,
        "columns": COLUMNS,
    }


def _both(engine: BigQueryEngine, where: dict[str, Any], instances: str = "any") -> list[str]:
    """The series both engines select (asserted equal, with equal columns), in order."""
    spec = _spec(where, instances)
    remote = idc_sql.run(idc_sql.parse_spec(spec), engine).to_arrow().to_pylist()
    uids = sorted(fixture_series().column("SeriesInstanceUID").to_pylist())
    restricted = {**spec, "where": {"all": [{"SeriesInstanceUID": uids}, where]}}
    local = idc_sql.run(restricted).to_arrow().to_pylist()
    assert remote == local
    return [row["SeriesInstanceUID"] for row in remote]


def _expected(
    by_series: dict[str, list[Row]], test: Callable[[Row], bool], instances: str = "any"
) -> set[str]:
    pick = any if instances == "any" else all
    return {uid for uid, rows in by_series.items() if pick(test(r) for r in rows)}


def test_fixture_has_series_of_several_values_and_collection_metadata(
    instances: dict[str, list[Row]],
) -> None:
    several = [
        uid for uid, rows in instances.items() if len({r["TransferSyntaxUID"] for r in rows}) > 1
    ]
    assert len(several) > 100
    joined = [r["collection_cancerType"] for rows in instances.values() for r in rows[:1]]
    assert all(joined)
    assert any(", " in value for value in joined)


@pytest.mark.parametrize("instances_", ["any", "all"])
def test_transfer_syntax_list(
    engine: BigQueryEngine, instances: dict[str, list[Row]], instances_: str
) -> None:
    selected = _both(engine, {"TransferSyntaxUID": [JPEG, JPEG_2000]}, instances_)
    wanted = _expected(instances, lambda r: r["TransferSyntaxUID"] in (JPEG, JPEG_2000), instances_)
    assert set(selected) == wanted
    assert wanted, "the fixture holds JPEG series"
    if instances_ == "any":
        # series mixing JPEG with an uncompressed syntax are selected: their joined value is
        # neither of the two
        mixed = _expected(instances, lambda r: r["TransferSyntaxUID"] == EXPLICIT)
        assert wanted & mixed


def test_contains_is_one_of_the_values(
    engine: BigQueryEngine, instances: dict[str, list[Row]]
) -> None:
    selected = _both(engine, {"TransferSyntaxUID": {"contains": JPEG}})
    assert set(selected) == _expected(instances, lambda r: r["TransferSyntaxUID"] == JPEG)
    assert selected == _both(engine, {"TransferSyntaxUID": JPEG})


def test_not_and_not_in(engine: BigQueryEngine, instances: dict[str, list[Row]]) -> None:
    anywhere = _expected(instances, lambda r: r["TransferSyntaxUID"] == EXPLICIT)
    negated = _both(engine, {"not": {"TransferSyntaxUID": EXPLICIT}})
    assert set(negated) == set(instances) - anywhere
    other = _both(engine, {"TransferSyntaxUID": {"not_in": [EXPLICIT]}})
    assert set(other) == _expected(instances, lambda r: r["TransferSyntaxUID"] != EXPLICIT)


@pytest.mark.parametrize("instances_", ["any", "all"])
def test_patterns(engine: BigQueryEngine, instances: dict[str, list[Row]], instances_: str) -> None:
    names = _both(engine, {"transfer_syntax_name": {"like": "JPEG%"}}, instances_)
    assert names == _both(
        engine, {"TransferSyntaxUID": {"like": "1.2.840.10008.1.2.4.%"}}, instances_
    )
    photometric = _both(engine, {"PhotometricInterpretation": {"regex": "^YBR"}}, instances_)
    assert set(photometric) == _expected(
        instances, lambda r: (r["PhotometricInterpretation"] or "").startswith("YBR"), instances_
    )


def test_is_null_reads_the_series_whole(
    engine: BigQueryEngine, instances: dict[str, list[Row]]
) -> None:
    missing = _both(engine, {"PhotometricInterpretation": {"is_null": True}})
    assert set(missing) == _expected(
        instances, lambda r: r["PhotometricInterpretation"] is None, "all"
    )
    assert missing


def test_collection_metadata(engine: BigQueryEngine, instances: dict[str, list[Row]]) -> None:
    def values(row: Row, column: str) -> list[str]:
        return (row[column] or "").split(", ")

    lung = _both(engine, {"collection_cancerType": {"ilike": "%lung%"}})
    assert set(lung) == _expected(
        instances, lambda r: any("lung" in v.lower() for v in values(r, "collection_cancerType"))
    )
    assert lung
    breast = _both(engine, {"collection_tumorLocation": {"contains": "Breast"}})
    assert set(breast) == _expected(
        instances, lambda r: "Breast" in values(r, "collection_tumorLocation")
    )
    only_human = _both(engine, {"collection_species": "Human"}, "all")
    assert set(only_human) == _expected(instances, lambda r: r["collection_species"] == "Human")
    named = _both(engine, {"collection_name": {"in": ["NLST", "CPTAC-SAR", "CATCH"]}})
    assert set(named) == _expected(
        instances, lambda r: r["collection_name"] in ("NLST", "CPTAC-SAR", "CATCH")
    )
