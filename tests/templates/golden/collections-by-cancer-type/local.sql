SELECT
  collection_id,
  collection_name,
  cancer_types,
  tumor_locations,
  species,
  subjects,
  (
    SELECT
      LISTAGG(
        DISTINCT s.license.license_short_name, ', '
        ORDER BY
          s.license.license_short_name NULLS FIRST
      )
    FROM UNNEST(sources) AS _t0(s)
  ) AS licenses
FROM collections_index
WHERE
  LOWER(cancer_types) LIKE LOWER(CAST($cancer_type AS TEXT))
ORDER BY
  collection_id NULLS FIRST
-- parameters: {"cancer_type": "%"}
