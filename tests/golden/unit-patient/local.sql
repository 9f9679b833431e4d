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
FROM (
  SELECT
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "instanceCount",
    "series_size_MB",
    "aws_bucket",
    "crdc_series_uuid",
    _pos,
    _unit_pos,
    DENSE_RANK() OVER (ORDER BY _unit_pos) AS _unit_rank
  FROM (
    SELECT
      "collection_id",
      "PatientID",
      "StudyInstanceUID",
      "SeriesInstanceUID",
      "Modality",
      "instanceCount",
      "series_size_MB",
      "aws_bucket",
      "crdc_series_uuid",
      _pos,
      MIN(_pos) OVER (PARTITION BY _unit0, _unit1) AS _unit_pos
    FROM (
      SELECT
        "collection_id",
        "PatientID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "Modality",
        "instanceCount",
        "series_size_MB",
        "aws_bucket",
        "crdc_series_uuid",
        series.collection_id AS _unit0,
        series.PatientID AS _unit1,
        ROW_NUMBER() OVER (ORDER BY "series_size_MB" DESC, _row ASC) AS _pos
      FROM series
      WHERE
        series.Modality = $p0
    ) AS _series
  ) AS _units
) AS _ranked
WHERE
  _unit_rank <= $p1
ORDER BY
  _unit_pos,
  _pos
