-- expect: ok
SELECT DISTINCT CONCAT('cp s3://', aws_bucket, '/', crdc_series_uuid, '/* .') AS manifest_line
FROM `bigquery-public-data.idc_current.dicom_all`
WHERE collection_id IN UNNEST(@collections) AND Modality = 'CT'
