-- expect: ok
SELECT collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID, series_size_MB,
  aws_bucket, crdc_series_uuid
FROM idc_index
WHERE BodyPartExamined = 'CHEST' AND Modality = 'CT'
