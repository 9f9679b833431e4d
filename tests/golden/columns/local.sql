WITH series AS (
  SELECT
    SeriesInstanceUID AS "SeriesInstanceUID",
    sop_class_name AS "sop_class_name",
    transfer_syntax_name AS "transfer_syntax_name",
    PixelRepresentation AS "PixelRepresentation",
    PhotometricInterpretation AS "PhotometricInterpretation",
    series_aws_url AS "series_aws_url",
    source_DOI AS "source_DOI",
    series_init_idc_version AS "series_init_idc_version",
    collection_id AS "collection_id",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    series_size_MB AS "series_size_MB",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "SeriesInstanceUID",
  "sop_class_name",
  "transfer_syntax_name",
  "PixelRepresentation",
  "PhotometricInterpretation",
  "series_aws_url",
  "source_DOI",
  "series_init_idc_version",
  "collection_id",
  "PatientID",
  "StudyInstanceUID",
  "series_size_MB",
  "aws_bucket",
  "crdc_series_uuid",
  "Modality",
  "instanceCount"
FROM series
WHERE
  series.collection_id = $p0
ORDER BY
  _row ASC
