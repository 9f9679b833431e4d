WITH collections_index AS (
  SELECT
    collection_name,
    collection_id,
    cancer_types,
    tumor_locations,
    subjects,
    species,
    sources,
    NULLIF(supporting_data, '') AS supporting_data,
    program_id,
    status,
    SAFE_CAST(updated AS STRING) AS updated,
    description
  FROM `bigquery-public-data`.`idc_current`.`original_collections_metadata`
)
SELECT
  collection_id,
  collection_name,
  cancer_types,
  tumor_locations,
  species,
  subjects,
  (
    SELECT
      STRING_AGG(
        DISTINCT s.license.license_short_name, ', '
        ORDER BY
          s.license.license_short_name
      )
    FROM UNNEST(sources) AS s
  ) AS licenses
FROM collections_index
WHERE
  LOWER(cancer_types) LIKE LOWER(@cancer_type)
ORDER BY
  collection_id
-- parameters: {"cancer_type": "%"}
