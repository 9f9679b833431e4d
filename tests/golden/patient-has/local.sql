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
  EXISTS(
    SELECT
      1
    FROM series AS s1
    WHERE
      s1.collection_id = series.collection_id
      AND s1.PatientID = series.PatientID
      AND (
        s1.Modality = $p0 AND s1.collection_id LIKE $p1 ESCAPE '\'
      )
  )
ORDER BY
  _row ASC
