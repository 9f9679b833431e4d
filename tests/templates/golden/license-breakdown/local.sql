SELECT
  license_short_name,
  COUNT(DISTINCT collection_id) AS collections,
  COUNT(*) AS series,
  ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb
FROM idc_index
WHERE
  ARRAY_LENGTH(CAST($collections AS TEXT[])) = 0
  OR CASE
    WHEN CAST($collections AS TEXT[]) IS NULL
    OR ARRAY_LENGTH(CAST($collections AS TEXT[])) = 0
    THEN FALSE
    WHEN ARRAY_CONTAINS(CAST($collections AS TEXT[]), collection_id)
    THEN TRUE
    WHEN collection_id IS NULL
    OR ARRAY_LENGTH(CAST($collections AS TEXT[])) <> LIST_COUNT(CAST($collections AS TEXT[]))
    THEN NULL
    ELSE FALSE
  END
GROUP BY
  license_short_name
ORDER BY
  series DESC,
  license_short_name NULLS FIRST
-- parameters: {"collections": []}
