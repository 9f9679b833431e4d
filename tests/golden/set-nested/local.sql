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
    (
      SELECT
        SeriesInstanceUID
      FROM series
      WHERE
        series.SeriesInstanceUID IN (
          (
            SELECT
              SeriesInstanceUID
            FROM series
            WHERE
              series.Modality = $p0
          )
          INTERSECT
          (
            SELECT
              SeriesInstanceUID
            FROM series
            WHERE
              series.PatientSex = $p1 AND REGEXP_MATCHES(series.collection_id, $p2)
          )
        )
    )
    UNION
    (
      SELECT
        SeriesInstanceUID
      FROM series
      WHERE
        series.Modality = $p3
    )
  )
ORDER BY
  _row ASC
