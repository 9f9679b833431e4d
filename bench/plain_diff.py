"""The plain baseline of a diff: IDC v24 and v25 joined with DuckDB alone, as a researcher who
knows the index's version columns would script it.

v25 is the installed index; v24 is every series whose current version was first served at or
before v24, and every earlier version prior_versions_index says v24 served. Prints the counts
of added, removed, revised and unchanged series as JSON. Usage: python plain_diff.py
"""

import json

import duckdb
import idc_index_data

con = duckdb.connect()
query = """
WITH v25 AS (
    SELECT SeriesInstanceUID, crdc_series_uuid FROM read_parquet($index)
), v24 AS (
    SELECT SeriesInstanceUID, crdc_series_uuid FROM read_parquet($index)
    WHERE series_revised_idc_version <= 24
    UNION ALL
    SELECT DISTINCT SeriesInstanceUID, crdc_series_uuid FROM read_parquet($prior)
    WHERE min_idc_version <= 24 AND max_idc_version >= 24
)
SELECT
    count(*) FILTER (WHERE a.SeriesInstanceUID IS NULL) AS added,
    count(*) FILTER (WHERE b.SeriesInstanceUID IS NULL) AS removed,
    count(*) FILTER (WHERE a.crdc_series_uuid <> b.crdc_series_uuid) AS revised,
    count(*) FILTER (WHERE a.crdc_series_uuid = b.crdc_series_uuid) AS unchanged
FROM v24 AS a FULL OUTER JOIN v25 AS b ON a.SeriesInstanceUID = b.SeriesInstanceUID
"""
params = {
    "index": str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH),
    "prior": str(idc_index_data.PRIOR_VERSIONS_INDEX_PARQUET_FILEPATH),
}
row = con.execute(query, params).fetchone()
print(json.dumps(dict(zip(("added", "removed", "revised", "unchanged"), row, strict=True))))
