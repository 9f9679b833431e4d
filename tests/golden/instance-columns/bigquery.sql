WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    MIN(SAFE_CAST(dicom_all.SliceThickness AS FLOAT64)) AS `SliceThickness_min`,
    MAX(SAFE_CAST(dicom_all.SliceThickness AS FLOAT64)) AS `SliceThickness_max`,
    STRING_AGG(DISTINCT dicom_all.SliceThickness, ','
    ORDER BY
      dicom_all.SliceThickness) AS `SliceThickness_distinct`,
    STRING_AGG(
      DISTINCT CAST(dicom_all.`Rows` AS STRING), ','
      ORDER BY
        CAST(dicom_all.`Rows` AS STRING)
    ) AS `Rows_distinct`,
    STRING_AGG(
      DISTINCT ARRAY_TO_STRING(dicom_all.ImageType, '\\'), ','
      ORDER BY
        ARRAY_TO_STRING(dicom_all.ImageType, '\\')
    ) AS `ImageType_distinct`,
    MAX(SAFE_CAST(dicom_all.PixelSpacing[SAFE_OFFSET(0)] AS FLOAT64)) AS `PixelSpacing_0_max`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `SeriesInstanceUID`,
  `SliceThickness_min`,
  `SliceThickness_max`,
  `SliceThickness_distinct`,
  `Rows_distinct`,
  `ImageType_distinct`,
  `PixelSpacing_0_max`,
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
  series.Modality IN UNNEST(@p0)
ORDER BY
  `SliceThickness_max` DESC,
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
LIMIT @p1
