WITH series AS (
  SELECT
    SeriesInstanceUID AS "SeriesInstanceUID",
    BodyPartExamined AS "BodyPartExamined",
    series_size_MB AS "series_size_MB",
    collection_id AS "collection_id",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    file_row_number AS _row
  FROM idc_index
), _member0 AS (
  SELECT
    SeriesInstanceUID
  FROM series
  WHERE
    series.BodyPartExamined = $p0
), _member1 AS (
  SELECT
    SeriesInstanceUID
  FROM series
  WHERE
    series.Modality = $p1 AND series.instanceCount >= $p2
)
SELECT
  "SeriesInstanceUID",
  "BodyPartExamined",
  "series_size_MB",
  "collection_id",
  "PatientID",
  "StudyInstanceUID",
  "aws_bucket",
  "crdc_series_uuid",
  "Modality",
  "instanceCount"
FROM series
WHERE
  series.SeriesInstanceUID IN (
    SELECT
      SeriesInstanceUID
    FROM _member0
    INTERSECT
    SELECT
      SeriesInstanceUID
    FROM _member1
  )
ORDER BY
  _row ASC
