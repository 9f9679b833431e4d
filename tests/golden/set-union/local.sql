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
    file_row_number AS _row
  FROM idc_index
), _member0 AS (
  SELECT
    SeriesInstanceUID
  FROM series
  WHERE
    series.collection_id = $p0 AND series.Modality = $p1
), _member1 AS (
  SELECT
    SeriesInstanceUID
  FROM series
  WHERE
    series.collection_id LIKE $p2 ESCAPE '\' AND series.Modality = $p3
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
  series.SeriesInstanceUID IN (
    SELECT
      SeriesInstanceUID
    FROM _member0
    UNION
    SELECT
      SeriesInstanceUID
    FROM _member1
  )
ORDER BY
  "instanceCount" DESC,
  _row ASC
LIMIT $p4
