"""Per-instance attributes of ``dicom_all`` and properties of segments (BigQuery only)."""

from __future__ import annotations

from sqlglot import exp

from .fields import Field, _col, _instance, _segment, member, sequence

INSTANCE_FIELDS: tuple[Field, ...] = (
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


#: private and unlisted DICOM elements of an instance or of a sequence's item (Tag, Data)
_OTHER_ELEMENTS = sequence(
    "OtherElements",
    "private or unlisted DICOM elements: Tag (e.g. '(0019,10b0)') and Data (its values)",
    (member("Tag"), member("Data", kind="strings")),
)

#: DICOM sequences (REPEATED RECORD columns) cohorts name often; any other is read from the
#: live schema. Their sub-fields are IDC's (a test compares them with the reference schema)
SEQUENCE_FIELDS: tuple[Field, ...] = (
    sequence(
        "StructureSetROISequence",
        "the regions of interest of an RTSTRUCT (ROIName, ROINumber, ...)",
        (
            member("SpecificCharacterSet", kind="strings"),
            member("ROINumber"),
            member("ReferencedFrameOfReferenceUID"),
            member("ROIName"),
            member("ROIDescription"),
            member("ROIVolume"),
            member("ROIGenerationAlgorithm"),
            _OTHER_ELEMENTS,
        ),
    ),
    _OTHER_ELEMENTS,
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


SEGMENT_FIELDS: tuple[Field, ...] = (
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
