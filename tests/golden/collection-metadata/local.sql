WITH series AS (
  SELECT
    SeriesInstanceUID AS "SeriesInstanceUID",
    (
      SELECT
        c.collection_name
      FROM collections_index AS c
      WHERE
        c.collection_id = idc_index.collection_id
    ) AS "collection_name",
    (
      SELECT
        c.cancer_types
      FROM collections_index AS c
      WHERE
        c.collection_id = idc_index.collection_id
    ) AS "collection_cancerType",
    (
      SELECT
        c.species
      FROM collections_index AS c
      WHERE
        c.collection_id = idc_index.collection_id
    ) AS "collection_species",
    collection_id AS "collection_id",
    PatientID AS "PatientID",
    StudyInstanceUID AS "StudyInstanceUID",
    series_size_MB AS "series_size_MB",
    aws_bucket AS "aws_bucket",
    crdc_series_uuid AS "crdc_series_uuid",
    Modality AS "Modality",
    instanceCount AS "instanceCount",
    (
      SELECT
        c.tumor_locations
      FROM collections_index AS c
      WHERE
        c.collection_id = idc_index.collection_id
    ) AS "collection_tumorLocation",
    file_row_number AS _row
  FROM idc_index
)
SELECT
  "SeriesInstanceUID",
  "collection_name",
  "collection_cancerType",
  "collection_species",
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
  ARRAY_LENGTH(
    LIST_FILTER(
      STR_SPLIT(series.collection_cancerType, ', '),
      LAMBDA _value : _value ILIKE $p0 ESCAPE '\'
    )
  ) > 0
  AND ARRAY_LENGTH(
    LIST_FILTER(
      STR_SPLIT(series.collection_tumorLocation, ', '),
      LAMBDA _value : ARRAY_CONTAINS($p1, _value)
    )
  ) > 0
  AND ARRAY_LENGTH(
    LIST_FILTER(STR_SPLIT(series.collection_species, ', '), LAMBDA _value : _value = $p2)
  ) > 0
  AND NOT COALESCE(ARRAY_CONTAINS($p3, series.collection_name), FALSE)
  AND series.Modality = $p4
ORDER BY
  _row ASC
