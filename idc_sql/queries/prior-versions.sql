-- name: prior-versions
-- description: Earlier versions of the series of a collection that IDC revised or removed,
--   with the releases that served each version (local engine: IDC builds this index with a
--   script, which BigQuery runs only as IDC's build does).
-- param collection_id STRING DEFAULT 'nlst': the collection
SELECT
  collection_id,
  SeriesInstanceUID,
  Modality,
  crdc_series_uuid,
  min_idc_version,
  max_idc_version,
  series_size_MB
FROM prior_versions_index
WHERE collection_id = @collection_id
ORDER BY SeriesInstanceUID, min_idc_version, crdc_series_uuid
