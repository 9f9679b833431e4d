SELECT
  collection_id,
  SeriesInstanceUID,
  Modality,
  crdc_series_uuid,
  min_idc_version,
  max_idc_version,
  series_size_MB
FROM prior_versions_index
WHERE
  collection_id = CAST($collection_id AS TEXT)
ORDER BY
  SeriesInstanceUID NULLS FIRST,
  min_idc_version NULLS FIRST,
  crdc_series_uuid NULLS FIRST
-- parameters: {"collection_id": "nlst"}
