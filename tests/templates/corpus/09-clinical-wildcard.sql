-- expect: ok
SELECT _TABLE_SUFFIX AS table_name, COUNT(*) AS n
FROM `bigquery-public-data.idc_v24_clinical.nlst_*`
GROUP BY table_name
