WITH seg AS (
  SELECT DISTINCT
    d.collection_id,
    d.PatientID,
    d.StudyInstanceUID,
    d.SeriesInstanceUID AS seg_series_uid,
    ref.SeriesInstanceUID AS source_series_uid
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS d
  CROSS JOIN UNNEST(d.ReferencedSeriesSequence) AS ref
  WHERE
    d.Modality = 'SEG'
    AND (
      @collection_id IS NULL OR d.collection_id = @collection_id
    )
), sources AS (
  SELECT DISTINCT
    SeriesInstanceUID,
    Modality
  FROM `bigquery-public-data`.`idc_current`.`dicom_all`
)
SELECT
  seg.collection_id,
  seg.PatientID,
  seg.StudyInstanceUID,
  seg.seg_series_uid,
  seg.source_series_uid,
  sources.Modality AS source_modality
FROM seg
LEFT JOIN sources
  ON sources.SeriesInstanceUID = seg.source_series_uid
ORDER BY
  seg.collection_id,
  seg.PatientID,
  seg.seg_series_uid,
  seg.source_series_uid
-- parameters: {"collection_id": null}
