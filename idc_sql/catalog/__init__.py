"""The catalog: every field a cohort can name, and how each engine reads it.

A field has a BigQuery type and mode (as in ``dicom_all``), a level (collection, patient, study,
series or instance), a logical kind that decides how it compares (``string``, ``number``, ``date``
or ``strings`` for repeated values), and one reading per engine:

- ``local``: a DuckDB expression over the series-level ``idc_index`` table of idc-index-data,
  or ``None`` when the local index does not carry the field;
- ``bigquery``: a BigQuery expression over ``dicom_all`` (one row per instance). For a field at
  series level or above it is an aggregate that yields the series' value exactly as IDC derives
  ``idc_index`` (``idc_index.sql`` in idc-index-data); for an instance-level field it is a
  per-instance expression, and the compiler aggregates the *condition* over the series'
  instances (any or all of them).

A multi-valued field (``separator`` set) holds a list of values per series, read joined: the
distinct values of the series' instances (``TransferSyntaxUID``...) or its collection's metadata
(``collection_cancerType``...). A condition tests each value; the compiler splits the joined
reading, or on BigQuery, where ``instance_values`` reads them per instance, aggregates it over
the instances.

Readings are built as sqlglot trees from catalog constants; user values never enter them.

>>> field("TransferSyntaxUID").separator, field("collection_species").separator
(',', ', ')

>>> field("modality").name
'Modality'
>>> suggest("SliceThikness", FIELDS)
['SliceThickness']

The package: :mod:`.fields` (the Field class and the builders of readings), :mod:`.series`
(the local index's fields), :mod:`.instances` (per-instance and per-segment fields, BigQuery
only) and :mod:`.uids` (UID names).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .fields import Builder, Field, Kind, Level
from .instances import INSTANCE_FIELDS, SEGMENT_FIELDS, SEQUENCE_FIELDS
from .series import SERIES_FIELDS
from .uids import SOP_CLASS_NAMES, TRANSFER_SYNTAX_NAMES

__all__ = [
    "FIELDS",
    "SOP_CLASS_NAMES",
    "TRANSFER_SYNTAX_NAMES",
    "Builder",
    "Field",
    "Kind",
    "Level",
    "field",
    "suggest",
]

_FIELDS: tuple[Field, ...] = SERIES_FIELDS + INSTANCE_FIELDS + SEQUENCE_FIELDS + SEGMENT_FIELDS

FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}
_BY_FOLDED: dict[str, Field] = {f.name.casefold(): f for f in _FIELDS}


def field(name: str) -> Field:
    """The field named ``name``; a name that differs only in case is accepted."""
    return FIELDS.get(name) or _BY_FOLDED[name.casefold()]


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Names close to ``name``, best first, for "did you mean" answers."""
    pool = list(candidates)
    folded = {c.casefold(): c for c in pool}
    hits = difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.6)
    return [folded[h] for h in hits]
