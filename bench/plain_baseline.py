"""The plain baseline: the reference cohort with DuckDB alone, as a researcher would script it.

Same parquet file, same query, same manifest lines (in the index's order, each series in the
folder of idc-sql's default layout), no idc-sql. It does not check or clean the values, which
idc-sql does (the reference cohort's values need no cleaning, so the lines are the same).
Usage: python plain_baseline.py OUTPUT
"""

import sys
from pathlib import Path

import duckdb
import idc_index_data

parquet = Path(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)
con = duckdb.connect()
rows = con.execute(
    "SELECT aws_bucket, crdc_series_uuid, collection_id, PatientID, StudyInstanceUID, Modality "
    "FROM read_parquet(?) WHERE collection_id = ? AND Modality = ? AND BodyPartExamined = ?",
    [str(parquet), "nlst", "CT", "CHEST"],
).fetchall()
with open(sys.argv[1], "w") as out:
    for bucket, uuid, collection, patient, study, modality in rows:
        out.write(f"cp s3://{bucket}/{uuid}/* {collection}/{patient}/{study}/{modality}_{uuid}/\n")
