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
    MIN(_pos) AS _unit_pos
  FROM (
    SELECT
      series.StudyInstanceUID AS _unit0,
      ROW_NUMBER() OVER (ORDER BY _row ASC) AS _pos
    FROM series
    WHERE
      ARRAY_CONTAINS($p0, series.Modality)
      AND EXISTS(
        SELECT
          1
        FROM series AS s1
        WHERE
          s1.StudyInstanceUID = series.StudyInstanceUID AND s1.Modality = $p1
      )
  ) AS _series
  GROUP BY
    _unit0
  ORDER BY
    _unit_pos
  LIMIT $p2
) AS _units
  ON series.StudyInstanceUID = _units._unit0
WHERE
  ARRAY_CONTAINS($p0, series.Modality)
  AND EXISTS(
    SELECT
      1
    FROM series AS s1
    WHERE
      s1.StudyInstanceUID = series.StudyInstanceUID AND s1.Modality = $p1
  )
ORDER BY
  _units._unit_pos,
  _row ASC
