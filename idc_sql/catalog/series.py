"""Fields of the local index: collection, patient, study and series level."""

from __future__ import annotations

from sqlglot import exp

from .fields import (
    Field,
    _age_years,
    _any_value,
    _as_int,
    _as_string,
    _case,
    _col,
    _collection_metadata,
    _instances_listed,
    _nullif_empty,
    _series,
)
from .uids import SOP_CLASS_NAMES, TRANSFER_SYNTAX_NAMES

#: IDC's viewers: OHIF v3 for radiology, Slim for slide microscopy (Modality SM)
VIEWER = "https://viewer.imaging.datacommons.cancer.gov"
OHIF_STUDY, OHIF_SERIES = "/v3/viewer/?StudyInstanceUIDs=", "&initialSeriesInstanceUID="
SLIM_STUDY, SLIM_SERIES = "/slim/studies/", "/series/"


def _viewer_url(study: exp.Expr, series: exp.Expr, modality: exp.Expr) -> exp.Expr:
    """The series' page in IDC's viewer (built from catalog constants and the series' UIDs)."""

    def url(*parts: exp.Expr | str) -> exp.Expr:
        pieces = [exp.Literal.string(p) if isinstance(p, str) else p for p in parts]
        out = pieces[0]
        for piece in pieces[1:]:
            out = exp.DPipe(this=out, expression=piece, safe=True)
        return out

    slim = url(VIEWER + SLIM_STUDY, study.copy(), SLIM_SERIES, series.copy())
    ohif = url(VIEWER + OHIF_STUDY, study, OHIF_SERIES, series)
    is_slide = exp.EQ(this=modality, expression=exp.Literal.string("SM"))
    return exp.Case().when(is_slide, slim).else_(ohif)


SERIES_FIELDS: tuple[Field, ...] = (
    # collection level
    _series("collection_id", "collection", "short identifier of the collection"),
    _collection_metadata("collection_name", "collection_name", "name of the collection", None),
    _collection_metadata(
        "collection_cancerType",
        "cancer_types",
        "cancer types of the collection (comma-joined; multi-valued)",
    ),
    _collection_metadata(
        "collection_tumorLocation",
        "tumor_locations",
        "tumor locations of the collection (comma-joined; multi-valued)",
    ),
    _collection_metadata(
        "collection_species",
        "species",
        "species of the collection's subjects (comma-joined; multi-valued)",
    ),
    _series(
        "analysis_result_id",
        "series",
        "analysis results collection of the series, NULL for original data",
    ),
    _series(
        "source_DOI",
        "series",
        "DOI of the dataset that contains the series",
        bigquery=lambda: _any_value(_col("Source_DOI")),
    ),
    _series("license_short_name", "series", "short name of the series' license"),
    # patient level
    _series("PatientID", "patient", "patient identifier within the collection"),
    _series(
        "PatientAge",
        "patient",
        "age at imaging as a DICOM Age String (e.g. 045Y)",
        bigquery=lambda: _any_value(_nullif_empty(_col("PatientAge"))),
    ),
    _series(
        "patient_age_years",
        "patient",
        "PatientAge converted to years (D/W/M/Y units); NULL when absent or malformed",
        kind="number",
        bq_type="FLOAT",
        local=lambda: _age_years(exp.column("PatientAge")),
        bigquery=lambda: _any_value(_age_years(_nullif_empty(_col("PatientAge")))),
    ),
    _series("PatientSex", "patient", "patient sex (M, F, O)"),
    # study level
    _series("StudyInstanceUID", "study", "unique identifier of the study"),
    _series(
        "StudyDate",
        "study",
        "date of the study (de-identified), compared as a date",
        kind="date",
        bq_type="DATE",
        bigquery=lambda: _any_value(_as_string(_col("StudyDate"))),
    ),
    _series("StudyDescription", "study", "description of the study"),
    # series level
    _series(
        "SeriesInstanceUID",
        "series",
        "unique identifier of the series",
        bigquery=lambda: _col("SeriesInstanceUID"),
    ),
    _series(
        "BodyPartExamined",
        "series",
        "body part imaged, as curated by IDC (dicom_metadata_curated)",
        bigquery=lambda: _any_value(_col("BodyPartExamined", table="curated")),
        curated=True,
    ),
    _series("Modality", "series", "acquisition modality (CT, MR, PT, SEG, SM, ...)"),
    _series("SOPClassUID", "series", "SOP Class UID of the series' objects"),
    _series(
        "sop_class_name",
        "series",
        "name of the SOP Class (e.g. CT Image Storage)",
        bigquery=lambda: _any_value(_case(_col("SOPClassUID"), SOP_CLASS_NAMES)),
    ),
    _instances_listed(
        "TransferSyntaxUID",
        "Transfer Syntax UIDs of the series' instances (distinct, comma-joined; multi-valued)",
        lambda: _col("TransferSyntaxUID"),
    ),
    _instances_listed(
        "transfer_syntax_name",
        "names of the series' Transfer Syntaxes (distinct, comma-joined; multi-valued)",
        lambda: _case(_col("TransferSyntaxUID"), TRANSFER_SYNTAX_NAMES),
    ),
    _instances_listed(
        "PhotometricInterpretation",
        "photometric interpretations of the series' instances (distinct, comma-joined; "
        "multi-valued)",
        lambda: _col("PhotometricInterpretation"),
    ),
    _instances_listed(
        "PixelRepresentation",
        "pixel representations (0 unsigned, 1 signed) of the series' instances (distinct, "
        "comma-joined; multi-valued)",
        lambda: _as_string(_col("PixelRepresentation")),
    ),
    _series("Manufacturer", "series", "manufacturer of the equipment"),
    _series("ManufacturerModelName", "series", "model of the equipment"),
    _series(
        "SeriesDate",
        "series",
        "date of the series (de-identified), compared as a date",
        kind="date",
        bq_type="DATE",
        bigquery=lambda: _any_value(_as_string(_col("SeriesDate"))),
    ),
    _series(
        "SeriesDescription",
        "series",
        "description of the series",
        bigquery=lambda: _any_value(_nullif_empty(_col("SeriesDescription"))),
    ),
    _series("SeriesNumber", "series", "series number, compared as a number", kind="number"),
    _series(
        "instanceCount",
        "series",
        "number of instances in the series",
        kind="number",
        bq_type="INTEGER",
        bigquery=lambda: exp.Count(this=_col("SOPInstanceUID")),
    ),
    _series(
        "series_size_MB",
        "series",
        "total size of the series in megabytes (10^6 bytes)",
        kind="number",
        bq_type="FLOAT",
        bigquery=lambda: exp.Div(
            this=exp.Sum(
                this=exp.TryCast(this=_col("instance_size"), to=exp.DataType.build("DOUBLE"))
            ),
            expression=exp.Literal.number("1000000.0"),
            safe=False,
        ),
    ),
    _series(
        "series_init_idc_version",
        "series",
        "IDC release in which the series first appeared",
        kind="number",
        bq_type="INTEGER",
        # STRING in dicom_all: compare as integers, as idc_index does
        bigquery=lambda: exp.Min(this=_as_int(_col("series_init_idc_version"))),
    ),
    _series(
        "series_revised_idc_version",
        "series",
        "IDC release in which the series was last revised",
        kind="number",
        bq_type="INTEGER",
        bigquery=lambda: exp.Max(this=_as_int(_col("series_revised_idc_version"))),
    ),
    _series("aws_bucket", "series", "AWS S3 bucket holding the series"),
    _series("crdc_series_uuid", "series", "IDC's identifier of this version of the series"),
    _series(
        "viewer_url",
        "series",
        "the series in IDC's viewer: OHIF v3 for radiology, Slim for slide microscopy (SM)",
        local=lambda: _viewer_url(
            exp.column("StudyInstanceUID"), exp.column("SeriesInstanceUID"), exp.column("Modality")
        ),
        bigquery=lambda: _any_value(
            _viewer_url(_col("StudyInstanceUID"), _col("SeriesInstanceUID"), _col("Modality"))
        ),
    ),
    _series(
        "series_aws_url",
        "series",
        "S3 URL of the series' files (ends in *)",
        bigquery=lambda: _any_value(
            exp.Concat(expressions=[_col("series_aws_url"), exp.Literal.string("*")])
        ),
    ),
)
