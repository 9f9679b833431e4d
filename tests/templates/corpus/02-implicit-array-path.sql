-- expect: ok
SELECT d.SOPInstanceUID, code.CodeMeaning AS anatomy
FROM `bigquery-public-data.idc_v22.dicom_all` AS d, d.AnatomicRegionSequence AS code
