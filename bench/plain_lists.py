"""The plain baseline for long lists: a semi or anti join with DuckDB alone.

Reads the SeriesInstanceUIDs (a JSON specification's list, or a text file with one a line), binds
them as one list parameter and joins them by hash to the same parquet file idc-sql reads, writing
the same manifest lines (in the index's order, each series in the folder of idc-sql's default
layout). It does not check or clean the values, which idc-sql does.
Usage: python plain_lists.py in|not_in LIST.json|LIST.txt OUTPUT
"""

import json
import sys
from pathlib import Path

import duckdb
import idc_index_data

op, source, output = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if source.suffix == ".json":
    uids = json.loads(source.read_text())["where"]["SeriesInstanceUID"][op]
else:
    uids = [line.strip() for line in source.read_text().splitlines() if line.strip()]
JOIN = {
    "in": "SELECT aws_bucket, crdc_series_uuid, collection_id, PatientID, StudyInstanceUID, "
    "Modality FROM read_parquet(?) AS s SEMI JOIN (SELECT UNNEST(?) AS uid) AS l "
    "ON s.SeriesInstanceUID = l.uid",
    "not_in": "SELECT aws_bucket, crdc_series_uuid, collection_id, PatientID, StudyInstanceUID, "
    "Modality FROM read_parquet(?) AS s ANTI JOIN (SELECT UNNEST(?) AS uid) AS l "
    "ON s.SeriesInstanceUID = l.uid",
}
con = duckdb.connect()
rows = con.execute(
    JOIN[op],
    [str(Path(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)), uids],
).fetchall()
with open(output, "w") as out:
    for bucket, uuid, collection, patient, study, modality in rows:
        out.write(f"cp s3://{bucket}/{uuid}/* {collection}/{patient}/{study}/{modality}_{uuid}/\n")
