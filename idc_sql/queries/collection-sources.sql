-- name: collection-sources
-- description: The sources of one collection (original data and analyses), each with its
--   DOI, license and the citation to give when using it.
-- param collection_id STRING DEFAULT 'nlst': the collection
SELECT
  c.collection_id,
  s.source_id,
  s.source_type,
  s.source_doi,
  s.license.license_short_name AS license_short_name,
  s.citation
FROM collections_index AS c, UNNEST(c.sources) AS s
WHERE c.collection_id = @collection_id
ORDER BY s.source_type, s.source_id
