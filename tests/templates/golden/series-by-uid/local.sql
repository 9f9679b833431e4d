SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID,
  Modality,
  instanceCount,
  series_size_MB,
  aws_bucket,
  crdc_series_uuid
FROM idc_index
WHERE
  CASE
    WHEN CAST($uids AS TEXT[]) IS NULL OR ARRAY_LENGTH(CAST($uids AS TEXT[])) = 0
    THEN FALSE
    WHEN ARRAY_CONTAINS(CAST($uids AS TEXT[]), SeriesInstanceUID)
    THEN TRUE
    WHEN SeriesInstanceUID IS NULL
    OR ARRAY_LENGTH(CAST($uids AS TEXT[])) <> LIST_COUNT(CAST($uids AS TEXT[]))
    THEN NULL
    ELSE FALSE
  END
ORDER BY
  collection_id NULLS FIRST,
  PatientID NULLS FIRST,
  StudyInstanceUID NULLS FIRST,
  SeriesInstanceUID NULLS FIRST
-- parameters: {"uids": ["1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860"]}
