-- expect: ok
SELECT d.SeriesInstanceUID, ref.SeriesInstanceUID AS referenced
FROM `bigquery-public-data.idc_current.dicom_all` AS d,
  UNNEST(d.ReferencedSeriesSequence) AS ref
WHERE d.Modality = 'SEG'
