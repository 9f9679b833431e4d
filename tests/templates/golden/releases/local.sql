SELECT
  idc_version,
  CAST(CAST(version_timestamp AS DATE) AS TEXT) AS release_date
FROM version_metadata_index
WHERE
  idc_version >= CAST($from_version AS BIGINT)
ORDER BY
  idc_version NULLS FIRST
-- parameters: {"from_version": 1}
