"""The grammar's keywords: operators, predicate nodes and set operations."""

from __future__ import annotations

OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
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
