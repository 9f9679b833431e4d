-- name: rtstruct-roi-names
-- description: ROI names of RTSTRUCT series (from IDC's rtstruct_index), how many series
--   name each, and the modality of the series they are drawn on.
-- param collection_id STRING DEFAULT NULL: one collection (NULL: every one)
SELECT
  i.collection_id,
  roi_name,
  ref.Modality AS referenced_modality,
  COUNT(DISTINCT r.SeriesInstanceUID) AS rtstruct_series
FROM rtstruct_index AS r
CROSS JOIN UNNEST(r.ROINames) AS roi_name
JOIN idc_index AS i ON i.SeriesInstanceUID = r.SeriesInstanceUID
LEFT JOIN idc_index AS ref ON ref.SeriesInstanceUID = r.referenced_SeriesInstanceUID
WHERE @collection_id IS NULL OR i.collection_id = @collection_id
GROUP BY i.collection_id, roi_name, referenced_modality
ORDER BY i.collection_id, rtstruct_series DESC, roi_name
