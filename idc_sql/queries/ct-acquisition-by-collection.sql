-- name: ct-acquisition-by-collection
-- description: CT acquisition parameters by collection: series, slice thickness range,
--   tube voltages (KVP) and reconstruction kernels, read from every CT instance.
-- param collections ARRAY<STRING> DEFAULT []: collection_ids (empty: every one)
SELECT
  collection_id,
  COUNT(DISTINCT SeriesInstanceUID) AS ct_series,
  MIN(SAFE_CAST(SliceThickness AS FLOAT64)) AS min_slice_thickness_mm,
  MAX(SAFE_CAST(SliceThickness AS FLOAT64)) AS max_slice_thickness_mm,
  STRING_AGG(DISTINCT KVP, ', ' ORDER BY KVP) AS kvp_values,
  STRING_AGG(DISTINCT kernel, ', ' ORDER BY kernel) AS kernels
FROM `bigquery-public-data.idc_current.dicom_all`
LEFT JOIN UNNEST(ConvolutionKernel) AS kernel
WHERE Modality = 'CT'
  AND (ARRAY_LENGTH(@collections) = 0 OR collection_id IN UNNEST(@collections))
GROUP BY collection_id
ORDER BY collection_id
