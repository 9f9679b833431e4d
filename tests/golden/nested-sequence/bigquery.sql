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
        FROM UNNEST(dicom_all.StructureSetROISequence) AS _e1
        WHERE
          LOWER(_e1.ROIName) LIKE LOWER(@p0) AND SAFE_CAST(_e1.ROINumber AS FLOAT64) <= @p1
      )
    ) AS _match0,
    LOGICAL_OR(
      EXISTS(
        SELECT
          1
        FROM UNNEST(dicom_all.StructureSetROISequence) AS _e1
        WHERE
          EXISTS(
            SELECT
              1
            FROM UNNEST(_e1.OtherElements) AS _e2
            WHERE
              _e2.Tag = @p2
              AND EXISTS(
                SELECT
                  1
                FROM UNNEST(_e2.Data) AS _e3
                WHERE
                  _e3 IN UNNEST(@p3)
              )
          )
      )
    ) AS _match1,
    LOGICAL_OR(
      EXISTS(
        SELECT
          1
        FROM UNNEST(dicom_all.OtherElements) AS _e1
        WHERE
          _e1.Tag LIKE @p4 AND NOT (
            _e1.Data IS NULL OR ARRAY_LENGTH(_e1.Data) = 0
          )
      )
    ) AS _match2
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
  series.Modality = @p5
  AND series._match0
  AND NOT COALESCE(series._match1, FALSE)
  AND series._match2
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
