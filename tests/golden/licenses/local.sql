WITH series AS (
  SELECT
    collection_id AS "collection_id",
    SeriesInstanceUID AS "SeriesInstanceUID",
    series_size_MB AS "series_size_MB",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    license_short_name AS "license_short_name",
    BodyPartExamined AS "BodyPartExamined",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "collection_id",
  "SeriesInstanceUID",
  "series_size_MB",
  "PatientID",
  "StudyInstanceUID",
  "aws_bucket",
  "crdc_series_uuid",
  "Modality",
  "instanceCount",
  "license_short_name"
FROM series
WHERE
  series.Modality = $p0
  AND series.BodyPartExamined = $p1
  AND ARRAY_CONTAINS($p2, series.license_short_name)
ORDER BY
  _row ASC
