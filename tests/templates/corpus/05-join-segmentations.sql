-- expect: ok
SELECT s.SeriesInstanceUID, s.SegmentedPropertyType.CodeMeaning AS type, d.collection_id
FROM `bigquery-public-data.idc_current.segmentations` AS s
JOIN `bigquery-public-data.idc_current.dicom_all` AS d USING (SOPInstanceUID)
WHERE s.SegmentedPropertyType.CodeMeaning = @structure
