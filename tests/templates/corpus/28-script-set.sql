-- expect: refused: SET is BigQuery scripting
DECLARE latest INT64;
SET latest = (SELECT MAX(idc_version) FROM `bigquery-public-data.idc_current.version_metadata`);
SELECT latest AS latest
