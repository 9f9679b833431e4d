SELECT
  analysis_result_id,
  analysis_result_title,
  modalities,
  subjects,
  license_short_name,
  source_DOI
FROM analysis_results_index
WHERE
  CASE
    WHEN STR_SPLIT(REPLACE(collections, ' ', ''), ',') IS NULL
    OR ARRAY_LENGTH(STR_SPLIT(REPLACE(collections, ' ', ''), ',')) = 0
    THEN FALSE
    WHEN ARRAY_CONTAINS(STR_SPLIT(REPLACE(collections, ' ', ''), ','), CAST($collection_id AS TEXT))
    THEN TRUE
    WHEN CAST($collection_id AS TEXT) IS NULL
    OR ARRAY_LENGTH(STR_SPLIT(REPLACE(collections, ' ', ''), ',')) <> LIST_COUNT(STR_SPLIT(REPLACE(collections, ' ', ''), ','))
    THEN NULL
    ELSE FALSE
  END
ORDER BY
  analysis_result_id NULLS FIRST
-- parameters: {"collection_id": "nlst"}
