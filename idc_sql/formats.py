"""The names the command line offers for outputs: formats and the default layout.

Constants only, so that a command that writes nothing (``download`` of a manifest) starts
without loading the writers or sqlglot; :mod:`idc_sql.writers` defines the formats themselves
(a test checks that the names agree).
"""

from __future__ import annotations

#: every output format, in the order of :data:`idc_sql.writers.WRITERS`
FORMATS = ("s5cmd", "manifest-json", "csv", "tsv", "parquet", "jsonl")
#: where a manifest puts each series under its destination (idc-index's layout)
DEFAULT_LAYOUT = "{collection_id}/{PatientID}/{StudyInstanceUID}/{Modality}_{crdc_series_uuid}"
#: the destination a manifest's folders go under
DEFAULT_ROOT = "."
