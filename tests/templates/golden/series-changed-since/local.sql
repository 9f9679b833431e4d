SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID,
  Modality,
  CASE
    WHEN series_init_idc_version > CAST($since AS BIGINT)
    THEN 'added'
    ELSE 'revised'
  END AS change,
  series_init_idc_version,
  series_revised_idc_version,
  series_size_MB,
  aws_bucket,
  crdc_series_uuid
FROM idc_index
WHERE
  series_revised_idc_version > CAST($since AS BIGINT)
  AND (
    CAST($collection_id AS TEXT) IS NULL
    OR collection_id = CAST($collection_id AS TEXT)
  )
ORDER BY
  collection_id NULLS FIRST,
  PatientID NULLS FIRST,
  StudyInstanceUID NULLS FIRST,
  SeriesInstanceUID NULLS FIRST
-- parameters: {"collection_id": null, "since": 24}
