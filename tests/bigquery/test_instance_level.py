"""Per-instance attributes on BigQuery, checked against a plain-Python reading of the fixture.

The fixture's ``dicom_all`` rows are known here row by row, so what "any instance" and "every
instance" select can be computed without SQL and compared with what the engine returns.
Fields outside the catalog come from the live schema (``get_table``), cached on disk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings
from idc_sql.errors import SpecError, UnsupportedError

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


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


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


def _expected(
    by_series: dict[str, list[Row]], test: Callable[[Row], bool | None], instances: str = "any"
) -> set[str]:
    pick = any if instances == "any" else all
    return {uid for uid, rows in by_series.items() if pick(bool(test(r)) for r in rows)}


CASES: list[tuple[str, dict[str, Any], Callable[[Row], bool | None]]] = [
    (
        "thin slices",
        {"SliceThickness": {"lte": 1.25}},
        lambda r: (n := _number(r.get("SliceThickness"))) is not None and n <= 1.25,
    ),
    (
        "kernel",
        {"ConvolutionKernel": {"contains": "B30f"}},
        lambda r: "B30f" in (r.get("ConvolutionKernel") or []),
    ),
    (
        "axial",
        {"ImageType": {"contains": "AXIAL"}},
        lambda r: "AXIAL" in (r.get("ImageType") or []),
    ),
    (
        "pixel spacing element",
        {"PixelSpacing[0]": {"lt": 0.8}},
        lambda r: bool(r.get("PixelSpacing")) and float(r["PixelSpacing"][0]) < 0.8,
    ),
    ("3T", {"MagneticFieldStrength": 3}, lambda r: _number(r.get("MagneticFieldStrength")) == 3),
    (
        "no kernel",
        {"ConvolutionKernel": {"is_null": True}},
        lambda r: not r.get("ConvolutionKernel"),
    ),
]


@pytest.mark.parametrize(("label", "where", "test"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", ["any", "all"])
def test_any_and_all_instances(
    engine: BigQueryEngine,
    instances: dict[str, list[Row]],
    label: str,
    where: dict[str, Any],
    test: Callable[[Row], bool | None],
    mode: str,
) -> None:
    expected = _expected(instances, test, mode)
    assert expected, f"{label}: the fixture holds no such series"
    assert _selected(engine, where, mode) == expected


def test_any_and_all_differ_somewhere(engine: BigQueryEngine) -> None:
    where = {"SliceThickness": {"lte": 1.25}}
    assert _selected(engine, where, "all") < _selected(engine, where, "any")


def test_not_is_the_complement_of_an_instance_condition(
    engine: BigQueryEngine, instances: dict[str, list[Row]]
) -> None:
    thin = _selected(engine, {"SliceThickness": {"lte": 1.25}})
    assert _selected(engine, {"not": {"SliceThickness": {"lte": 1.25}}}) == set(instances) - thin


def test_study_has_an_instance_condition(
    engine: BigQueryEngine, instances: dict[str, list[Row]]
) -> None:
    study_of = {uid: rows[0]["StudyInstanceUID"] for uid, rows in instances.items()}
    axial_studies = {
        study_of[u] for u in _expected(instances, lambda r: "AXIAL" in (r.get("ImageType") or []))
    }
    expected = {u for u, s in study_of.items() if s in axial_studies}
    assert _selected(engine, {"study_has": {"ImageType": {"contains": "AXIAL"}}}) == expected


def test_a_column_outside_the_catalog_comes_from_the_live_schema(
    engine: BigQueryEngine, instances: dict[str, list[Row]], tmp_path: Path
) -> None:
    where = {"gcs_url": {"like": "gs://%"}}
    expected = _expected(instances, lambda r: str(r.get("gcs_url") or "").startswith("gs://"))
    assert expected
    assert _selected(engine, where) == expected
    cached = tmp_path / "cache" / "schema" / "bigquery-public-data.idc_v25.dicom_all.json"
    assert cached.is_file()
    # now the schema is known without BigQuery: compile (no connection) accepts the field
    spec = {"name": "t", "idc_version": 25, "where": where}
    assert "gcs_url" in idc_sql.compile(spec, "bigquery").sql


def test_unknown_columns_get_suggestions_from_the_live_schema(engine: BigQueryEngine) -> None:
    spec = idc_sql.parse_spec({"name": "t", "idc_version": 25, "where": {"gcs_ur": "x"}})
    with pytest.raises(SpecError) as caught:
        idc_sql.run(spec, engine)
    assert caught.value.location == "where.gcs_ur"
    assert caught.value.message.startswith("unknown field 'gcs_ur'; did you mean gcs_url")
    assert "bigquery-public-data.idc_v25.dicom_all" in caught.value.message


def test_the_local_engine_names_bigquery() -> None:
    with pytest.raises(UnsupportedError, match="run this cohort with engine='bigquery'"):
        idc_sql.compile({"name": "t", "where": {"SliceThickness": {"lte": 1}}}, "local")


# ----------------------------------------------------------------------------- segmentations


@pytest.fixture(scope="module")
def segments() -> list[Row]:
    return [dict(r) for r in next(t for t in fixture_tables() if t.name == "segmentations").rows]


def _meaning(code: Any) -> str | None:
    return code["CodeMeaning"] if code else None


def test_segmentations_of_a_segmented_property(engine: BigQueryEngine, segments: list[Row]) -> None:
    kinds = sorted({_meaning(s["SegmentedPropertyType"]) for s in segments} - {None})
    assert len(kinds) > 2
    for kind in kinds[:3]:
        expected = {
            s["SeriesInstanceUID"] for s in segments if _meaning(s["SegmentedPropertyType"]) == kind
        }
        assert _selected(engine, {"SegmentedPropertyType": kind}) == expected, kind


def test_segmentations_of_an_anatomic_region(engine: BigQueryEngine, segments: list[Row]) -> None:
    region = next(_meaning(s["AnatomicRegion"]) for s in segments if s["AnatomicRegion"])
    expected = {s["SeriesInstanceUID"] for s in segments if _meaning(s["AnatomicRegion"]) == region}
    assert _selected(engine, {"AnatomicRegion": {"ilike": region.upper()}}) == expected


def test_study_has_a_segmentation_of(
    engine: BigQueryEngine, segments: list[Row], instances: dict[str, list[Row]]
) -> None:
    kind = _meaning(segments[-1]["SegmentedPropertyType"])
    studies = {
        s["StudyInstanceUID"] for s in segments if _meaning(s["SegmentedPropertyType"]) == kind
    }
    expected = {uid for uid, rows in instances.items() if rows[0]["StudyInstanceUID"] in studies}
    where = {"all": [{"Modality": {"ne": "SEG"}}, {"study_has": {"SegmentedPropertyType": kind}}]}
    expected = {u for u in expected if instances[u][0]["Modality"] != "SEG"}
    assert _selected(engine, where) == expected


@pytest.mark.parametrize(
    ("where", "place"),
    [
        ({"SegmentedPropertyType": "Liver"}, "where.SegmentedPropertyType"),
        ({"segmented_by": {"Modality": "SEG"}}, "where.segmented_by"),
        ({"segments": {"Modality": "CT"}}, "where.segments"),
    ],
)
def test_the_local_engine_refuses_segmentation_predicates(
    where: dict[str, Any], place: str
) -> None:
    with pytest.raises(UnsupportedError) as caught:
        idc_sql.compile({"name": "t", "where": where}, "local")
    assert caught.value.location == place
    assert caught.value.message.endswith("run this cohort with engine='bigquery'")
