WITH seg_studies AS (
  SELECT DISTINCT
    StudyInstanceUID
  FROM idc_index
  WHERE
    Modality = 'SEG'
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
JOIN seg_studies
  USING (StudyInstanceUID)
WHERE
  Modality = 'CT'
  AND (
    CAST($collection_id AS TEXT) IS NULL
    OR collection_id = CAST($collection_id AS TEXT)
  )
ORDER BY
  collection_id NULLS FIRST,
  PatientID NULLS FIRST,
  StudyInstanceUID NULLS FIRST,
  SeriesInstanceUID NULLS FIRST
LIMIT CAST($max_series AS BIGINT)
-- parameters: {"collection_id": null, "max_series": 1000}
