"""``segmented_by`` and ``segments`` on BigQuery, checked against a plain-Python reading of
the fixture's references.

A segmentation (SEG or RTSTRUCT) names the series it segments in one of several ways; the
fixture uses each of them. The references are read here from the fixture's rows, without SQL:
the series named in ``ReferencedSeriesSequence`` or (RTSTRUCT) ``ReferencedFrameOfReference
Sequence > RTReferencedStudySequence > RTReferencedSeriesSequence``; when an instance names
none, the series holding the instances of its ``ReferencedImageSequence``, else of its
``SourceImageSequence``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import Emulator
from .fixture import fixture_tables
from .synthesis import SEGMENTATION_SOP_CLASSES

Row = dict[str, Any]


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return [dict(r) for r in next(t for t in fixture_tables() if t.name == "dicom_all").rows]


def named_series(row: Row) -> list[str]:
    """The series an instance names: a SEG's, then an RTSTRUCT's."""
    return [ref["SeriesInstanceUID"] for ref in row["ReferencedSeriesSequence"]] + [
        series["SeriesInstanceUID"]
        for frame in row["ReferencedFrameOfReferenceSequence"]
        for study in frame["RTReferencedStudySequence"]
        for series in study["RTReferencedSeriesSequence"]
    ]


def referenced_instances(row: Row) -> list[str]:
    """The instances an instance references: its referenced images, else its source images."""
    images = row["ReferencedImageSequence"] or row["SourceImageSequence"]
    return [image["ReferencedSOPInstanceUID"] for image in images]


@pytest.fixture(scope="module")
def references(rows: list[Row]) -> set[tuple[str, str]]:
    """(segmentation series, series it segments) pairs of the fixture."""
    series_of = {row["SOPInstanceUID"]: row["SeriesInstanceUID"] for row in rows}
    pairs = set()
    for row in rows:
        if row["SOPClassUID"] not in SEGMENTATION_SOP_CLASSES:
            continue
        named = named_series(row)
        if not named:
            named = [series_of[uid] for uid in referenced_instances(row) if uid in series_of]
        pairs.update((row["SeriesInstanceUID"], uid) for uid in named)
    return pairs


@pytest.fixture(scope="module")
def modality(rows: list[Row]) -> dict[str, str]:
    return {row["SeriesInstanceUID"]: row["Modality"] for row in rows}


@pytest.fixture
def engine(
    bq_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> BigQueryEngine:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path / "cache"))
    return BigQueryEngine(
        Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    )


def _selected(engine: BigQueryEngine, where: dict[str, Any]) -> set[str]:
    spec = {"name": "t", "idc_version": 25, "where": where, "columns": ["SeriesInstanceUID"]}
    table = idc_sql.run(idc_sql.parse_spec(spec), engine).to_arrow()
    return set(table.column("SeriesInstanceUID").to_pylist())


def test_the_fixture_references_every_way(
    rows: list[Row], references: set[tuple[str, str]]
) -> None:
    by_way: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for way in (
            "ReferencedSeriesSequence",
            "ReferencedImageSequence",
            "SourceImageSequence",
            "ReferencedFrameOfReferenceSequence",
        ):
            if row[way]:
                by_way[way].add(row["SeriesInstanceUID"])
    assert len(by_way) == 4
    assert all(len(by_way[way]) >= 2 for way in by_way)
    # SEGs that reference only images still segment a series
    only_images = by_way["ReferencedImageSequence"] | by_way["SourceImageSequence"]
    assert only_images.isdisjoint(by_way["ReferencedSeriesSequence"])
    assert only_images <= {seg for seg, _ in references}


@pytest.mark.parametrize("kind", ["SEG", "RTSTRUCT"])
def test_segmented_by(
    engine: BigQueryEngine,
    references: set[tuple[str, str]],
    modality: dict[str, str],
    kind: str,
) -> None:
    expected = {source for seg, source in references if modality[seg] == kind}
    assert expected
    assert _selected(engine, {"segmented_by": {"Modality": kind}}) == expected


@pytest.mark.parametrize("kind", ["CT", "MR", "PT"])
def test_segments(
    engine: BigQueryEngine,
    references: set[tuple[str, str]],
    modality: dict[str, str],
    kind: str,
) -> None:
    expected = {seg for seg, source in references if modality[source] == kind}
    assert _selected(engine, {"segments": {"Modality": kind}}) == expected


def test_segments_and_segmented_by_compose(
    engine: BigQueryEngine, references: set[tuple[str, str]], modality: dict[str, str]
) -> None:
    # the RTSTRUCTs of series that a SEG segments too
    segmented = {source for seg, source in references if modality[seg] == "SEG"}
    expected = {
        seg for seg, source in references if modality[seg] == "RTSTRUCT" and source in segmented
    }
    where = {
        "all": [
            {"Modality": "RTSTRUCT"},
            {"segments": {"segmented_by": {"Modality": "SEG"}}},
        ]
    }
    assert _selected(engine, where) == expected
    # a series is never among the segmentations of what it does not segment
    unreferenced = {"not": {"segments": {"Modality": {"in": ["CT", "MR", "PT"]}}}}
    assert _selected(engine, {"all": [{"Modality": "SEG"}, unreferenced]}) == {
        uid for uid, m in modality.items() if m == "SEG"
    } - {seg for seg, source in references if modality[seg] == "SEG"}


def test_reference_fields_as_conditions(engine: BigQueryEngine, rows: list[Row]) -> None:
    """referenced_series and referenced_instances are conditions of their own."""
    cases: list[tuple[str, Callable[[Row], list[str]], str]] = [
        ("referenced_series", named_series, "ReferencedSeriesSequence"),
        ("referenced_series", named_series, "ReferencedFrameOfReferenceSequence"),
        ("referenced_instances", referenced_instances, "ReferencedImageSequence"),
        ("referenced_instances", referenced_instances, "SourceImageSequence"),
    ]
    for field, values, style in cases:
        uid = values(next(r for r in rows if r[style]))[0]
        expected = {r["SeriesInstanceUID"] for r in rows if uid in values(r)}
        assert expected
        assert _selected(engine, {field: {"contains": uid}}) == expected, (field, style)
