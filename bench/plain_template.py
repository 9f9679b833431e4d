"""The plain baseline for templates: the same GROUP BY with DuckDB alone, written as CSV.

The queries of the shipped templates ``collection-summary`` (for one collection) and
``collections-by-modality`` (every modality), written by hand in DuckDB's dialect over the same
parquet file idc-sql reads, with the parameter bound; the rows are written with DuckDB's COPY.
Usage: python plain_template.py collection-summary|collections-by-modality OUTPUT.csv
"""

import sys
from pathlib import Path

import duckdb
import idc_index_data

QUERIES = {
    "collection-summary": (
        "SELECT Modality, COUNT(DISTINCT PatientID) AS patients, "
        "COUNT(DISTINCT StudyInstanceUID) AS studies, COUNT(*) AS series, "
        "ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb "
        "FROM read_parquet($parquet) WHERE collection_id = $collection "
        "GROUP BY Modality ORDER BY series DESC, Modality",
        {"collection": "nlst"},
    ),
    "collections-by-modality": (
        "SELECT collection_id, Modality, COUNT(DISTINCT PatientID) AS patients, "
        "COUNT(*) AS series, ROUND(SUM(series_size_MB) / 1000, 3) AS size_gb "
        "FROM read_parquet($parquet) GROUP BY collection_id, Modality "
        "ORDER BY collection_id, Modality",
        {},
    ),
}

query, params = QUERIES[sys.argv[1]]
con = duckdb.connect()
con.execute(
    f"COPY ({query}) TO $output (FORMAT csv, HEADER)",
    {
        **params,
        "parquet": str(Path(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)),
        "output": sys.argv[2],
    },
)
