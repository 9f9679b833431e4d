-- expect: refused: EXPORT writes files
EXPORT DATA OPTIONS (uri = 'gs://my-bucket/manifest-*.csv', format = 'CSV') AS
SELECT series_aws_url FROM `bigquery-public-data.idc_current.dicom_all`
