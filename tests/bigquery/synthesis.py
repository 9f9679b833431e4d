"""Instance-level rows of the BigQuery fixture, made from series rows of the local IDC index.

Every function is deterministic: random choices come from generators seeded with ``SEED`` and the
UID they concern, never from the clock or Python's salted ``hash``.

The rows are built so that IDC's own derivation of the series index (``idc_index.sql`` in
idc-index-data) over them gives back the local series rows exactly:

- series-constant columns are the same on every instance of a series (read with ``ANY_VALUE``);
- a local NULL ``PatientAge`` or ``SeriesDescription`` becomes NULL, ``''`` or a mix of both (IDC
  reads them through ``NULLIF(x, '')``);
- comma-joined ``TransferSyntaxUID``, ``PhotometricInterpretation`` and ``PixelRepresentation`` are
  spread over the instances, so that ``STRING_AGG(DISTINCT x, "," ORDER BY x)`` joins them again;
- the collection's metadata (``collection_name``, ``collection_cancerType``,
  ``collection_tumorLocation``, ``collection_species``) is copied from idc-index-data's
  ``collections_index`` onto every instance, joined by ", " as IDC joins it;
- ``instance_size`` strings are integers (bytes) summing to the series size;
- ``BodyPartExamined`` in ``dicom_all`` is the raw value (sometimes lower case or missing); the
  local value lives in ``dicom_metadata_curated``, which is what IDC reads.

Attributes the local index does not have (``SliceThickness``, ``KVP``, ``EchoTime``...) are
synthetic but plausible per modality, and vary between the instances of some series, so that
"any instance" and "every instance" predicates give different answers.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

Row = dict[str, Any]

SEED = 25
IMAGE_MODALITIES = ("CT", "MR", "PT")
SEG_SOP_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"})
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
SEGMENTATION_SOP_CLASSES = SEG_SOP_CLASSES | {RTSTRUCT_SOP_CLASS}
GCS_BUCKET_OF_AWS_BUCKET = {  # the inverse of the mapping in idc-index-data's prior_versions_index
    "idc-open-data": "public-datasets-idc",
    "idc-open-data-two": "idc-open-idc1",
    "idc-open-data-cr": "idc-open-cr",
}
VARYING_SERIES_SHARE = 0.3  # of the multi-instance series with acquisition attributes
MISSING_BODY_PART_SHARE = 0.1  # raw dicom_all value NULL where the curated one is not
LOWER_CASE_BODY_PART_SHARE = 0.15  # raw dicom_all value in lower case

# Plausible instance-level acquisition attributes per modality: each series picks one candidate
# per attribute; in a "varying" series, every other instance takes the next candidate of the
# attributes listed in VARYING_ATTRIBUTES.
_ORIGINAL = ("ORIGINAL", "PRIMARY")
_DERIVED = ("DERIVED", "PRIMARY")
ACQUISITION: dict[str, dict[str, tuple[Any, ...]]] = {
    "CT": {
        "SliceThickness": ("0.625", "1.25", "2.5", "5"),
        "KVP": ("100", "120", "140"),
        "ConvolutionKernel": (["B30f"], ["STANDARD"], ["LUNG"], ["B70f"], ["BONE"]),
        "ImageType": (
            [*_ORIGINAL, "AXIAL"],
            ["DERIVED", "SECONDARY", "AXIAL"],
            [*_ORIGINAL, "LOCALIZER"],
        ),
        "PixelSpacing": (["0.703125", "0.703125"], ["0.9765625", "0.9765625"]),
        "Rows": (512,),
        "Columns": (512,),
        "ContrastBolusAgent": (None, "Omnipaque 350", "ISOVUE-300"),
    },
    "MR": {
        "MagneticFieldStrength": ("1.5", "3"),
        "EchoTime": ("2.46", "4.76", "30", "88", "100"),
        "RepetitionTime": ("5.3", "500", "2000", "4000"),
        "SliceThickness": ("1", "3", "4", "5"),
        "ImageType": (
            [*_ORIGINAL, "M", "ND"],
            ["DERIVED", "SECONDARY", "ADC"],
            [*_ORIGINAL, "M", "NORM", "DIS2D"],
        ),
        "PixelSpacing": (["0.9375", "0.9375"], ["0.5", "0.5"]),
        "Rows": (256, 320, 512),
        "Columns": (256, 320, 512),
        "ContrastBolusAgent": (None, "Gadavist", "MAGNEVIST"),
    },
    "PT": {
        "SliceThickness": ("3.27", "4", "5"),
        "ImageType": ([*_ORIGINAL], ["DERIVED", "PRIMARY", "ATTN"]),
        "PixelSpacing": (["4.0728", "4.0728"], ["5.46875", "5.46875"]),
        "Rows": (128, 200),
        "Columns": (128, 200),
    },
    "NM": {"ImageType": ([*_ORIGINAL, "STATIC"],), "Rows": (128, 256), "Columns": (128, 256)},
    "MG": {
        "KVP": ("28", "29", "31"),
        "ImageType": ([*_ORIGINAL], [*_DERIVED]),
        "PixelSpacing": (["0.07", "0.07"], ["0.1", "0.1"]),
        "Rows": (3328, 4096),
        "Columns": (2560, 3328),
    },
    "CR": {
        "KVP": ("70", "80", "110"),
        "ImageType": ([*_ORIGINAL], [*_DERIVED]),
        "PixelSpacing": (["0.143", "0.143"], ["0.2", "0.2"]),
        "Rows": (2048, 2500),
        "Columns": (2048, 3000),
    },
    "US": {"ImageType": ([*_ORIGINAL], [*_DERIVED]), "Rows": (480, 600), "Columns": (640, 800)},
    "XA": {
        "KVP": ("70", "90"),
        "ImageType": ([*_ORIGINAL, "SINGLE PLANE"],),
        "Rows": (512, 1024),
        "Columns": (512, 1024),
    },
    "SM": {
        "ImageType": (
            [*_ORIGINAL, "VOLUME", "NONE"],
            [*_DERIVED, "VOLUME", "RESAMPLED"],
            [*_ORIGINAL, "LABEL", "NONE"],
        ),
        "Rows": (256, 512, 1024),
        "Columns": (256, 512, 1024),
    },
    "SEG": {"ImageType": ([*_DERIVED],), "Rows": (256, 512), "Columns": (256, 512)},
}
ACQUISITION["DX"] = ACQUISITION["CR"]
VARYING_ATTRIBUTES = frozenset(
    {"SliceThickness", "KVP", "ConvolutionKernel", "ImageType", "EchoTime", "ContrastBolusAgent"}
)
REPEATED_ACQUISITION_ATTRIBUTES = frozenset({"ConvolutionKernel", "ImageType", "PixelSpacing"})
ACQUISITION_ATTRIBUTES = tuple(sorted({name for m in ACQUISITION.values() for name in m}))
PATIENT_BODY_MODALITIES = frozenset({"CT", "MR", "PT", "NM"})  # carry PatientWeight, PatientSize


def rng_for(purpose: str, key: str) -> random.Random:
    """A generator of its own for one purpose and one UID (string seeds are hashed stably)."""
    return random.Random(f"{SEED}/{purpose}/{key}")


def instance_uid(series_uid: str, index: int) -> str:
    """The synthetic SOPInstanceUID of the ``index``-th (0-based) instance of a series."""
    return f"{series_uid}.{index + 1}"


def stable_uuid(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, key))


# --- dicom_all ----------------------------------------------------------------------------------


#: dicom_all's collection metadata columns, and the collections_index columns they come from
COLLECTION_COLUMNS = {
    "collection_name": "collection_name",
    "collection_cancerType": "cancer_types",
    "collection_tumorLocation": "tumor_locations",
    "collection_species": "species",
}


def collection_metadata(collection: Row | None) -> Row:
    """dicom_all's collection columns from one row of collections_index (NULL when unknown)."""
    return {
        column: None if collection is None else collection[source]
        for column, source in COLLECTION_COLUMNS.items()
    }


def dicom_all_rows(series: Sequence[Row], collections: dict[str, Row]) -> list[Row]:
    """One row per instance of each series (``instanceCount`` rows per series); ``collections``
    holds collections_index's rows by collection_id.

    A segmentation names the series it segments (the study's ``segmented_source``): a SEG in
    ``ReferencedSeriesSequence``, as DICOM's Common Instance Reference module does, or, for some
    SEG series, only through the instances it references (``ReferencedImageSequence`` or
    ``SourceImageSequence``); an RTSTRUCT through ``ReferencedFrameOfReferenceSequence`` >
    ``RTReferencedStudySequence`` > ``RTReferencedSeriesSequence``.
    """
    studies: dict[str, list[Row]] = defaultdict(list)
    for one in series:
        studies[one["StudyInstanceUID"]].append(one)
    rows = []
    for one in series:
        source = None
        if one["SOPClassUID"] in SEGMENTATION_SOP_CLASSES:
            source = segmented_source(studies[one["StudyInstanceUID"]])
        about = collection_metadata(collections.get(one["collection_id"]))
        rows.extend(
            {**row, **about, **sequences(one, index), **_references(one, source, index)}
            for index, row in enumerate(_series_instances(one))
        )
    return rows


#: how a SEG series names what it segments, by the share of SEG series taking each way
SEG_REFERENCE_STYLES = (("series", 0.5), ("images", 0.3), ("sources", 0.2))


def seg_reference_style(seg_uid: str) -> str:
    """How the SEG series ``seg_uid`` names the series it segments: ``series``
    (ReferencedSeriesSequence), ``images`` (ReferencedImageSequence) or ``sources``
    (SourceImageSequence)."""
    draw = rng_for("references", seg_uid).random()
    for style, share in SEG_REFERENCE_STYLES:
        if draw < share:
            return style
        draw -= share
    return SEG_REFERENCE_STYLES[-1][0]


def _references(one: Row, source: Row | None, index: int) -> Row:
    """The reference sequences of the ``index``-th instance of ``one`` (empty unless it is a
    segmentation of a series ``source``)."""
    refs: Row = {
        "ReferencedSeriesSequence": [],
        "ReferencedImageSequence": [],
        "SourceImageSequence": [],
        "ReferencedFrameOfReferenceSequence": [],
    }
    if source is None:
        return refs
    uid = source["SeriesInstanceUID"]
    if one["SOPClassUID"] == RTSTRUCT_SOP_CLASS:
        study = {"ReferencedSOPInstanceUID": source["StudyInstanceUID"]}
        study["RTReferencedSeriesSequence"] = [{"SeriesInstanceUID": uid}]
        refs["ReferencedFrameOfReferenceSequence"] = [
            {"FrameOfReferenceUID": f"{uid}.0", "RTReferencedStudySequence": [study]}
        ]
        return refs
    style = seg_reference_style(one["SeriesInstanceUID"])
    if style == "series":
        refs["ReferencedSeriesSequence"] = [{"SeriesInstanceUID": uid}]
    else:
        image = instance_uid(uid, index % source["instanceCount"])
        key = "ReferencedImageSequence" if style == "images" else "SourceImageSequence"
        refs[key] = [{"ReferencedSOPInstanceUID": image}]
    return refs


#: ROI names of the synthetic RTSTRUCTs (mixed case, as drawn by people)
ROI_NAMES = ("Lung_L", "Lung_R", "Heart", "Esophagus", "SpinalCord", "GTV-1", "lung nodule", "PTV")
ROI_ALGORITHMS = ("MANUAL", "SEMIAUTOMATIC", "AUTOMATIC")
#: private elements (OtherElements: Tag, Data) of some instances and of some ROIs
PRIVATE_TAGS = ("(0019,10b0)", "(0043,1028)", "(3007,1001)")
PRIVATE_DATA = ("A", "B", "LUNG", "7.5", "x")
PRIVATE_SERIES_SHARE = 0.25  # of the series that are not RTSTRUCT


def sequences(series: Row, index: int) -> Row:
    """The DICOM sequences of the ``index``-th instance of a series: an RTSTRUCT's regions of
    interest (``StructureSetROISequence``, some with private elements), and private elements
    (``OtherElements``) on every other instance of a share of the other series, so that "any"
    and "every instance" differ."""
    uid = series["SeriesInstanceUID"]
    rng = rng_for(f"sequences/{index}", uid)
    rois: list[Row] = []
    others: list[Row] = []
    if series["Modality"] == "RTSTRUCT":
        names = rng.sample(ROI_NAMES, rng.randint(1, 4))
        for number, name in enumerate(names, start=1):
            private = [_private(rng)] if rng.random() < 0.5 else []
            rois.append(
                {
                    "ROINumber": str(number),
                    "ROIName": name,
                    "ROIGenerationAlgorithm": rng.choice(ROI_ALGORITHMS),
                    "OtherElements": private,
                }
            )
    elif rng_for("private", uid).random() < PRIVATE_SERIES_SHARE and index % 2 == 0:
        others = [_private(rng) for _ in range(rng.randint(1, 2))]
    return {"StructureSetROISequence": rois, "OtherElements": others}


def _private(rng: random.Random) -> Row:
    data = rng.sample(PRIVATE_DATA, rng.randint(0, 3))
    return {"Tag": rng.choice(PRIVATE_TAGS), "Data": data}


def _series_instances(series: Row) -> Iterator[Row]:
    count = series["instanceCount"]
    uid = series["SeriesInstanceUID"]
    rng = rng_for("instances", uid)
    constant = _series_columns(series, rng) | _patient_body(series)
    sizes = split_bytes(series_bytes(series), count, rng)
    ages = _nullable_text(series["PatientAge"], count, rng)
    descriptions = _nullable_text(series["SeriesDescription"], count, rng)
    encodings = _encodings(series, count)
    acquisitions = _acquisitions(series["Modality"], count, rng)
    for index in range(count):
        sop_uid = instance_uid(uid, index)
        instance_uuid = stable_uuid(sop_uid)
        yield {
            **constant,
            **encodings[index],
            **acquisitions[index],
            "SOPInstanceUID": sop_uid,
            "InstanceNumber": str(index + 1),
            "PatientAge": ages[index],
            "SeriesDescription": descriptions[index],
            "crdc_instance_uuid": instance_uuid,
            "instance_size": str(sizes[index]),
            "aws_url": f"{constant['series_aws_url']}{instance_uuid}.dcm",
            "gcs_url": f"{constant['series_gcs_url']}{instance_uuid}.dcm",
        }


def _series_columns(series: Row, rng: random.Random) -> Row:
    aws_bucket = series["aws_bucket"]
    gcs_bucket = GCS_BUCKET_OF_AWS_BUCKET[aws_bucket]
    series_uuid = series["crdc_series_uuid"]
    return {
        "collection_id": series["collection_id"],
        "analysis_result_id": series["analysis_result_id"],
        "PatientID": series["PatientID"],
        "StudyInstanceUID": series["StudyInstanceUID"],
        "SeriesInstanceUID": series["SeriesInstanceUID"],
        "Source_DOI": series["source_DOI"],
        "PatientSex": series["PatientSex"],
        "StudyDate": series["StudyDate"],
        "StudyDescription": series["StudyDescription"],
        "BodyPartExamined": _raw_body_part(series["BodyPartExamined"], rng),
        "Modality": series["Modality"],
        "SOPClassUID": series["SOPClassUID"],
        "Manufacturer": series["Manufacturer"],
        "ManufacturerModelName": series["ManufacturerModelName"],
        "SeriesDate": series["SeriesDate"],
        "SeriesNumber": series["SeriesNumber"],
        "license_short_name": series["license_short_name"],
        "series_init_idc_version": _text(series["series_init_idc_version"]),
        "series_revised_idc_version": _text(series["series_revised_idc_version"]),
        "aws_bucket": aws_bucket,
        "gcs_bucket": gcs_bucket,
        "crdc_study_uuid": stable_uuid(series["StudyInstanceUID"]),
        "crdc_series_uuid": series_uuid,
        "series_aws_url": series["series_aws_url"].removesuffix("*"),
        "series_gcs_url": f"gs://{gcs_bucket}/{series_uuid}/",
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _raw_body_part(curated: str | None, rng: random.Random) -> str | None:
    draw = rng.random()
    if curated is None or draw < MISSING_BODY_PART_SHARE:
        return None
    if draw < MISSING_BODY_PART_SHARE + LOWER_CASE_BODY_PART_SHARE:
        return curated.lower()
    return curated


def _nullable_text(value: str | None, count: int, rng: random.Random) -> list[str | None]:
    """The value on every instance; a missing value as NULL, '' or both, per series."""
    if value is not None:
        return [value] * count
    style = rng.choice(("null", "empty", "mixed"))
    if style == "mixed":
        return ["" if index % 2 else None for index in range(count)]
    return [None if style == "null" else ""] * count


def series_bytes(series: Row) -> int:
    """The series size in bytes, exactly as IDC summed it (local MB = bytes / 1e6)."""
    size: int = round(series["series_size_MB"] * 1_000_000)
    if size / 1_000_000 != series["series_size_MB"]:
        raise ValueError(f"series_size_MB of {series['SeriesInstanceUID']} is not bytes / 1e6")
    return size


def split_bytes(total: int, parts: int, rng: random.Random) -> list[int]:
    """``parts`` non-negative integers of similar size that sum to ``total`` exactly."""
    weights = [rng.uniform(0.8, 1.2) for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [int(weight * scale) for weight in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def _encodings(series: Row, count: int) -> list[Row]:
    """Spread the distinct values of each comma-joined column over the instances."""
    syntaxes = _split_joined(series["TransferSyntaxUID"], count)
    photometrics = _split_joined(series["PhotometricInterpretation"], count)
    representations = _split_joined(series["PixelRepresentation"], count)
    return [
        {
            "TransferSyntaxUID": syntaxes[index % len(syntaxes)],
            "PhotometricInterpretation": photometrics[(index + 1) % len(photometrics)],
            "PixelRepresentation": _integer(representations[(index + 2) % len(representations)]),
        }
        for index in range(count)
    ]


def _split_joined(joined: str | None, count: int) -> list[str | None]:
    parts: list[str | None] = [None] if joined is None else list(joined.split(","))
    if len(parts) > count:
        raise ValueError(f"{joined!r} has more distinct values than the {count} instances")
    return parts


def _integer(value: str | None) -> int | None:
    return None if value is None else int(value)


def _acquisitions(modality: str, count: int, rng: random.Random) -> list[Row]:
    candidates = ACQUISITION.get(modality, {})
    chosen = {name: rng.randrange(len(values)) for name, values in candidates.items()}
    varies = count > 1 and bool(candidates) and rng.random() < VARYING_SERIES_SHARE
    return [_acquisition(candidates, chosen, varies and index % 2 == 1) for index in range(count)]


def _acquisition(
    candidates: dict[str, tuple[Any, ...]], chosen: dict[str, int], alternate: bool
) -> Row:
    row: Row = {
        name: [] if name in REPEATED_ACQUISITION_ATTRIBUTES else None
        for name in ACQUISITION_ATTRIBUTES
    }
    for name, values in candidates.items():
        shift = 1 if alternate and name in VARYING_ATTRIBUTES else 0
        row[name] = values[(chosen[name] + shift) % len(values)]
    return row


def _patient_body(series: Row) -> Row:
    """PatientWeight (kg) and PatientSize (m), constant per patient, on radiology series only."""
    rng = rng_for("patient", f"{series['collection_id']}/{series['PatientID']}")
    known = rng.random() >= 0.25
    applies = known and series["Modality"] in PATIENT_BODY_MODALITIES
    return {
        "PatientWeight": str(rng.randint(45, 110)) if applies else None,
        "PatientSize": f"{rng.uniform(1.5, 1.95):.2f}" if applies else None,
    }


# --- dicom_metadata_curated ---------------------------------------------------------------------


def curated_rows(series: Sequence[Row]) -> list[Row]:
    """One row per instance with the curated (local index) BodyPartExamined."""
    return [
        {
            "SOPInstanceUID": instance_uid(one["SeriesInstanceUID"], index),
            "SeriesInstanceUID": one["SeriesInstanceUID"],
            "BodyPartExamined": one["BodyPartExamined"],
        }
        for one in series
        for index in range(one["instanceCount"])
    ]


# --- auxiliary_metadata -------------------------------------------------------------------------


def auxiliary_rows(series: Sequence[Row]) -> list[Row]:
    """One row per instance with the series' first and last IDC versions (INTEGER here)."""
    return [
        {
            "SOPInstanceUID": instance_uid(one["SeriesInstanceUID"], index),
            "SeriesInstanceUID": one["SeriesInstanceUID"],
            "series_init_idc_version": one["series_init_idc_version"],
            "series_revised_idc_version": one["series_revised_idc_version"],
        }
        for one in series
        for index in range(one["instanceCount"])
    ]


# --- segmentations ------------------------------------------------------------------------------


def _code(value: str, meaning: str) -> Row:
    return {"CodeValue": value, "CodingSchemeDesignator": "SCT", "CodeMeaning": meaning}


ANATOMICAL_STRUCTURE = _code("123037004", "Anatomical Structure")
MORPHOLOGICALLY_ALTERED = _code("49755003", "Morphologically Altered Structure")
LESIONS = (_code("108369006", "Neoplasm"), _code("52988006", "Lesion"), _code("27925004", "Nodule"))
LUNG, LIVER, KIDNEY, SPLEEN = (
    _code("39607008", "Lung"),
    _code("10200004", "Liver"),
    _code("64033007", "Kidney"),
    _code("78961009", "Spleen"),
)
ORGAN_OF_BODY_PART = {
    "LUNG": LUNG,
    "CHEST": LUNG,
    "THORAX": LUNG,
    "LIVER": LIVER,
    "ABDOMEN": LIVER,
    "KIDNEY": KIDNEY,
    "PROSTATE": _code("41216001", "Prostate"),
    "BRAIN": _code("12738006", "Brain"),
    "HEAD": _code("12738006", "Brain"),
    "BREAST": _code("76752008", "Breast"),
}
OTHER_ORGANS = (LUNG, LIVER, KIDNEY, SPLEEN)
MAX_SEGMENTS = 4


def segmentation_rows(series: Sequence[Row]) -> list[Row]:
    """One row per segment of each SEG instance, modelled on IDC's ``segmentations`` table.

    ``segmented_SOPInstanceUID`` points at an instance of the study's CT (else MR, else PT)
    series, or is NULL when the study has none.
    """
    studies: dict[str, list[Row]] = defaultdict(list)
    for one in series:
        studies[one["StudyInstanceUID"]].append(one)
    rows: list[Row] = []
    for study in studies.values():
        source = segmented_source(study)
        for seg in study:
            if seg["SOPClassUID"] in SEG_SOP_CLASSES:
                rows.extend(_segments(seg, source))
    return rows


def segmented_source(study: Sequence[Row]) -> Row | None:
    """The image series of a study that its segmentations segment."""
    images = [one for one in study if one["Modality"] in IMAGE_MODALITIES]
    images.sort(key=lambda one: (IMAGE_MODALITIES.index(one["Modality"]), one["SeriesInstanceUID"]))
    return images[0] if images else None


def _segments(seg: Row, source: Row | None) -> Iterator[Row]:
    rng = rng_for("segments", seg["SeriesInstanceUID"])
    organ = _organ(seg, source, rng)
    algorithm_type, algorithm_name = _algorithm(seg, rng)
    for index in range(seg["instanceCount"]):
        for number in range(1, rng.randint(1, MAX_SEGMENTS) + 1):
            anatomical = number == 1
            yield {
                "PatientID": seg["PatientID"],
                "StudyInstanceUID": seg["StudyInstanceUID"],
                "SeriesInstanceUID": seg["SeriesInstanceUID"],
                "SOPInstanceUID": instance_uid(seg["SeriesInstanceUID"], index),
                "SegmentNumber": number,
                "SegmentedPropertyCategory": ANATOMICAL_STRUCTURE
                if anatomical
                else MORPHOLOGICALLY_ALTERED,
                "SegmentedPropertyType": organ if anatomical else rng.choice(LESIONS),
                "AnatomicRegion": None if anatomical else organ,
                "SegmentAlgorithmType": algorithm_type,
                "SegmentAlgorithmName": algorithm_name,
                "segmented_SOPInstanceUID": _segmented_instance(source, number),
            }


def _organ(seg: Row, source: Row | None, rng: random.Random) -> Row:
    for one in (seg, source):
        body_part = one and one["BodyPartExamined"]
        if body_part and body_part.upper() in ORGAN_OF_BODY_PART:
            return ORGAN_OF_BODY_PART[body_part.upper()]
    return rng.choice(OTHER_ORGANS)


def _algorithm(seg: Row, rng: random.Random) -> tuple[str, str | None]:
    if seg["analysis_result_id"] is not None and rng.random() < 0.7:
        return "AUTOMATIC", "TotalSegmentator"
    if rng.random() < 0.3:
        return "SEMIAUTOMATIC", "3D Slicer"
    return "MANUAL", None


def _segmented_instance(source: Row | None, segment_number: int) -> str | None:
    if source is None:
        return None
    return instance_uid(source["SeriesInstanceUID"], (segment_number - 1) % source["instanceCount"])


# --- version_metadata ---------------------------------------------------------------------------


def version_rows(versions: Sequence[Row]) -> list[Row]:
    """IDC releases from idc-index-data's version_metadata_index, with a synthetic hash."""
    return [
        {
            "idc_version": int(version["idc_version"]),
            "version_timestamp": f"{version['version_timestamp']} 00:00:00 UTC",
            "version_hash": hashlib.md5(
                f"idc_v{version['idc_version']}".encode(), usedforsecurity=False
            ).hexdigest(),
        }
        for version in versions
    ]
