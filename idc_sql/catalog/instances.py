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
        description="SeriesInstanceUIDs the instance names (ReferencedSeriesSequence; an "
        "RTSTRUCT's RTReferencedSeriesSequence), e.g. the series a SEG segments",
        local=None,
        bigquery=lambda: _referenced_series(),
    ),
    Field(
        name="referenced_instances",
        level="instance",
        kind="strings",
        bq_type="STRING",
        bq_mode="REPEATED",
        description="SOPInstanceUIDs the instance references (ReferencedImageSequence, else "
        "SourceImageSequence), e.g. the images a SEG was derived from",
        local=None,
        bigquery=lambda: _referenced_instances(),
    ),
)


def _uids(path: tuple[str, ...], leaf: str) -> exp.Expr:
    """ARRAY(SELECT e<n>.<leaf> FROM UNNEST(dicom_all.<path[0]>) AS e0 CROSS JOIN
    UNNEST(e0.<path[1]>) AS e1 ...): ``leaf`` of every element of a nested sequence."""
    query: exp.Select | None = None
    for depth, name in enumerate(path):
        parent = _col(name) if depth == 0 else exp.column(name, table=f"e{depth - 1}")
        # BigQuery names an UNNEST's element by a column alias
        rows = exp.Unnest(
            expressions=[parent], alias=exp.TableAlias(columns=[exp.to_identifier(f"e{depth}")])
        )
        if query is None:
            query = exp.select(exp.column(leaf, table=f"e{len(path) - 1}")).from_(rows)
        else:
            query = query.join(rows, join_type="cross", copy=False)
    assert query is not None
    return exp.Array(expressions=[query])


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
    """The series named by a SEG (ReferencedSeriesSequence) and by an RTSTRUCT
    (ReferencedFrameOfReferenceSequence > RTReferencedStudySequence >
    RTReferencedSeriesSequence), as IDC's seg_index and rtstruct_index read them."""
    rt_path = (
        "ReferencedFrameOfReferenceSequence",
        "RTReferencedStudySequence",
        "RTReferencedSeriesSequence",
    )
    return exp.ArrayConcat(
        this=_uids(("ReferencedSeriesSequence",), "SeriesInstanceUID"),
        expressions=[_uids(rt_path, "SeriesInstanceUID")],
    )


def _referenced_instances() -> exp.Expr:
    """IF(ARRAY_LENGTH(<ReferencedImageSequence's>) > 0, <those>, <SourceImageSequence's>):
    the instances referenced, in the order IDC's seg_index falls back through them."""
    images = _uids(("ReferencedImageSequence",), "ReferencedSOPInstanceUID")
    return exp.If(
        this=exp.GT(this=exp.ArraySize(this=images), expression=exp.Literal.number(0)),
        true=images.copy(),
        false=_uids(("SourceImageSequence",), "ReferencedSOPInstanceUID"),
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
