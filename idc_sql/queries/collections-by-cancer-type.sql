-- name: collections-by-cancer-type
-- description: Collections whose cancer types match a pattern, with their sites, species,
--   subjects and the licenses of their sources.
-- param cancer_type STRING DEFAULT '%': a LIKE pattern over cancer_types, case ignored
--   (e.g. '%lung%')
SELECT
  collection_id,
  collection_name,
  cancer_types,
  tumor_locations,
  species,
  subjects,
  (
    SELECT STRING_AGG(DISTINCT s.license.license_short_name, ', '
      ORDER BY s.license.license_short_name)
    FROM UNNEST(sources) AS s
  ) AS licenses
FROM collections_index
WHERE LOWER(cancer_types) LIKE LOWER(@cancer_type)
ORDER BY collection_id
