-- expect: ok
SELECT
  SeriesInstanceUID,
  seg.SegmentLabel AS label,
  prop.CodeMeaning AS property_type
FROM `bigquery-public-data.idc_current.dicom_all`
CROSS JOIN UNNEST(SegmentSequence) AS seg
CROSS JOIN UNNEST(seg.SegmentedPropertyTypeCodeSequence) AS prop
WHERE Modality = 'SEG'
