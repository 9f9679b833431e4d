-- expect: refused: a second statement
SELECT COUNT(*) AS n FROM idc_index;
SELECT COUNT(*) AS n FROM collections_index;
