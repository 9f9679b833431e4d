WITH series AS (
  SELECT
    PatientID AS "PatientID",
    PatientAge AS "PatientAge",
    TRY_CAST(SUBSTRING(PatientAge, 1, 3) AS DOUBLE) / (
      CASE SUBSTRING(PatientAge, 4, 1)
        WHEN 'Y'
        THEN 1
        WHEN 'M'
        THEN 12
        WHEN 'W'
        THEN 52.1775
        WHEN 'D'
        THEN 365.25
      END
    ) AS "patient_age_years",
    SeriesInstanceUID AS "SeriesInstanceUID",
    collection_id AS "collection_id",
    StudyInstanceUID AS "StudyInstanceUID",
    series_size_MB AS "series_size_MB",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    PatientSex AS "PatientSex",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "PatientID",
  "PatientAge",
  "patient_age_years",
  "SeriesInstanceUID",
  "collection_id",
  "StudyInstanceUID",
  "series_size_MB",
  "aws_bucket",
  "crdc_series_uuid",
  "Modality",
  "instanceCount"
FROM series
WHERE
  (
    series.patient_age_years < $p0 AND series.patient_age_years >= $p1
  )
  AND series.PatientSex = $p2
ORDER BY
  _row ASC
