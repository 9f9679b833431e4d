-- expect: ok
SELECT
  SeriesInstanceUID,
  ANY_VALUE(collection_id) AS collection_id,
  COUNT(*) AS instances,
  SUM(instance_size) / POW(1024, 2) AS size_mib,
  MIN(SAFE_CAST(SliceThickness AS FLOAT64)) AS thinnest
FROM `bigquery-public-data.idc_current.dicom_all`
WHERE Modality = 'CT'
GROUP BY SeriesInstanceUID
HAVING thinnest <= @max_thickness
