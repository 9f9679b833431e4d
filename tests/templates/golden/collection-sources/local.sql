SELECT
  c.collection_id,
  s.source_id,
  s.source_type,
  s.source_doi,
  s.license.license_short_name AS license_short_name,
  s.citation
FROM collections_index AS c
CROSS JOIN UNNEST(c.sources) AS _t0(s)
WHERE
  c.collection_id = CAST($collection_id AS TEXT)
ORDER BY
  s.source_type NULLS FIRST,
  s.source_id NULLS FIRST
-- parameters: {"collection_id": "nlst"}
