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
    PatientSex AS "PatientSex",
    Manufacturer AS "Manufacturer",
    SOPClassUID AS "SOPClassUID",
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
WHERE
  series.collection_id = $p0
  AND series.Modality = $p1
  AND series.PatientSex = $p2
  AND series.Manufacturer ILIKE $p3 ESCAPE '\'
  AND series.SOPClassUID = $p4
ORDER BY
  _row ASC
