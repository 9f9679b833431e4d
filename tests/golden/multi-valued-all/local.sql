WITH series AS (
  SELECT
    collection_id AS "collection_id",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    SeriesInstanceUID AS "SeriesInstanceUID",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    series_size_MB AS "series_size_MB",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    TransferSyntaxUID AS "TransferSyntaxUID",
    PhotometricInterpretation AS "PhotometricInterpretation",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "collection_id",
  "PatientID",
  "StudyInstanceUID",
  "SeriesInstanceUID",
  "Modality",
  "instanceCount",
  "series_size_MB",
  "aws_bucket",
  "crdc_series_uuid"
FROM series
WHERE
  series.Modality = $p0
  AND (
    NOT series.TransferSyntaxUID IS NULL
    AND NOT ARRAY_LENGTH(
      LIST_FILTER(
        STR_SPLIT(series.TransferSyntaxUID, ','),
        LAMBDA _value : NOT COALESCE(ARRAY_CONTAINS($p1, _value), FALSE)
      )
    ) > 0
  )
  AND (
    NOT series.PhotometricInterpretation IS NULL
    AND NOT ARRAY_LENGTH(
      LIST_FILTER(
        STR_SPLIT(series.PhotometricInterpretation, ','),
        LAMBDA _value : NOT COALESCE(_value ILIKE $p2 ESCAPE '\', FALSE)
      )
    ) > 0
  )
ORDER BY
  _row ASC
