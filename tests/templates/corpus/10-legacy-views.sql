-- expect: ok
SELECT collection_id, COUNT(DISTINCT PatientID) AS patients
FROM `canceridc-data.idc_views.dicom_all`
GROUP BY collection_id
