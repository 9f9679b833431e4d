-- name: collections-by-modality
-- description: Series, patients and size of every collection, by modality; all modalities,
--   or only those listed.
-- param modalities ARRAY<STRING> DEFAULT []: the modalities to count (empty: every one)
SELECT
  collection_id,
  Modality,
  COUNT(DISTINCT PatientID) AS patients,
  COUNT(*) AS series,
  ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb
FROM idc_index
WHERE ARRAY_LENGTH(@modalities) = 0 OR Modality IN UNNEST(@modalities)
GROUP BY collection_id, Modality
ORDER BY collection_id, Modality
