SELECT
  idc_version,
  version_timestamp
FROM version_metadata_index
WHERE
  idc_version >= CAST($from_version AS BIGINT)
ORDER BY
  idc_version NULLS FIRST
-- parameters: {"from_version": 1}
