-- name: slides-by-stain
-- description: Slide microscopy (SM) series by staining substance and tissue (from IDC's
--   sm_index), per collection.
-- param stain STRING DEFAULT NULL: one staining substance's code meaning, e.g.
--   hematoxylin stain (NULL: every one)
SELECT
  i.collection_id,
  stain,
  sm.primaryAnatomicStructure_CodeMeaning AS tissue,
  COUNT(*) AS sm_series
FROM sm_index AS sm
CROSS JOIN UNNEST(sm.staining_usingSubstance_CodeMeaning) AS stain
JOIN idc_index AS i USING (SeriesInstanceUID)
WHERE @stain IS NULL OR stain = @stain
GROUP BY i.collection_id, stain, tissue
ORDER BY i.collection_id, stain, tissue
