-- expect: ok
SELECT SeriesInstanceUID, ANY_VALUE(SeriesDescription) AS description
FROM `bigquery-public-data.idc_v18.dicom_all`
WHERE collection_id = 'tcga_luad'
GROUP BY SeriesInstanceUID
