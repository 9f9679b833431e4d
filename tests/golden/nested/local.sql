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
    StudyDescription AS "StudyDescription",
    PatientSex AS "PatientSex",
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
  AND NOT COALESCE(
    EXISTS(
      SELECT
        1
      FROM series AS s1
      WHERE
        s1.StudyInstanceUID = series.StudyInstanceUID
        AND (
          s1.Modality = $p1
          OR (
            s1.Modality = $p2 AND NOT (
              s1.StudyDescription IS NULL
            )
          )
        )
    ),
    FALSE
  )
  AND EXISTS(
    SELECT
      1
    FROM series AS s2
    WHERE
      s2.collection_id = series.collection_id
      AND s2.PatientID = series.PatientID
      AND NOT COALESCE(s2.PatientSex IS NULL, FALSE)
  )
ORDER BY
  _row ASC
