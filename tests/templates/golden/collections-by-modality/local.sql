SELECT
  collection_id,
  Modality,
  COUNT(DISTINCT PatientID) AS patients,
  COUNT(*) AS series,
  ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb
FROM idc_index
WHERE
  ARRAY_LENGTH(CAST($modalities AS TEXT[])) = 0
  OR CASE
    WHEN CAST($modalities AS TEXT[]) IS NULL
    OR ARRAY_LENGTH(CAST($modalities AS TEXT[])) = 0
    THEN FALSE
    WHEN ARRAY_CONTAINS(CAST($modalities AS TEXT[]), Modality)
    THEN TRUE
    WHEN Modality IS NULL
    OR ARRAY_LENGTH(CAST($modalities AS TEXT[])) <> LIST_COUNT(CAST($modalities AS TEXT[]))
    THEN NULL
    ELSE FALSE
  END
GROUP BY
  collection_id,
  Modality
ORDER BY
  collection_id NULLS FIRST,
  Modality NULLS FIRST
-- parameters: {"modalities": []}
