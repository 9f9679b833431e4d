-- name: releases
-- description: IDC's data releases and the dates they were made, from a release on.
-- param from_version INT64 DEFAULT 1: the first release to list
SELECT
  idc_version,
  version_timestamp
FROM version_metadata_index
WHERE idc_version >= @from_version
ORDER BY idc_version
