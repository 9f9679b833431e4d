-- expect: ok
SELECT collection_id, src.license.license_short_name AS license
FROM collections_index, UNNEST(sources) AS src
