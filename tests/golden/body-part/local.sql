WITH series AS (
  SELECT
    SeriesInstanceUID AS "SeriesInstanceUID",
    BodyPartExamined AS "BodyPartExamined",
    Modality AS "Modality",
    collection_id AS "collection_id",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    series_size_MB AS "series_size_MB",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    instanceCount AS "instanceCount",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "SeriesInstanceUID",
  "BodyPartExamined",
  "Modality",
  "collection_id",
  "PatientID",
  "StudyInstanceUID",
  "series_size_MB",
  "aws_bucket",
  "crdc_series_uuid",
  "instanceCount"
FROM series
WHERE
  ARRAY_CONTAINS($p0, series.BodyPartExamined) AND series.Modality = $p1
ORDER BY
  _row ASC
