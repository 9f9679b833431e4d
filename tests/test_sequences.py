"""Conditions on DICOM sequences (``has``) and per-instance columns (``.min``...), checked
and compiled without a connection.

The emulator tests (tests/bigquery/test_sequences.py, test_instance_columns.py) compare results
with the fixture's rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

import idc_sql
from idc_sql.catalog import FIELDS, Field
from idc_sql.errors import SpecError, UnknownFieldError
from idc_sql.plan import plan
from idc_sql.release import Release
from idc_sql.schema import Column, LiveSchema
from idc_sql.targets import target

RELEASE = Release(number=25, dataset="idc_v25", how="pinned by the test", requested=25)


def _reference(repo_root: Path) -> list[dict[str, Any]]:
    path = repo_root.parent / "shared" / "reference" / "dicom_all_schema.json"
    fields: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["schema"]["fields"]
    return fields


def _shape_of_field(f: Field) -> tuple[Any, ...]:
    return (f.name, f.bq_type, f.bq_mode, tuple(_shape_of_field(m) for m in f.members))


def _shape_of_json(c: dict[str, Any]) -> tuple[Any, ...]:
    subs = tuple(_shape_of_json(s) for s in c.get("fields", ()))
    return (c["name"], c["type"], c["mode"], subs)


def test_catalogued_sequences_are_idcs(repo_root: Path) -> None:
    reference = {c["name"]: c for c in _reference(repo_root)}
    sequences = [f for f in FIELDS.values() if f.kind == "sequence"]
    assert {f.name for f in sequences} == {"StructureSetROISequence", "OtherElements"}
    for f in sequences:
        assert _shape_of_field(f) == _shape_of_json(reference[f.name])


def _schema(repo_root: Path) -> LiveSchema:
    columns = [Column.from_json(c) for c in _reference(repo_root)]
    return LiveSchema(columns, "the reference schema")


def _compiled(where: dict[str, Any], schema: LiveSchema | None) -> tuple[str, dict[str, Any]]:
    from idc_sql.compiler import compile_plan

    spec = idc_sql.parse_spec({"name": "t", "where": where})
    compiled = compile_plan(plan(spec, target("bigquery"), RELEASE, schema=schema))
    return compiled.sql, dict(compiled.params)


def _exists_levels(sql: str) -> list[str]:
    """The sequences unnested, outermost first."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    read = [u.expressions[0].sql("bigquery") for u in tree.find_all(exp.Unnest)]
    return [r for r in read if not r.startswith("@")]  # not a list parameter


def test_any_sequence_of_the_live_schema(repo_root: Path) -> None:
    where = {"ReferencedSeriesSequence": {"has": {"SeriesInstanceUID": "1.2.3"}}}
    sql, params = _compiled(where, _schema(repo_root))
    assert _exists_levels(sql) == ["dicom_all.ReferencedSeriesSequence"]
    assert "_e1.SeriesInstanceUID = @p0" in sql
    assert params["p0"] == "1.2.3"


def test_without_the_live_schema_only_catalogued_sequences() -> None:
    with pytest.raises(UnknownFieldError):
        _compiled({"ReferencedSeriesSequence": {"has": {"SeriesInstanceUID": "1"}}}, None)


def test_deeper_levels_nest(repo_root: Path) -> None:
    where = {
        "StructureSetROISequence": {
            "has": {"OtherElements": {"has": {"Tag": "(3006,0036)", "Data": ["MANUAL"]}}}
        }
    }
    sql, params = _compiled(where, _schema(repo_root))
    assert _exists_levels(sql) == [
        "dicom_all.StructureSetROISequence",
        "_e1.OtherElements",
        "_e2.Data",
    ]
    assert params == {"p0": "(3006,0036)", "p1": ["MANUAL"]}


def test_numbers_in_a_sequence_compare_as_numbers() -> None:
    sql, params = _compiled({"StructureSetROISequence": {"has": {"ROINumber": {"lte": 3}}}}, None)
    assert "SAFE_CAST(_e1.ROINumber AS FLOAT64) <= @p0" in sql
    assert params["p0"] == 3


def test_is_null_on_a_repeated_sub_field_reads_it_whole() -> None:
    sql, _ = _compiled({"OtherElements": {"has": {"Data": {"is_null": True}}}}, None)
    assert _exists_levels(sql) == ["dicom_all.OtherElements"]
    assert "ARRAY_LENGTH(_e1.Data) = 0" in sql


@pytest.mark.parametrize(
    ("where", "location", "message"),
    [
        (
            {"OtherElements": {"has": {"Tagg": "x"}}},
            "where.OtherElements.has.Tagg",
            "OtherElements has no sub-field 'Tagg'; did you mean Tag? (its sub-fields: Tag, Data)",
        ),
        (
            {"OtherElements": {"has": {"Tag": "x"}, "is_null": False}},
            "where.OtherElements.is_null",
            "OtherElements is a DICOM sequence (a list of items per instance); a condition "
            "names the items' sub-fields under has, e.g. OtherElements: {has: {Tag: ...}}",
        ),
        (
            {"OtherElements": {"has": {"Tag": {"has": {"x": 1}}}}},
            "where.OtherElements.has.Tag.has",
            "has is for DICOM sequences (REPEATED RECORD columns of dicom_all, e.g. "
            "StructureSetROISequence); OtherElements.Tag is not one",
        ),
    ],
)
def test_messages(where: dict[str, Any], location: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        _compiled(where, None)
    assert (caught.value.location, caught.value.message) == (location, message)


def test_has_must_not_be_empty() -> None:
    with pytest.raises(SpecError):
        idc_sql.parse_spec({"name": "t", "where": {"OtherElements": {"has": {}}}})


def test_the_cache_keeps_sub_fields(tmp_path: Path) -> None:
    leaf = SimpleNamespace(name="A", field_type="STRING", mode="NULLABLE", fields=())
    seq = SimpleNamespace(name="Seq", field_type="RECORD", mode="REPEATED", fields=[leaf])
    table = SimpleNamespace(schema=[seq])
    LiveSchema.from_table(table, tmp_path, "p", "idc_v25")
    cached = LiveSchema.cached(tmp_path, "p", "idc_v25")
    assert cached is not None
    assert cached.columns["seq"] == Column(
        "Seq", "RECORD", "REPEATED", (Column("A", "STRING", "NULLABLE"),)
    )
    # a cache written before sub-fields were kept is read again from BigQuery
    path = LiveSchema.path(tmp_path, "p", "idc_v25")
    path.write_text(
        json.dumps({"columns": [{"name": "Seq", "type": "RECORD", "mode": "REPEATED"}]})
    )
    assert LiveSchema.cached(tmp_path, "p", "idc_v25") is None


def test_contains_on_a_repeated_sub_field_is_one_of_its_values() -> None:
    a = _compiled({"OtherElements": {"has": {"Data": {"contains": "y"}}}}, None)
    b = _compiled({"OtherElements": {"has": {"Data": "y"}}}, None)
    assert a == b
    assert "_e2 = @p0" in a[0]


def test_patterns_within_a_sequence_are_warned_of() -> None:
    from idc_sql.engines.hints import pattern_warnings

    where = {"StructureSetROISequence": {"has": {"ROIName": {"ilike": "*lung*"}}}}
    spec = idc_sql.parse_spec({"name": "t", "where": where})
    assert pattern_warnings(plan(spec, target("bigquery"), RELEASE)) == [
        "StructureSetROISequence.ROIName ilike '*lung*': * and ? match themselves in ilike, "
        "whose wildcards are % (any text) and _ (one character); did you mean '%lung%'?"
    ]


def test_an_instance_column_listed_twice() -> None:
    spec = idc_sql.parse_spec(
        {"name": "t", "columns": ["SliceThickness.min", "SliceThickness.min"]}
    )
    with pytest.raises(SpecError) as caught:
        plan(spec, target("bigquery"), RELEASE)
    assert (caught.value.location, caught.value.message) == (
        "columns",
        "SliceThickness_min is listed twice",
    )
