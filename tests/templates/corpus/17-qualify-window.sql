-- expect: ok
SELECT PatientID, StudyInstanceUID, StudyDate
FROM idc_index
WHERE collection_id = @collection
QUALIFY ROW_NUMBER() OVER (PARTITION BY PatientID ORDER BY StudyDate) = 1
