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
  c.collection_id,
  s.source_id,
  s.source_type,
  s.source_doi,
  s.license.license_short_name AS license_short_name,
  s.citation
FROM collections_index AS c
CROSS JOIN UNNEST(c.sources) AS s
WHERE
  c.collection_id = @collection_id
ORDER BY
  s.source_type,
  s.source_id
-- parameters: {"collection_id": "nlst"}
