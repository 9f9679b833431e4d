SELECT
  Modality,
  COUNT(DISTINCT PatientID) AS patients,
  COUNT(DISTINCT StudyInstanceUID) AS studies,
  COUNT(*) AS series,
  ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb
FROM idc_index
WHERE
  collection_id = CAST($collection_id AS TEXT)
GROUP BY
  Modality
ORDER BY
  series DESC,
  Modality NULLS FIRST
-- parameters: {"collection_id": "nlst"}
