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
    "has",
)
NODE_KEYS = ("all", "any", "not", "study_has", "patient_has", "segmented_by", "segments")
SET_KEYS = ("union", "intersect", "except")
#: operators whose values are read from a file (see :mod:`.files`)
FILE_OPERATORS = ("in_file", "not_in_file")
#: keys of an operator mapping that are not operators: how a file's values are read
OPERATOR_OPTIONS = ("column",)
#: the keys of a specification's top level, which a predicate may not hold
TOP_LEVEL_KEYS = (
    "name",
    "description",
    "idc_version",
    "instances",
    "where",
    "columns",
    "order_by",
    "limit",
    "unit",
    "licenses",
    *SET_KEYS,
)


def misplaced(key: str) -> str | None:
    """What to say of ``key`` found where a field goes, when it belongs to the top level."""
    if key not in TOP_LEVEL_KEYS:
        return None
    what = ""
    if key == "instances":
        what = (
            " (instances: all makes every instance-level condition hold for every instance "
            "of a series; the default, any, for at least one)"
        )
    return (
        f"{key!r} is not a field but a key of the specification's top level, beside name"
        f"{what}: move it out of where"
    )
