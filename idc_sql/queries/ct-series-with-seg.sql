-- name: ct-series-with-seg
-- description: CT series in studies that also hold a SEG series, as a cohort: the rows are
--   series, so the result can be written as a download manifest.
-- param collection_id STRING DEFAULT NULL: one collection (NULL: every one)
-- param max_series INT64 DEFAULT 1000: at most this many series
WITH seg_studies AS (
  SELECT DISTINCT StudyInstanceUID
  FROM idc_index
  WHERE Modality = 'SEG'
)
SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID,
  Modality,
  series_size_MB,
  aws_bucket,
  crdc_series_uuid
FROM idc_index
JOIN seg_studies USING (StudyInstanceUID)
WHERE Modality = 'CT' AND (@collection_id IS NULL OR collection_id = @collection_id)
ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID
LIMIT @max_series
