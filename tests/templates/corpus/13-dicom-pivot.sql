-- expect: ok
SELECT collection_id, Modality, COUNT(DISTINCT SeriesInstanceUID) AS series
FROM `bigquery-public-data.idc_current.dicom_pivot`
GROUP BY collection_id, Modality
