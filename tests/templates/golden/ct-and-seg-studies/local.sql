SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  COUNT_IF(Modality = 'CT') AS ct_series,
  COUNT_IF(Modality = 'SEG') AS seg_series
FROM idc_index
WHERE
  CAST($collection_id AS TEXT) IS NULL
  OR collection_id = CAST($collection_id AS TEXT)
GROUP BY
  collection_id,
  PatientID,
  StudyInstanceUID
HAVING
  COUNT_IF(Modality = 'CT') > 0 AND COUNT_IF(Modality = 'SEG') > 0
ORDER BY
  collection_id NULLS FIRST,
  PatientID NULLS FIRST,
  StudyInstanceUID NULLS FIRST
-- parameters: {"collection_id": null}
