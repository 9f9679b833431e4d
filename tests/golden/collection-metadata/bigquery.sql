WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    ANY_VALUE(dicom_all.collection_name) AS `collection_name`,
    ANY_VALUE(dicom_all.collection_cancerType) AS `collection_cancerType`,
    ANY_VALUE(dicom_all.collection_species) AS `collection_species`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`,
    ANY_VALUE(dicom_all.collection_tumorLocation) AS `collection_tumorLocation`
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `SeriesInstanceUID`,
  `collection_name`,
  `collection_cancerType`,
  `collection_species`,
  `collection_id`,
  `PatientID`,
  `StudyInstanceUID`,
  `series_size_MB`,
  `aws_bucket`,
  `crdc_series_uuid`,
  `Modality`,
  `instanceCount`
FROM series
WHERE
  EXISTS(
    SELECT
      1
    FROM UNNEST(SPLIT(series.collection_cancerType, ', ')) AS _value
    WHERE
      LOWER(_value) LIKE LOWER(@p0)
  )
  AND EXISTS(
    SELECT
      1
    FROM UNNEST(SPLIT(series.collection_tumorLocation, ', ')) AS _value
    WHERE
      _value IN UNNEST(@p1)
  )
  AND EXISTS(
    SELECT
      1
    FROM UNNEST(SPLIT(series.collection_species, ', ')) AS _value
    WHERE
      _value = @p2
  )
  AND NOT COALESCE(series.collection_name IN UNNEST(@p3), FALSE)
  AND series.Modality = @p4
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
