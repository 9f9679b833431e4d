-- name: series-changed-since
-- description: Series added or revised after release N, with which of the two, as a
--   cohort: what to download to bring a copy made at release N up to date.
-- param since INT64 DEFAULT 24: the release the copy was made at
-- param collection_id STRING DEFAULT NULL: one collection (NULL: every one)
SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID,
  Modality,
  IF(series_init_idc_version > @since, 'added', 'revised') AS change,
  series_init_idc_version,
  series_revised_idc_version,
  series_size_MB,
  aws_bucket,
  crdc_series_uuid
FROM idc_index
WHERE series_revised_idc_version > @since
  AND (@collection_id IS NULL OR collection_id = @collection_id)
ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID
