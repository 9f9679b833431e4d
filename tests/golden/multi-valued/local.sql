WITH series AS (
  SELECT
    SeriesInstanceUID AS "SeriesInstanceUID",
    TransferSyntaxUID AS "TransferSyntaxUID",
    PhotometricInterpretation AS "PhotometricInterpretation",
    collection_id AS "collection_id",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    series_size_MB AS "series_size_MB",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    transfer_syntax_name AS "transfer_syntax_name",
    PixelRepresentation AS "PixelRepresentation",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "SeriesInstanceUID",
  "TransferSyntaxUID",
  "PhotometricInterpretation",
  "collection_id",
  "PatientID",
  "StudyInstanceUID",
  "series_size_MB",
  "aws_bucket",
  "crdc_series_uuid",
  "Modality",
  "instanceCount"
FROM series
WHERE
  ARRAY_LENGTH(
    LIST_FILTER(
      STR_SPLIT(series.TransferSyntaxUID, ','),
      LAMBDA _value : ARRAY_CONTAINS($p0, _value)
    )
  ) > 0
  AND ARRAY_LENGTH(
    LIST_FILTER(
      STR_SPLIT(series.transfer_syntax_name, ','),
      LAMBDA _value : _value <> $p1 AND _value LIKE $p2 ESCAPE '\'
    )
  ) > 0
  AND NOT (
    series.PhotometricInterpretation IS NULL
  )
  AND ARRAY_LENGTH(
    LIST_FILTER(STR_SPLIT(series.PhotometricInterpretation, ','), LAMBDA _value : _value = $p3)
  ) > 0
  AND NOT COALESCE(
    ARRAY_LENGTH(
      LIST_FILTER(STR_SPLIT(series.PixelRepresentation, ','), LAMBDA _value : _value = $p4)
    ) > 0,
    FALSE
  )
  AND (
    ARRAY_LENGTH(
      LIST_FILTER(
        STR_SPLIT(series.PhotometricInterpretation, ','),
        LAMBDA _value : REGEXP_MATCHES(_value, $p5)
      )
    ) > 0
    OR ARRAY_LENGTH(
      LIST_FILTER(
        STR_SPLIT(series.TransferSyntaxUID, ','),
        LAMBDA _value : NOT ARRAY_CONTAINS($p6, _value)
      )
    ) > 0
  )
ORDER BY
  _row ASC
