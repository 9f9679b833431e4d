WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`,
    ANY_VALUE(dicom_all.license_short_name) AS `license_short_name`,
    ANY_VALUE(curated.BodyPartExamined) AS `BodyPartExamined`
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  LEFT JOIN `bigquery-public-data`.`idc_current`.`dicom_metadata_curated` AS curated
    ON dicom_all.SOPInstanceUID = curated.SOPInstanceUID
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `collection_id`,
  `SeriesInstanceUID`,
  `series_size_MB`,
  `PatientID`,
  `StudyInstanceUID`,
  `aws_bucket`,
  `crdc_series_uuid`,
  `Modality`,
  `instanceCount`,
  `license_short_name`
FROM series
WHERE
  series.Modality = @p0
  AND series.BodyPartExamined = @p1
  AND series.license_short_name IN UNNEST(@p2)
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
