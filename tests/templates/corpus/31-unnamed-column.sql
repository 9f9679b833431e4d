-- expect: refused: has no name
SELECT collection_id, COUNT(*) FROM idc_index GROUP BY collection_id
