-- name: collection-summary
-- description: One collection at a glance: patients, studies, series and size by modality.
-- param collection_id STRING DEFAULT 'nlst': the collection (collection_id, e.g. nlst,
--   tcga_luad); idc-sql fields collection_id and collections_index list them
SELECT
  Modality,
  COUNT(DISTINCT PatientID) AS patients,
  COUNT(DISTINCT StudyInstanceUID) AS studies,
  COUNT(*) AS series,
  ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb
FROM idc_index
WHERE collection_id = @collection_id
GROUP BY Modality
ORDER BY series DESC, Modality
