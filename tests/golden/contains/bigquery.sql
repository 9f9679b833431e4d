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
    LOGICAL_OR(
      EXISTS(
        SELECT
          1
        FROM UNNEST(dicom_all.ImageType) AS _col
        WHERE
          _col = @p0
      )
    ) AS _match0,
    LOGICAL_OR(
      EXISTS(
        SELECT
          1
        FROM UNNEST(dicom_all.PixelSpacing) AS _col
        WHERE
          _col = @p1
      )
    ) AS _match1,
    LOGICAL_OR(
      EXISTS(
        SELECT
          1
        FROM UNNEST(dicom_all.ConvolutionKernel) AS _col
        WHERE
          _col = @p2
      )
    ) AS _match2,
    LOGICAL_OR(
      dicom_all.ConvolutionKernel IS NULL
      OR ARRAY_LENGTH(dicom_all.ConvolutionKernel) = 0
    ) AS _match3
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
  series._match0 AND series._match1 AND (
    series._match2 OR series._match3
  )
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
