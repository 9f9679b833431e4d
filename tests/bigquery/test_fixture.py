"""The emulator's ``bigquery-public-data.idc_v25`` is right: IDC's own derivation of the series
index over it gives back the local index rows it was made from, and it holds the relations and
variations the toolkit's tests need."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import idc_index_data
import pyarrow.parquet as pq
import pytest
import sqlglot
from google.cloud import bigquery
from sqlglot import exp

from . import synthesis
from .emulator import run_query
from .fixture import (
    FIXTURE_DATASET,
    FIXTURE_PROJECT,
    dicom_all_schema,
    fixture_collections,
    fixture_series,
    fixture_tables,
    table_id,
)

pytestmark = pytest.mark.bigquery

Record = dict[str, Any]
DICOM_ALL = f"`{table_id('dicom_all')}`"
CURATED = f"`{table_id('dicom_metadata_curated')}`"
SEGMENTATIONS = f"`{table_id('segmentations')}`"
VERSIONS = f"`{table_id('version_metadata')}`"
LOCAL_COLUMNS = tuple(pq.read_schema(idc_index_data.IDC_INDEX_PARQUET_FILEPATH).names)
IMAGE = "('CT', 'MR', 'PT')"


def records(
    client: bigquery.Client,
    sql: str,
    parameters: Sequence[bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter] = (),
) -> list[Record]:
    return [dict(row.items()) for row in run_query(client, sql, parameters)]


def idc_index_sql() -> str:
    """IDC's ``idc_index.sql``, less ``ERROR()`` in the ``transfer_syntax_name`` aggregate.

    The emulator runs BigQuery SQL on DuckDB, which refuses a DISTINCT aggregate whose ORDER BY
    holds the (volatile) ``ERROR()`` call: "ORDER BY expressions must appear in the argument
    list". Without it an unmapped transfer syntax gets a NULL name, which the comparison with the
    local index would catch all the same.
    """
    sql = idc_index_data.INDEX_METADATA["idc_index"]["sql"]
    assert isinstance(sql, str)
    tree = sqlglot.parse_one(sql, read="bigquery")
    for alias in tree.find_all(exp.Alias):
        if alias.alias == "transfer_syntax_name":
            alias.set("this", alias.this.transform(_error_to_null))
    return tree.sql(dialect="bigquery")


def _error_to_null(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.upper() == "ERROR":
        return exp.null()
    return node


@pytest.fixture(scope="module")
def local_index() -> list[Record]:
    rows: list[Record] = fixture_series().to_pylist()
    return rows


@pytest.fixture(scope="module")
def derived_index(bq_client: bigquery.Client) -> list[Record]:
    """IDC's derivation run on the emulator, keyed by the local index's column names.

    The emulator returns every output name in lower case when a query over a table uses CONCAT
    (idc_index.sql does; real BigQuery keeps the aliases' case), so names are checked
    case-insensitively and the values taken by position.
    """
    rows = run_query(bq_client, idc_index_sql())
    names = tuple(rows[0].keys())  # a Row iterates over its values, not its names
    assert [name.lower() for name in names] == [name.lower() for name in LOCAL_COLUMNS]
    return [dict(zip(LOCAL_COLUMNS, row, strict=True)) for row in rows]


def _same(local: object, derived: object) -> bool:
    if isinstance(local, float) and isinstance(derived, float):
        return math.isclose(local, derived, rel_tol=1e-12)
    return type(local) is type(derived) and local == derived


# --- IDC's derivation gives the local index back ------------------------------------------------


def test_derivation_gives_the_local_series_in_the_same_order(
    derived_index: list[Record], local_index: list[Record]
) -> None:
    assert [row["SeriesInstanceUID"] for row in derived_index] == [
        row["SeriesInstanceUID"] for row in local_index
    ]


@pytest.mark.parametrize("column", LOCAL_COLUMNS)
def test_derived_column_equals_the_local_index(
    column: str, derived_index: list[Record], local_index: list[Record]
) -> None:
    derived = {row["SeriesInstanceUID"]: row for row in derived_index}
    differences = [
        (row["SeriesInstanceUID"], row[column], derived[row["SeriesInstanceUID"]][column])
        for row in local_index
        if not _same(row[column], derived[row["SeriesInstanceUID"]][column])
    ]
    assert not differences, f"{len(differences)} series differ, e.g. (uid, local, derived): " + (
        repr(differences[:3])
    )


def test_dicom_all_series_versions_match_the_local_index(
    bq_client: bigquery.Client, local_index: list[Record]
) -> None:
    """dicom_all holds the versions too (as STRING, like IDC), not only auxiliary_metadata."""
    rows = records(
        bq_client,
        f"""
        SELECT SeriesInstanceUID AS series_uid,
               ANY_VALUE(SAFE_CAST(series_init_idc_version AS INT64)) AS init_version,
               ANY_VALUE(SAFE_CAST(series_revised_idc_version AS INT64)) AS revised_version
        FROM {DICOM_ALL} GROUP BY SeriesInstanceUID""",
    )
    derived = {row["series_uid"]: (row["init_version"], row["revised_version"]) for row in rows}
    assert derived == {
        row["SeriesInstanceUID"]: (
            row["series_init_idc_version"],
            row["series_revised_idc_version"],
        )
        for row in local_index
    }


SERIES_CONSTANT = (
    "collection_id",
    "analysis_result_id",
    "PatientID",
    "StudyInstanceUID",
    "Source_DOI",
    "PatientSex",
    "StudyDate",
    "StudyDescription",
    "Modality",
    "SOPClassUID",
    "Manufacturer",
    "ManufacturerModelName",
    "SeriesDate",
    "SeriesNumber",
    "license_short_name",
    "aws_bucket",
    "crdc_series_uuid",
    "series_aws_url",
)


def test_series_constant_columns_are_constant_within_each_series(
    bq_client: bigquery.Client,
) -> None:
    distinct = ", ".join(f"COUNT(DISTINCT {name}) AS {name}" for name in SERIES_CONSTANT)
    most = ", ".join(f"MAX({name}) AS {name}" for name in SERIES_CONSTANT)
    [row] = records(
        bq_client,
        f"""
        SELECT {most} FROM (SELECT {distinct} FROM {DICOM_ALL} GROUP BY SeriesInstanceUID)""",
    )
    assert {name: count for name, count in row.items() if count > 1} == {}


# --- shape of the fixture -----------------------------------------------------------------------


def test_fixture_is_large_and_spread_enough(
    bq_client: bigquery.Client, local_index: list[Record]
) -> None:
    [row] = records(
        bq_client,
        f"""
        SELECT COUNT(DISTINCT SeriesInstanceUID) AS series,
               COUNT(DISTINCT collection_id) AS collections,
               COUNT(DISTINCT Modality) AS modalities,
               COUNT(*) AS instances,
               COUNT(DISTINCT SOPInstanceUID) AS sop_instance_uids
        FROM {DICOM_ALL}""",
    )
    assert row["series"] == len(local_index) >= 2000
    assert row["collections"] >= 20
    assert row["modalities"] >= 8
    assert (
        row["instances"]
        == row["sop_instance_uids"]
        == sum(series["instanceCount"] for series in local_index)
    )


def test_dicom_all_has_idc_names_types_and_modes(bq_client: bigquery.Client) -> None:
    table = bq_client.get_table(table_id("dicom_all"))
    assert (table.project, table.dataset_id) == (FIXTURE_PROJECT, FIXTURE_DATASET)
    assert [(f.name, f.field_type, f.mode) for f in table.schema] == [
        (f.name, f.field_type, f.mode) for f in dicom_all_schema()
    ]
    types = {f.name: (f.field_type, f.mode) for f in table.schema}
    assert types["StudyDate"] == ("DATE", "NULLABLE")
    assert types["PixelRepresentation"] == ("INTEGER", "NULLABLE")
    assert types["PixelSpacing"] == ("STRING", "REPEATED")


@pytest.mark.parametrize(
    ("derived_modality", "source_modalities"),
    [("SEG", "('CT')"), ("RTSTRUCT", IMAGE), ("SR", IMAGE)],
)
def test_studies_hold_derived_series_beside_image_series(
    bq_client: bigquery.Client, derived_modality: str, source_modalities: str
) -> None:
    rows = records(
        bq_client,
        f"""
        SELECT StudyInstanceUID AS study_uid FROM {DICOM_ALL}
        GROUP BY StudyInstanceUID
        HAVING COUNTIF(Modality = @derived) > 0 AND COUNTIF(Modality IN {source_modalities}) > 0
        """,
        [bigquery.ScalarQueryParameter("derived", "STRING", derived_modality)],
    )
    assert len(rows) >= 3


def test_fixture_has_multi_study_patients_and_analysis_results(
    bq_client: bigquery.Client,
) -> None:
    [row] = records(
        bq_client,
        f"""
        SELECT COUNTIF(studies > 1) AS multi_study_patients,
               SUM(analysis_series) AS analysis_result_series
        FROM (SELECT COUNT(DISTINCT StudyInstanceUID) AS studies,
                     COUNT(DISTINCT IF(analysis_result_id IS NULL, NULL, SeriesInstanceUID))
                       AS analysis_series
              FROM {DICOM_ALL} GROUP BY collection_id, PatientID)""",
    )
    assert row["multi_study_patients"] >= 20
    assert row["analysis_result_series"] >= 10


def test_missing_values_are_null_or_empty_as_in_idc(bq_client: bigquery.Client) -> None:
    [row] = records(
        bq_client,
        f"""
        SELECT COUNTIF(PatientAge IS NULL) AS null_ages,
               COUNTIF(PatientAge = '') AS empty_ages,
               COUNTIF(SeriesDescription IS NULL) AS null_descriptions,
               COUNTIF(SeriesDescription = '') AS empty_descriptions,
               COUNTIF(StudyDate IS NULL) AS null_study_dates
        FROM {DICOM_ALL}""",
    )
    assert all(count > 0 for count in row.values()), row


def test_curated_body_part_differs_from_the_raw_one(bq_client: bigquery.Client) -> None:
    """Only the curated table gives the local BodyPartExamined: reading dicom_all's is wrong."""
    [row] = records(
        bq_client,
        f"""
        SELECT COUNTIF(curated.SOPInstanceUID IS NULL) AS uncurated_instances,
               COUNT(DISTINCT IF(raw.BodyPartExamined IS NULL
                                 AND curated.BodyPartExamined IS NOT NULL,
                                 raw.SeriesInstanceUID, NULL)) AS series_missing_raw,
               COUNT(DISTINCT IF(raw.BodyPartExamined != curated.BodyPartExamined,
                                 raw.SeriesInstanceUID, NULL)) AS series_differing_raw
        FROM {DICOM_ALL} AS raw
        LEFT JOIN {CURATED} AS curated ON raw.SOPInstanceUID = curated.SOPInstanceUID""",
    )
    assert row["uncurated_instances"] == 0
    assert row["series_missing_raw"] > 0
    assert row["series_differing_raw"] > 0


# --- instance-level attributes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("modality", "predicate"),
    [
        ("CT", "SAFE_CAST(SliceThickness AS FLOAT64) <= 1.25"),
        ("CT", "'LUNG' IN UNNEST(ConvolutionKernel)"),
        ("MR", "SAFE_CAST(EchoTime AS FLOAT64) < 10"),
        ("SM", "'VOLUME' IN UNNEST(ImageType)"),
    ],
)
def test_any_instance_and_every_instance_select_different_series(
    bq_client: bigquery.Client, modality: str, predicate: str
) -> None:
    [row] = records(
        bq_client,
        f"""
        SELECT COUNTIF(any_instance) AS any_series, COUNTIF(every_instance) AS every_series
        FROM (SELECT LOGICAL_OR(COALESCE({predicate}, FALSE)) AS any_instance,
                     LOGICAL_AND(COALESCE({predicate}, FALSE)) AS every_instance
              FROM {DICOM_ALL} WHERE Modality = @modality GROUP BY SeriesInstanceUID)""",
        [bigquery.ScalarQueryParameter("modality", "STRING", modality)],
    )
    assert row["any_series"] > row["every_series"] > 0


def test_acquisition_attributes_follow_the_modality(bq_client: bigquery.Client) -> None:
    rows = records(
        bq_client,
        f"""
        SELECT Modality AS modality,
               COUNTIF(SliceThickness IS NOT NULL) AS slice_thickness,
               COUNTIF(KVP IS NOT NULL) AS kvp,
               COUNTIF(MagneticFieldStrength IS NOT NULL) AS field_strength,
               COUNTIF(ARRAY_LENGTH(ImageType) > 0) AS image_type,
               COUNT(*) AS instances
        FROM {DICOM_ALL} WHERE Modality IN ('CT', 'MR', 'SR') GROUP BY Modality""",
    )
    by_modality = {row.pop("modality"): row for row in rows}
    ct, mr, sr = by_modality["CT"], by_modality["MR"], by_modality["SR"]
    assert ct["slice_thickness"] == ct["kvp"] == ct["image_type"] == ct["instances"]
    assert ct["field_strength"] == 0
    assert mr["field_strength"] == mr["instances"]
    assert mr["kvp"] == 0
    assert sr["slice_thickness"] == sr["kvp"] == sr["image_type"] == 0


# --- related tables -----------------------------------------------------------------------------


def test_segments_point_at_image_instances_of_the_same_study(bq_client: bigquery.Client) -> None:
    rows = records(
        bq_client,
        f"""
        SELECT seg.Modality AS seg_modality,
               seg.StudyInstanceUID = source.StudyInstanceUID AS same_study,
               source.Modality AS source_modality,
               segment.segmented_SOPInstanceUID IS NOT NULL AS has_source,
               segment.SegmentedPropertyType.CodeMeaning AS type_meaning,
               segment.AnatomicRegion.CodeMeaning AS region_meaning
        FROM {SEGMENTATIONS} AS segment
        JOIN {DICOM_ALL} AS seg ON seg.SOPInstanceUID = segment.SOPInstanceUID
        LEFT JOIN {DICOM_ALL} AS source
          ON source.SOPInstanceUID = segment.segmented_SOPInstanceUID""",
    )
    assert rows
    assert {row["seg_modality"] for row in rows} == {"SEG"}
    with_source = [row for row in rows if row["has_source"]]
    assert with_source
    assert all(row["same_study"] for row in with_source)
    assert {row["source_modality"] for row in with_source} <= {"CT", "MR", "PT"}
    assert "Neoplasm" in {row["type_meaning"] for row in rows}
    assert None in {row["region_meaning"] for row in rows}


def test_every_seg_series_has_segments(bq_client: bigquery.Client) -> None:
    rows = records(
        bq_client,
        f"""
        SELECT series.SeriesInstanceUID AS series_uid
        FROM (SELECT DISTINCT SeriesInstanceUID FROM {DICOM_ALL} WHERE Modality = 'SEG') AS series
        LEFT JOIN {SEGMENTATIONS} AS segment USING (SeriesInstanceUID)
        WHERE segment.SeriesInstanceUID IS NULL""",
    )
    assert rows == []


def test_version_metadata_lists_the_releases(bq_client: bigquery.Client) -> None:
    rows = records(
        bq_client,
        f"""
        SELECT idc_version AS idc_version, CAST(DATE(version_timestamp) AS STRING) AS released
        FROM {VERSIONS} ORDER BY idc_version""",
    )
    assert [row["idc_version"] for row in rows] == list(range(1, 26))
    assert rows[0]["released"] == "2020-06-01"


# --- query parameters and determinism -----------------------------------------------------------


def test_named_array_parameter_selects_the_listed_series(
    bq_client: bigquery.Client, local_index: list[Record]
) -> None:
    chosen = local_index[::500]
    uids = [series["SeriesInstanceUID"] for series in chosen] + ["1.2.3.not.in.idc"]
    rows = records(
        bq_client,
        f"""
        SELECT SeriesInstanceUID AS series_uid, COUNT(*) AS instances
        FROM {DICOM_ALL} WHERE SeriesInstanceUID IN UNNEST(@series_uids)
        GROUP BY SeriesInstanceUID""",
        [bigquery.ArrayQueryParameter("series_uids", "STRING", uids)],
    )
    assert {row["series_uid"]: row["instances"] for row in rows} == {
        series["SeriesInstanceUID"]: series["instanceCount"] for series in chosen
    }


def test_rows_are_built_deterministically() -> None:
    series = fixture_series().to_pylist()
    dicom_all, *_ = fixture_tables()
    assert synthesis.dicom_all_rows(series, fixture_collections()) == list(dicom_all.rows)


def test_instances_carry_their_collections_metadata() -> None:
    """As dicom_all does: collections_index's values, joined by ", " as IDC joins them."""
    dicom_all, *_ = fixture_tables()
    collections = fixture_collections()
    for row in dicom_all.rows:
        about = collections[row["collection_id"]]
        assert row["collection_cancerType"] == about["cancer_types"]
        assert row["collection_tumorLocation"] == about["tumor_locations"]
        assert row["collection_species"] == about["species"]
        assert row["collection_name"] == about["collection_name"]
