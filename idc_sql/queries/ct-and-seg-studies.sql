-- name: ct-and-seg-studies
-- description: Studies that hold both a CT and a segmentation (SEG) series, with how many
--   of each: where segmented CT is.
-- param collection_id STRING DEFAULT NULL: one collection (NULL: every one)
SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  COUNTIF(Modality = 'CT') AS ct_series,
  COUNTIF(Modality = 'SEG') AS seg_series
FROM idc_index
WHERE @collection_id IS NULL OR collection_id = @collection_id
GROUP BY collection_id, PatientID, StudyInstanceUID
HAVING COUNTIF(Modality = 'CT') > 0 AND COUNTIF(Modality = 'SEG') > 0
ORDER BY collection_id, PatientID, StudyInstanceUID
