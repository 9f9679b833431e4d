-- expect: refused: a template reads one release
SELECT SeriesInstanceUID FROM `bigquery-public-data.idc_v24.dicom_all`
EXCEPT DISTINCT
SELECT SeriesInstanceUID FROM `bigquery-public-data.idc_v25.dicom_all`
