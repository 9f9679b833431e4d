-- name: analysis-results-of-collection
-- description: Analysis results (segmentations, annotations, measurements made by others)
--   that analyze a collection, with their modalities, license and DOI.
-- param collection_id STRING DEFAULT 'nlst': the collection analyzed
SELECT
  analysis_result_id,
  analysis_result_title,
  modalities,
  subjects,
  license_short_name,
  source_DOI
FROM analysis_results_index
WHERE @collection_id IN UNNEST(SPLIT(REPLACE(collections, ' ', ''), ','))
ORDER BY analysis_result_id
