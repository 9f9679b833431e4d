"""IDC's indices: what the idc-index-data wheel ships (parquet, SQL, schema JSON) and what
index folders add (see :mod:`.wheel`, :mod:`.folder`)."""
