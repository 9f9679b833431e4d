"""The grammar's keywords: operators, predicate nodes and set operations."""

from __future__ import annotations

OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "in_file",
    "not_in_file",
    "lt",
    "lte",
    "gt",
    "gte",
    "between",
    "like",
    "ilike",
    "regex",
    "is_null",
    "contains",
)
NODE_KEYS = ("all", "any", "not", "study_has", "patient_has", "segmented_by")
SET_KEYS = ("union", "intersect", "except")
#: operators whose values are read from a file (see :mod:`.files`)
FILE_OPERATORS = ("in_file", "not_in_file")
#: keys of an operator mapping that are not operators: how a file's values are read
OPERATOR_OPTIONS = ("column",)
