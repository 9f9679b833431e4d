"""The catalog: every field a cohort can name, and how each engine reads it.

A field has a BigQuery type and mode (as in ``dicom_all``), a level (collection, patient, study,
series or instance), a logical kind that decides how it compares (``string``, ``number``, ``date``
or ``strings`` for repeated values), and one reading per engine:

- ``local``: a DuckDB expression over the series-level ``idc_index`` table of idc-index-data,
  or ``None`` when the local index does not carry the field;
- ``bigquery``: a BigQuery expression over ``dicom_all`` (one row per instance). For a field at
  series level or above it is an aggregate that yields the series' value exactly as IDC derives
  ``idc_index`` (``idc_index.sql`` in idc-index-data); for an instance-level field it is a
  per-instance expression, and the compiler aggregates the *condition* over the series'
  instances (any or all of them).

Readings are built as sqlglot trees from catalog constants; user values never enter them.

>>> field("modality").name
'Modality'
>>> suggest("SliceThikness", FIELDS)
['SliceThickness']
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

Level = Literal["collection", "patient", "study", "series", "instance", "segment"]
Kind = Literal["string", "number", "date", "strings", "numbers"]

#: SOP Class UID -> name, as idc_index.sql maps them (sop_class_name).
SOP_CLASS_NAMES: dict[str, str] = {
    "1.2.840.10008.5.1.4.1.1.1": "Computed Radiography Image Storage",
    "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray Image Storage - For Presentation",
    "1.2.840.10008.5.1.4.1.1.1.1.1": "Digital X-Ray Image Storage - For Processing",
    "1.2.840.10008.5.1.4.1.1.1.2": "Digital Mammography X-Ray Image Storage - For Presentation",
    "1.2.840.10008.5.1.4.1.1.1.2.1": "Digital Mammography X-Ray Image Storage - For Processing",
    "1.2.840.10008.5.1.4.1.1.104.3": "Encapsulated STL Storage",
    "1.2.840.10008.5.1.4.1.1.11.1": "Grayscale Softcopy Presentation State Storage",
    "1.2.840.10008.5.1.4.1.1.11.8": "Advanced Blending Presentation State Storage",
    "1.2.840.10008.5.1.4.1.1.12.1": "X-Ray Angiographic Image Storage",
    "1.2.840.10008.5.1.4.1.1.12.2": "X-Ray Radiofluoroscopic Image Storage",
    "1.2.840.10008.5.1.4.1.1.128": "Positron Emission Tomography Image Storage",
    "1.2.840.10008.5.1.4.1.1.13.1.3": "Breast Tomosynthesis Image Storage",
    "1.2.840.10008.5.1.4.1.1.13.1.4": "Breast Projection X-Ray Image Storage - For Presentation",
    "1.2.840.10008.5.1.4.1.1.13.1.5": "Breast Projection X-Ray Image Storage - For Processing",
    "1.2.840.10008.5.1.4.1.1.2": "CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.20": "Nuclear Medicine Image Storage",
    "1.2.840.10008.5.1.4.1.1.3.1": "Ultrasound Multi-frame Image Storage",
    "1.2.840.10008.5.1.4.1.1.30": "Parametric Map Storage",
    "1.2.840.10008.5.1.4.1.1.4": "MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.481.2": "RT Dose Storage",
    "1.2.840.10008.5.1.4.1.1.481.3": "RT Structure Set Storage",
    "1.2.840.10008.5.1.4.1.1.481.5": "RT Plan Storage",
    "1.2.840.10008.5.1.4.1.1.6.1": "Ultrasound Image Storage",
    "1.2.840.10008.5.1.4.1.1.66": "Raw Data Storage",
    "1.2.840.10008.5.1.4.1.1.66.1": "Spatial Registration Storage",
    "1.2.840.10008.5.1.4.1.1.66.4": "Segmentation Storage",
    "1.2.840.10008.5.1.4.1.1.66.7": "Label Map Segmentation Storage",
    "1.2.840.10008.5.1.4.1.1.67": "Real World Value Mapping Storage",
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.7.2": "Multi-frame Grayscale Byte Secondary Capture Image Storage",
    "1.2.840.10008.5.1.4.1.1.77.1.6": "VL Whole Slide Microscopy Image Storage",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.59": "Key Object Selection Document Storage",
    "1.2.840.10008.5.1.4.1.1.88.67": "X-Ray Radiation Dose SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.71": "Acquisition Context SR Storage",
    "1.2.840.10008.5.1.4.1.1.91.1": "Microscopy Bulk Simple Annotations Storage",
}

#: Transfer Syntax UID -> name, as idc_index.sql maps them (transfer_syntax_name).
TRANSFER_SYNTAX_NAMES: dict[str, str] = {
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline",
    "1.2.840.10008.1.2.4.51": "JPEG Extended",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
}


Builder = Callable[[], exp.Expr]


def _col(name: str, table: str = "dicom_all") -> exp.Column:
    return exp.column(name, table=table)


def _any_value(inner: exp.Expr) -> exp.Expr:
    return exp.AnyValue(this=inner)


def _case(subject: exp.Expr, mapping: dict[str, str]) -> exp.Expr:
    """CASE over catalog constants (UIDs and their names), never user values."""
    case = exp.Case(this=subject)
    for key, value in sorted(mapping.items()):
        case = case.when(exp.Literal.string(key), exp.Literal.string(value))
    return case


def _distinct_list(inner: exp.Expr) -> exp.Expr:
    """STRING_AGG(DISTINCT x, ',' ORDER BY x): how idc_index lists values that vary in a series."""
    # NULLS FIRST is BigQuery's own order for ASC; STRING_AGG drops NULLs anyway.
    ordered = exp.Order(expressions=[exp.Ordered(this=inner.copy(), nulls_first=True)])
    return exp.GroupConcat(
        this=exp.Order(this=exp.Distinct(expressions=[inner]), expressions=ordered.expressions),
        separator=exp.Literal.string(","),
    )


def _nullif_empty(inner: exp.Expr) -> exp.Expr:
    return exp.Nullif(this=inner, expression=exp.Literal.string(""))


def _age_years(age: exp.Expr) -> exp.Expr:
    """Years from a DICOM Age String (nnnD, nnnW, nnnM or nnnY)."""
    number = exp.TryCast(
        this=exp.Substring(
            this=age.copy(), start=exp.Literal.number(1), length=exp.Literal.number(3)
        ),
        to=exp.DataType.build("DOUBLE"),
    )
    unit = exp.Substring(this=age.copy(), start=exp.Literal.number(4), length=exp.Literal.number(1))
    per_year = (
        exp.Case(this=unit)
        .when(exp.Literal.string("Y"), exp.Literal.number(1))
        .when(exp.Literal.string("M"), exp.Literal.number(12))
        .when(exp.Literal.string("W"), exp.Literal.number("52.1775"))
        .when(exp.Literal.string("D"), exp.Literal.number("365.25"))
    )
    return exp.Div(this=number, expression=exp.paren(per_year), safe=False)


def _as_int(inner: exp.Expr) -> exp.Expr:
    return exp.TryCast(this=inner, to=exp.DataType.build("BIGINT"))


def _as_string(inner: exp.Expr) -> exp.Expr:
    return exp.TryCast(this=inner, to=exp.DataType.build("TEXT"))


@dataclass(frozen=True)
class Field:
    """One field of the catalog."""

    name: str
    level: Level
    kind: Kind
    bq_type: str
    bq_mode: str
    description: str
    #: builds the DuckDB reading over ``idc_index``; None when the local index lacks the field
    local: Builder | None
    #: builds the BigQuery reading over ``dicom_all`` (a series aggregate, or per instance)
    bigquery: Builder
    #: the BigQuery reading joins dicom_metadata_curated (as idc_index.sql does)
    curated: bool = False
    #: STRING values that compare as numbers when a condition's values are numbers
    #: (columns from the live schema and elements of repeated DICOM strings)
    numeric_strings: bool = False

    @property
    def instance_level(self) -> bool:
        return self.level == "instance"

    @property
    def segment_level(self) -> bool:
        return self.level == "segment"

    @property
    def repeated(self) -> bool:
        return self.kind in ("strings", "numbers")

    def reading(self, engine: str) -> exp.Expr | None:
        """A fresh sqlglot tree of this field's reading on ``engine`` (local or bigquery)."""
        build = self.local if engine == "local" else self.bigquery
        return None if build is None else build()


def _series(
    name: str,
    level: Level,
    description: str,
    *,
    kind: Kind = "string",
    bq_type: str = "STRING",
    bigquery: Builder | None = None,
    local: Builder | None = None,
    curated: bool = False,
) -> Field:
    """A field of the local index (series level or above)."""
    return Field(
        name=name,
        level=level,
        kind=kind,
        bq_type=bq_type,
        bq_mode="NULLABLE",
        description=description,
        local=local or (lambda: exp.column(name)),
        bigquery=bigquery or (lambda: _any_value(_col(name))),
        curated=curated,
    )


def _instance(
    name: str, description: str, *, kind: Kind = "string", bq_type: str = "STRING"
) -> Field:
    """A per-instance attribute of dicom_all that the local index does not carry."""
    return Field(
        name=name,
        level="instance",
        kind=kind,
        bq_type=bq_type,
        bq_mode="REPEATED" if kind == "strings" else "NULLABLE",
        description=description,
        local=None,
        bigquery=lambda: _col(name),
    )


_FIELDS: tuple[Field, ...] = (
    # collection level
    _series("collection_id", "collection", "short identifier of the collection"),
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
    _series(
        "TransferSyntaxUID",
        "series",
        "Transfer Syntax UIDs of the series, distinct, comma-separated",
        bigquery=lambda: _distinct_list(_col("TransferSyntaxUID")),
    ),
    _series(
        "transfer_syntax_name",
        "series",
        "names of the series' Transfer Syntaxes, distinct, comma-separated",
        bigquery=lambda: _distinct_list(_case(_col("TransferSyntaxUID"), TRANSFER_SYNTAX_NAMES)),
    ),
    _series(
        "PhotometricInterpretation",
        "series",
        "photometric interpretations of the series, distinct, comma-separated",
        bigquery=lambda: _distinct_list(_col("PhotometricInterpretation")),
    ),
    _series(
        "PixelRepresentation",
        "series",
        "pixel representations (0 unsigned, 1 signed), distinct, comma-separated",
        bigquery=lambda: _distinct_list(_as_string(_col("PixelRepresentation"))),
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
        "series_aws_url",
        "series",
        "S3 URL of the series' files (ends in *)",
        bigquery=lambda: _any_value(
            exp.Concat(expressions=[_col("series_aws_url"), exp.Literal.string("*")])
        ),
    ),
    # instance level (BigQuery only)
    _instance("SliceThickness", "nominal slice thickness in mm", kind="number"),
    _instance("PixelSpacing", "row and column spacing in mm", kind="strings"),
    _instance("ImageType", "image type values (ORIGINAL, PRIMARY, AXIAL, ...)", kind="strings"),
    _instance("Rows", "number of pixel rows", kind="number", bq_type="INTEGER"),
    _instance("Columns", "number of pixel columns", kind="number", bq_type="INTEGER"),
    _instance("KVP", "peak kilovoltage (CT)", kind="number"),
    _instance("ConvolutionKernel", "reconstruction kernel (CT)", kind="strings"),
    _instance("ContrastBolusAgent", "contrast agent administered"),
    _instance("MagneticFieldStrength", "field strength in tesla (MR)", kind="number"),
    _instance("EchoTime", "echo time in ms (MR)", kind="number"),
    _instance("RepetitionTime", "repetition time in ms (MR)", kind="number"),
    _instance("PatientWeight", "patient weight in kg", kind="number"),
    _instance("PatientSize", "patient height in m", kind="number"),
    _instance("SOPInstanceUID", "unique identifier of the instance"),
    _instance("InstanceNumber", "instance number within the series", kind="number"),
    _instance("crdc_instance_uuid", "IDC's identifier of this version of the instance"),
    Field(
        name="referenced_series",
        level="instance",
        kind="strings",
        bq_type="STRING",
        bq_mode="REPEATED",
        description="SeriesInstanceUIDs the instance references (ReferencedSeriesSequence), "
        "e.g. the series a SEG segments",
        local=None,
        bigquery=lambda: _referenced_series(),
    ),
)


def _referenced_series() -> exp.Expr:
    """ARRAY(SELECT ref.SeriesInstanceUID FROM UNNEST(dicom_all.ReferencedSeriesSequence) ref)."""
    ref = exp.Unnest(
        expressions=[_col("ReferencedSeriesSequence")],
        alias=exp.TableAlias(columns=[exp.to_identifier("ref")]),
    )
    return exp.Array(
        expressions=[exp.select(exp.column("SeriesInstanceUID", table="ref")).from_(ref)]
    )


def _segment(name: str, description: str, record: str | None, column: str) -> Field:
    """A property of one segment of a DICOM SEG series (BigQuery's ``segmentations`` table)."""
    return Field(
        name=name,
        level="segment",
        kind="string",
        bq_type="STRING",
        bq_mode="NULLABLE",
        description=description,
        local=None,
        bigquery=lambda: (
            exp.column(column, table=record, db="seg")
            if record
            else exp.column(column, table="seg")
        ),
    )


_SEGMENT_FIELDS: tuple[Field, ...] = (
    _segment(
        "SegmentedPropertyType",
        "what a segment of a SEG series segments (code meaning, e.g. Liver, Neoplasm)",
        "SegmentedPropertyType",
        "CodeMeaning",
    ),
    _segment(
        "SegmentedPropertyCategory",
        "category of a segment (code meaning, e.g. Anatomical Structure)",
        "SegmentedPropertyCategory",
        "CodeMeaning",
    ),
    _segment(
        "AnatomicRegion",
        "anatomic region of a segment (code meaning)",
        "AnatomicRegion",
        "CodeMeaning",
    ),
    _segment(
        "SegmentAlgorithmType",
        "how a segment was made (AUTOMATIC, SEMIAUTOMATIC, MANUAL)",
        None,
        "SegmentAlgorithmType",
    ),
)
_FIELDS = _FIELDS + _SEGMENT_FIELDS

FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}
_BY_FOLDED: dict[str, Field] = {f.name.casefold(): f for f in _FIELDS}


def field(name: str) -> Field:
    """The field named ``name``; a name that differs only in case is accepted."""
    return FIELDS.get(name) or _BY_FOLDED[name.casefold()]


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Names close to ``name``, best first, for "did you mean" answers."""
    pool = list(candidates)
    folded = {c.casefold(): c for c in pool}
    hits = difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.6)
    return [folded[h] for h in hits]


def engine_fields(engine: str) -> list[Field]:
    """Fields the engine can read (``local``) or all of them (``bigquery``)."""
    return [f for f in _FIELDS if f.reading(engine) is not None]
