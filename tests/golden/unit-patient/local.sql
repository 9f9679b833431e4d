WITH series AS (
  SELECT
    collection_id AS "collection_id",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    SeriesInstanceUID AS "SeriesInstanceUID",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    series_size_MB AS "series_size_MB",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "collection_id",
  "PatientID",
  "StudyInstanceUID",
  "SeriesInstanceUID",
  "Modality",
  "instanceCount",
  "series_size_MB",
  "aws_bucket",
  "crdc_series_uuid"
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
      ROW_NUMBER() OVER (ORDER BY "series_size_MB" DESC, _row ASC) AS _pos
    FROM series
    WHERE
      series.Modality = $p0
  ) AS _series
  GROUP BY
    _unit0,
    _unit1
  ORDER BY
    _unit_pos
  LIMIT $p1
) AS _units
  ON series.collection_id = _units._unit0 AND series.PatientID = _units._unit1
WHERE
  series.Modality = $p0
ORDER BY
  _units._unit_pos,
  "series_size_MB" DESC,
  _row ASC
