"""Cohort specifications: the public grammar, as strict Pydantic models.

A specification is written in YAML or JSON, or built in Python:

>>> spec = parse_spec({"name": "ct", "where": {"Modality": "CT"}})
>>> spec.name, spec.instances
('ct', 'any')
>>> try:
...     parse_spec({"name": "ct", "where": {"Modality": {"equals": "CT"}}})
... except SpecError as e:
...     print(e.location, "|", e.message[:26])
where.Modality.equals | unknown operator 'equals';

Only structure is checked here; field names, value types and engines are checked when the
specification is planned (:mod:`idc_sql.plan`).

The package has one module a job: :mod:`.keys` (the grammar's keywords), :mod:`.models` (the
grammar), :mod:`.limits` (what a specification may hold, checked first), :mod:`.loading` (files,
decoding, set members, the digest), :mod:`.files` (files of values: ``in_file``) and
:mod:`.messages` (Pydantic's errors told plainly) and :mod:`.walk` (every field condition with
its place).
"""

from __future__ import annotations

from ..errors import SpecError
from .files import ValueFile
from .keys import FILE_OPERATORS, NODE_KEYS, OPERATORS, SET_KEYS, misplaced
from .loading import digest, load_spec, parse_spec, source_files
from .messages import explain
from .models import (
    NAME_PATTERN,
    AllOf,
    AnyOf,
    CohortSpec,
    Condition,
    FieldConditions,
    Name,
    Not,
    Ops,
    PatientHas,
    Predicate,
    Scalar,
    SegmentedBy,
    Segments,
    SetSpec,
    Spec,
    StudyHas,
    Values,
    Version,
    json_schema,
)

__all__ = [
    "FILE_OPERATORS",
    "NAME_PATTERN",
    "NODE_KEYS",
    "OPERATORS",
    "SET_KEYS",
    "AllOf",
    "AnyOf",
    "CohortSpec",
    "Condition",
    "FieldConditions",
    "Name",
    "Not",
    "Ops",
    "PatientHas",
    "Predicate",
    "Scalar",
    "SegmentedBy",
    "Segments",
    "SetSpec",
    "Spec",
    "SpecError",
    "StudyHas",
    "ValueFile",
    "Values",
    "Version",
    "digest",
    "explain",
    "json_schema",
    "load_spec",
    "misplaced",
    "parse_spec",
    "source_files",
]
