WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    LOGICAL_AND(COALESCE(dicom_all.TransferSyntaxUID IN UNNEST(@p0), FALSE)) AS _match0,
    LOGICAL_AND(COALESCE(LOWER(dicom_all.PhotometricInterpretation) LIKE LOWER(@p1), FALSE)) AS _match1
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `collection_id`,
  `PatientID`,
  `StudyInstanceUID`,
  `SeriesInstanceUID`,
  `Modality`,
  `instanceCount`,
  `series_size_MB`,
  `aws_bucket`,
  `crdc_series_uuid`
FROM series
WHERE
  series.Modality = @p2 AND series._match0 AND series._match1
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
