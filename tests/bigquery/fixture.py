"""A slice of IDC v25 in the BigQuery emulator, as ``bigquery-public-data.idc_v25``.

The slice is made of whole patients of the local index shipped by idc-index-data (see
``selection.sql``), turned into one ``dicom_all`` row per instance (see ``synthesis.py``), with
the related tables ``dicom_metadata_curated``, ``auxiliary_metadata``, ``segmentations`` and
``version_metadata``. IDC's own ``idc_index.sql`` run over it gives back ``fixture_series()``, so
the local engine and BigQuery can be compared on the same series.

``dicom_all`` columns carry the real names, types and modes of IDC's schema, read at run time
from ``shared/reference/dicom_all_schema.json`` beside the repository.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import idc_index_data
import pyarrow as pa
import pyarrow.parquet as pq
from google.cloud import bigquery

from . import synthesis
from .emulator import FAST_RETRY, REPO_ROOT
from .synthesis import Row

FIXTURE_PROJECT = "bigquery-public-data"
FIXTURE_DATASET = "idc_v25"

INSTANCE_CAP = 40  # every series of a chosen patient has at most this many instances
MAX_SERIES_PER_PATIENT = 60
SERIES_PER_COLLECTION = 25  # patients are added to a collection until it has this many series
INSERT_BATCH_ROWS = 2000

SELECTION_SQL = Path(__file__).with_name("selection.sql")
DICOM_ALL_SCHEMA_JSON = REPO_ROOT.parent / "shared" / "reference" / "dicom_all_schema.json"

DICOM_ALL_COLUMNS = frozenset(
    {
        # identity, provenance and download
        "collection_id",
        *synthesis.COLLECTION_COLUMNS,
        "analysis_result_id",
        "PatientID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "Source_DOI",
        "license_short_name",
        "series_init_idc_version",
        "series_revised_idc_version",
        "aws_bucket",
        "gcs_bucket",
        "crdc_study_uuid",
        "crdc_series_uuid",
        "crdc_instance_uuid",
        "series_aws_url",
        "series_gcs_url",
        "aws_url",
        "gcs_url",
        "instance_size",
        # patient, study and series attributes
        "PatientAge",
        "PatientSex",
        "PatientWeight",
        "PatientSize",
        # segmentations name the series they segment (REPEATED RECORDs, as in IDC)
        "ReferencedSeriesSequence",
        "ReferencedImageSequence",
        "SourceImageSequence",
        "ReferencedFrameOfReferenceSequence",
        # an RTSTRUCT's regions of interest, and private elements (REPEATED RECORD, nested)
        "StructureSetROISequence",
        "OtherElements",
        "StudyDate",
        "StudyDescription",
        "BodyPartExamined",
        "Modality",
        "SOPClassUID",
        "Manufacturer",
        "ManufacturerModelName",
        "SeriesDate",
        "SeriesDescription",
        "SeriesNumber",
        # instance attributes
        "TransferSyntaxUID",
        "PhotometricInterpretation",
        "PixelRepresentation",
        "InstanceNumber",
        *synthesis.ACQUISITION_ATTRIBUTES,
    }
)

_CODE = (
    bigquery.SchemaField("CodeValue", "STRING"),
    bigquery.SchemaField("CodingSchemeDesignator", "STRING"),
    bigquery.SchemaField("CodeMeaning", "STRING"),
)
_INSTANCE_KEYS = (
    bigquery.SchemaField("SOPInstanceUID", "STRING"),
    bigquery.SchemaField("SeriesInstanceUID", "STRING"),
)
CURATED_SCHEMA = (*_INSTANCE_KEYS, bigquery.SchemaField("BodyPartExamined", "STRING"))
AUXILIARY_SCHEMA = (
    *_INSTANCE_KEYS,
    bigquery.SchemaField("series_init_idc_version", "INTEGER"),
    bigquery.SchemaField("series_revised_idc_version", "INTEGER"),
)
SEGMENTATIONS_SCHEMA = (
    bigquery.SchemaField("PatientID", "STRING"),
    bigquery.SchemaField("StudyInstanceUID", "STRING"),
    *_INSTANCE_KEYS,
    bigquery.SchemaField("SegmentNumber", "INTEGER"),
    bigquery.SchemaField("SegmentedPropertyCategory", "RECORD", fields=_CODE),
    bigquery.SchemaField("SegmentedPropertyType", "RECORD", fields=_CODE),
    bigquery.SchemaField("AnatomicRegion", "RECORD", fields=_CODE),
    bigquery.SchemaField("SegmentAlgorithmType", "STRING"),
    bigquery.SchemaField("SegmentAlgorithmName", "STRING"),
    bigquery.SchemaField("segmented_SOPInstanceUID", "STRING"),
)
VERSION_SCHEMA = (
    bigquery.SchemaField("idc_version", "INTEGER"),
    bigquery.SchemaField("version_timestamp", "TIMESTAMP"),
    bigquery.SchemaField("version_hash", "STRING"),
)


class FixtureError(RuntimeError):
    """The fixture could not be built or loaded."""


@dataclass(frozen=True)
class FixtureTable:
    name: str
    schema: Sequence[bigquery.SchemaField]
    rows: Sequence[Row]

    @property
    def table_id(self) -> str:
        return table_id(self.name)


def table_id(name: str) -> str:
    """``bigquery-public-data.idc_v25.<name>``."""
    return f"{FIXTURE_PROJECT}.{FIXTURE_DATASET}.{name}"


@functools.cache
def fixture_series() -> pa.Table:
    """The chosen rows of the local index (all its columns), ordered like idc_index.sql."""
    params = {
        "index_path": str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH),
        "instance_cap": INSTANCE_CAP,
        "max_series_per_patient": MAX_SERIES_PER_PATIENT,
        "series_per_collection": SERIES_PER_COLLECTION,
    }
    with duckdb.connect() as connection:
        return connection.sql(SELECTION_SQL.read_text(), params=params).to_arrow_table()


def dicom_all_schema() -> list[bigquery.SchemaField]:
    """The filled columns of dicom_all, in IDC's order, with IDC's types and modes."""
    if not DICOM_ALL_SCHEMA_JSON.is_file():
        raise FixtureError(f"IDC's dicom_all schema is missing: {DICOM_ALL_SCHEMA_JSON}")
    fields = json.loads(DICOM_ALL_SCHEMA_JSON.read_text())["schema"]["fields"]
    missing = DICOM_ALL_COLUMNS - {field["name"] for field in fields}
    if missing:
        raise FixtureError(f"columns not in IDC's dicom_all schema: {sorted(missing)}")
    return [bigquery.SchemaField.from_api_repr(f) for f in fields if f["name"] in DICOM_ALL_COLUMNS]


def _version_metadata_index() -> list[Row]:
    path = idc_index_data.INDEX_METADATA["version_metadata_index"]["parquet_filepath"]
    if not isinstance(path, Path):
        raise FixtureError("idc-index-data ships no version_metadata_index.parquet")
    rows: list[Row] = pq.read_table(path).to_pylist()
    return rows


@functools.cache
def fixture_collections() -> dict[str, Row]:
    """idc-index-data's collections_index, by collection_id."""
    path = idc_index_data.INDEX_METADATA["collections_index"]["parquet_filepath"]
    if not isinstance(path, Path):
        raise FixtureError("idc-index-data ships no collections_index.parquet")
    rows = pq.read_table(path, columns=["collection_id", *synthesis.COLLECTION_COLUMNS.values()])
    return {row["collection_id"]: row for row in rows.to_pylist()}


@functools.cache
def fixture_tables() -> tuple[FixtureTable, ...]:
    """Every table of the fixture with its schema and rows (built once per process)."""
    series = fixture_series().to_pylist()
    return (
        FixtureTable(
            "dicom_all",
            dicom_all_schema(),
            synthesis.dicom_all_rows(series, fixture_collections()),
        ),
        FixtureTable("dicom_metadata_curated", CURATED_SCHEMA, synthesis.curated_rows(series)),
        FixtureTable("auxiliary_metadata", AUXILIARY_SCHEMA, synthesis.auxiliary_rows(series)),
        FixtureTable("segmentations", SEGMENTATIONS_SCHEMA, synthesis.segmentation_rows(series)),
        FixtureTable(
            "version_metadata", VERSION_SCHEMA, synthesis.version_rows(_version_metadata_index())
        ),
    )


def load_fixture(client: bigquery.Client) -> None:
    """(Re)create dataset ``bigquery-public-data.idc_v25`` and fill every fixture table."""
    dataset = bigquery.Dataset(f"{FIXTURE_PROJECT}.{FIXTURE_DATASET}")
    client.delete_dataset(dataset, delete_contents=True, not_found_ok=True, retry=FAST_RETRY)
    client.create_dataset(dataset, retry=FAST_RETRY)
    for table in fixture_tables():
        _check_columns(table)
        created = client.create_table(
            bigquery.Table(table.table_id, schema=list(table.schema)), retry=FAST_RETRY
        )
        _insert(client, created, table.rows)


def _check_columns(table: FixtureTable) -> None:
    """insert_rows_json does not validate rows on the emulator: check the names here."""
    known = {field.name for field in table.schema}
    unknown = {name for row in table.rows for name in row} - known
    if unknown:
        raise FixtureError(f"{table.name}: rows have columns not in its schema: {sorted(unknown)}")


def _insert(client: bigquery.Client, table: bigquery.Table, rows: Sequence[Row]) -> None:
    for start in range(0, len(rows), INSERT_BATCH_ROWS):
        batch = rows[start : start + INSERT_BATCH_ROWS]
        errors = client.insert_rows_json(table, batch, retry=FAST_RETRY)
        if errors:
            raise FixtureError(f"{table.table_id}: rejected rows, e.g. {errors[:3]}")
