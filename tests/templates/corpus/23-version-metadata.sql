-- expect: ok
SELECT idc_version, version_timestamp FROM `bigquery-public-data.idc_current.version_metadata`
