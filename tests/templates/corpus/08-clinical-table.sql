-- expect: ok
SELECT dicom_patient_id, race
FROM `bigquery-public-data.idc_current_clinical.nlst_prsn`
WHERE age >= 60
