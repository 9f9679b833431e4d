-- name: releases
-- description: IDC's data releases and the dates they were made, from a release on (the
--   date as text: BigQuery holds a timestamp, the local index a date).
-- param from_version INT64 DEFAULT 1: the first release to list
SELECT
  idc_version,
  CAST(DATE(version_timestamp) AS STRING) AS release_date
FROM version_metadata_index
WHERE idc_version >= @from_version
ORDER BY idc_version
