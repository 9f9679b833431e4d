-- expect: ok
SELECT c.SeriesInstanceUID, c.SliceThickness
FROM `bigquery-public-data.idc_current.dicom_metadata_curated` AS c
WHERE c.SliceThickness < 1
