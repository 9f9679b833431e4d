SELECT
  d.collection_id,
  s.SegmentedPropertyType.CodeMeaning AS property_type,
  COUNT(*) AS segments,
  COUNT(DISTINCT s.SeriesInstanceUID) AS seg_series
FROM `bigquery-public-data`.`idc_current`.`segmentations` AS s
JOIN (
  SELECT DISTINCT
    SOPInstanceUID,
    collection_id
  FROM `bigquery-public-data`.`idc_current`.`dicom_all`
  WHERE
    Modality = 'SEG'
) AS d
  USING (SOPInstanceUID)
WHERE
  @property_type IS NULL OR s.SegmentedPropertyType.CodeMeaning = @property_type
GROUP BY
  d.collection_id,
  property_type
ORDER BY
  d.collection_id,
  property_type
-- parameters: {"property_type": null}
