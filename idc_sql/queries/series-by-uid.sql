-- name: series-by-uid
-- description: The series named by their SeriesInstanceUID, as a cohort (a manifest to
--   download them); UIDs that IDC does not hold are simply not returned.
-- param uids ARRAY<STRING>: the SeriesInstanceUIDs
SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID,
  Modality,
  instanceCount,
  series_size_MB,
  aws_bucket,
  crdc_series_uuid
FROM idc_index
WHERE SeriesInstanceUID IN UNNEST(@uids)
ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID
