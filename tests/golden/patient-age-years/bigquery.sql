WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(NULLIF(dicom_all.PatientAge, '')) AS `PatientAge`,
    ANY_VALUE(
      SAFE_CAST(SUBSTRING(NULLIF(dicom_all.PatientAge, ''), 1, 3) AS FLOAT64) / (
        CASE SUBSTRING(NULLIF(dicom_all.PatientAge, ''), 4, 1)
          WHEN 'Y'
          THEN 1
          WHEN 'M'
          THEN 12
          WHEN 'W'
          THEN 52.1775
          WHEN 'D'
          THEN 365.25
        END
      )
    ) AS `patient_age_years`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`,
    ANY_VALUE(dicom_all.PatientSex) AS `PatientSex`
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `PatientID`,
  `PatientAge`,
  `patient_age_years`,
  `SeriesInstanceUID`,
  `collection_id`,
  `StudyInstanceUID`,
  `series_size_MB`,
  `aws_bucket`,
  `crdc_series_uuid`,
  `Modality`,
  `instanceCount`
FROM series
WHERE
  (
    series.patient_age_years < @p0 AND series.patient_age_years >= @p1
  )
  AND series.PatientSex = @p2
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
