-- expect: refused: CALL runs a procedure
CALL `bigquery-public-data.idc_current.make_manifest`('nlst')
