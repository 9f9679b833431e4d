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
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`
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
JOIN (
  SELECT
    _unit0,
    _unit1,
    MIN(_pos) AS _unit_pos
  FROM (
    SELECT
      series.collection_id AS _unit0,
      series.PatientID AS _unit1,
      ROW_NUMBER() OVER (
        ORDER BY `series_size_MB` DESC, `collection_id` ASC NULLS LAST, `PatientID` ASC NULLS LAST, `StudyInstanceUID` ASC NULLS LAST, `SeriesInstanceUID` ASC NULLS LAST
      ) AS _pos
    FROM series
    WHERE
      series.Modality = @p0
  ) AS _series
  GROUP BY
    _unit0,
    _unit1
  ORDER BY
    _unit_pos NULLS LAST
  LIMIT @p1
) AS _units
  ON series.collection_id = _units._unit0 AND series.PatientID = _units._unit1
WHERE
  series.Modality = @p0
ORDER BY
  _units._unit_pos NULLS LAST,
  `series_size_MB` DESC,
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
