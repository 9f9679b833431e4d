"""When a BigQuery cohort filters dicom_all by collection before grouping (see
``compiler._narrowing``), and when it must not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlglot import exp

import idc_sql


def _narrowed(where: dict[str, Any]) -> list[str]:
    """The conditions the series CTE applies to dicom_all's rows, as SQL."""
    compiled = idc_sql.compile(idc_sql.parse_spec({"name": "c", "where": where}), "bigquery")
    cte = next(c for c in compiled.tree.find_all(exp.CTE) if c.alias == "series")
    found = cte.this.args.get("where")
    return [] if found is None else [found.this.sql(dialect="bigquery")]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"collection_id": "nlst"}, ["dicom_all.collection_id = @p0"]),
        ({"collection_id": ["a", "b"]}, ["dicom_all.collection_id IN UNNEST(@p0)"]),
        (
            {"all": [{"Modality": "CT"}, {"all": [{"collection_id": {"in": ["a"]}}]}]},
            ["dicom_all.collection_id IN UNNEST(@p0)"],
        ),
        (
            {"all": [{"collection_id": "a"}, {"patient_has": {"Modality": "SEG"}}]},
            ["dicom_all.collection_id = @p0"],
        ),
    ],
)
def test_a_cohort_of_named_collections_reads_only_their_rows(
    where: dict[str, Any], expected: list[str]
) -> None:
    assert _narrowed(where) == expected


@pytest.mark.parametrize(
    "where",
    [
        {"Modality": "CT"},
        {"collection_id": {"ne": "nlst"}},
        {"collection_id": {"like": "tcga%"}},
        {"any": [{"collection_id": "a"}, {"Modality": "CT"}]},
        {"not": {"collection_id": "a"}},
        {"all": [{"collection_id": "a"}, {"study_has": {"Modality": "SEG"}}]},
        {"all": [{"collection_id": "a"}, {"segmented_by": {"SegmentedPropertyType": "Lung"}}]},
        {"all": [{"collection_id": "a"}, {"patient_has": {"study_has": {"Modality": "SR"}}}]},
    ],
)
def test_other_cohorts_read_every_row(where: dict[str, Any]) -> None:
    assert _narrowed(where) == []


def test_the_local_engine_is_not_narrowed() -> None:
    compiled = idc_sql.compile(idc_sql.parse_spec({"name": "c", "where": {"collection_id": "a"}}))
    cte = next(c for c in compiled.tree.find_all(exp.CTE) if c.alias == "series")
    assert cte.this.args.get("where") is None
