-- expect: refused: CREATE creates, changes or drops objects
CREATE TEMP TABLE ct AS SELECT * FROM `bigquery-public-data.idc_current.dicom_all`;
SELECT * FROM ct
