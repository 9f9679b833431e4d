WITH analysis_results_index AS (
  SELECT
    analysis_result_id,
    analysis_result_title,
    source_doi AS source_DOI,
    source_url,
    subjects,
    collections,
    modalities,
    SAFE_CAST(Updated AS STRING) AS updated,
    license_url,
    license_long_name,
    license_short_name,
    description,
    citation,
    provenance
  FROM `bigquery-public-data`.`idc_current`.`analysis_results_metadata`
)
SELECT
  analysis_result_id,
  analysis_result_title,
  modalities,
  subjects,
  license_short_name,
  source_DOI
FROM analysis_results_index
WHERE
  @collection_id IN UNNEST(SPLIT(REPLACE(collections, ' ', ''), ','))
ORDER BY
  analysis_result_id
-- parameters: {"collection_id": "nlst"}
