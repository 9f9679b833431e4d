WITH version_metadata_index AS (
  SELECT
    idc_version,
    version_timestamp
  FROM `bigquery-public-data`.`idc_current`.`version_metadata`
)
SELECT
  idc_version,
  CAST(DATE(version_timestamp) AS STRING) AS release_date
FROM version_metadata_index
WHERE
  idc_version >= @from_version
ORDER BY
  idc_version
-- parameters: {"from_version": 1}
