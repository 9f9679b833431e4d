WITH segment_references AS (
  SELECT
    dicom_all.SeriesInstanceUID AS seg_series,
    segmented_series
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  CROSS JOIN UNNEST(ARRAY_CONCAT(
    ARRAY(
      SELECT
        e0.SeriesInstanceUID
      FROM UNNEST(dicom_all.ReferencedSeriesSequence) AS e0
    ),
    ARRAY(
      SELECT
        e2.SeriesInstanceUID
      FROM UNNEST(dicom_all.ReferencedFrameOfReferenceSequence) AS e0
      CROSS JOIN UNNEST(e0.RTReferencedStudySequence) AS e1
      CROSS JOIN UNNEST(e1.RTReferencedSeriesSequence) AS e2
    )
  )) AS segmented_series
  WHERE
    dicom_all.SOPClassUID IN (
      '1.2.840.10008.5.1.4.1.1.66.4',
      '1.2.840.10008.5.1.4.1.1.66.7',
      '1.2.840.10008.5.1.4.1.1.481.3'
    )
  UNION DISTINCT
  SELECT
    dicom_all.SeriesInstanceUID AS seg_series,
    image.SeriesInstanceUID AS segmented_series
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  CROSS JOIN UNNEST(IF(
    ARRAY_LENGTH(
      ARRAY(
        SELECT
          e0.ReferencedSOPInstanceUID
        FROM UNNEST(dicom_all.ReferencedImageSequence) AS e0
      )
    ) > 0,
    ARRAY(
      SELECT
        e0.ReferencedSOPInstanceUID
      FROM UNNEST(dicom_all.ReferencedImageSequence) AS e0
    ),
    ARRAY(
      SELECT
        e0.ReferencedSOPInstanceUID
      FROM UNNEST(dicom_all.SourceImageSequence) AS e0
    )
  )) AS referenced_instance
  JOIN `bigquery-public-data`.`idc_current`.`dicom_all` AS image
    ON image.SOPInstanceUID = referenced_instance
  WHERE
    dicom_all.SOPClassUID IN (
      '1.2.840.10008.5.1.4.1.1.66.4',
      '1.2.840.10008.5.1.4.1.1.66.7',
      '1.2.840.10008.5.1.4.1.1.481.3'
    )
    AND ARRAY_LENGTH(
      ARRAY_CONCAT(
        ARRAY(
          SELECT
            e0.SeriesInstanceUID
          FROM UNNEST(dicom_all.ReferencedSeriesSequence) AS e0
        ),
        ARRAY(
          SELECT
            e2.SeriesInstanceUID
          FROM UNNEST(dicom_all.ReferencedFrameOfReferenceSequence) AS e0
          CROSS JOIN UNNEST(e0.RTReferencedStudySequence) AS e1
          CROSS JOIN UNNEST(e1.RTReferencedSeriesSequence) AS e2
        )
      )
    ) = 0
), series AS (
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
    LOGICAL_OR(SAFE_CAST(dicom_all.SliceThickness AS FLOAT64) <= @p0) AS _match0
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
  series.Modality IN UNNEST(@p1)
  AND EXISTS(
    SELECT
      1
    FROM segment_references AS r1
    JOIN series AS s1
      ON s1.SeriesInstanceUID = r1.segmented_series
    WHERE
      r1.seg_series = series.SeriesInstanceUID
      AND (
        s1.Modality = @p2 AND s1._match0
      )
  )
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
