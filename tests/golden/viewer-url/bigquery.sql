WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    ANY_VALUE(
      CASE
        WHEN dicom_all.Modality = 'SM'
        THEN 'https://viewer.imaging.datacommons.cancer.gov/slim/studies/' || dicom_all.StudyInstanceUID || '/series/' || dicom_all.SeriesInstanceUID
        ELSE 'https://viewer.imaging.datacommons.cancer.gov/v3/viewer/?StudyInstanceUIDs=' || dicom_all.StudyInstanceUID || '&initialSeriesInstanceUID=' || dicom_all.SeriesInstanceUID
      END
    ) AS `viewer_url`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  WHERE
    dicom_all.collection_id IN UNNEST(@p0)
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `SeriesInstanceUID`,
  `Modality`,
  `viewer_url`,
  `collection_id`,
  `PatientID`,
  `StudyInstanceUID`,
  `series_size_MB`,
  `aws_bucket`,
  `crdc_series_uuid`,
  `instanceCount`
FROM series
WHERE
  series.collection_id IN UNNEST(@p0)
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
