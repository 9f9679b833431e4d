WITH series AS (
  SELECT
    SeriesInstanceUID AS "SeriesInstanceUID",
    Modality AS "Modality",
    CASE
      WHEN Modality = 'SM'
      THEN 'https://viewer.imaging.datacommons.cancer.gov/slim/studies/' || StudyInstanceUID || '/series/' || SeriesInstanceUID
      ELSE 'https://viewer.imaging.datacommons.cancer.gov/v3/viewer/?StudyInstanceUIDs=' || StudyInstanceUID || '&initialSeriesInstanceUID=' || SeriesInstanceUID
    END AS "viewer_url",
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
  "Modality",
  "viewer_url",
  "collection_id",
  "PatientID",
  "StudyInstanceUID",
  "series_size_MB",
  "aws_bucket",
  "crdc_series_uuid",
  "instanceCount"
FROM series
WHERE
  ARRAY_CONTAINS($p0, series.collection_id)
ORDER BY
  _row ASC
