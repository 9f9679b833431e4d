-- name: license-breakdown
-- description: Series, collections and size under each license, for all of IDC or for the
--   collections listed: what a cohort drawn from them may be used for.
-- param collections ARRAY<STRING> DEFAULT []: collection_ids to count (empty: every one)
SELECT
  license_short_name,
  COUNT(DISTINCT collection_id) AS collections,
  COUNT(*) AS series,
  ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb
FROM idc_index
WHERE ARRAY_LENGTH(@collections) = 0 OR collection_id IN UNNEST(@collections)
GROUP BY license_short_name
ORDER BY series DESC, license_short_name
