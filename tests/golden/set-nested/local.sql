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
    PatientSex AS "PatientSex",
    file_row_number AS _row
  FROM idc_index
), _member0 AS (
  SELECT
    SeriesInstanceUID
  FROM series
  WHERE
    series.Modality = $p0
), _member1 AS (
  SELECT
    SeriesInstanceUID
  FROM series
  WHERE
    series.PatientSex = $p1 AND REGEXP_MATCHES(series.collection_id, $p2)
), _member2 AS (
  SELECT
    SeriesInstanceUID
  FROM _member0
  INTERSECT
  SELECT
    SeriesInstanceUID
  FROM _member1
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
    FROM _member2
    UNION
    SELECT
      SeriesInstanceUID
    FROM _member0
  )
ORDER BY
  _row ASC
