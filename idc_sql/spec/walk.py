"""Every field condition under a ``where``, with its place: the one walk over the predicates
that the checks of a specification share (files of values, the survey of its problems).

>>> from idc_sql.spec import parse_spec
>>> where = {"any": [{"Modality": "CT"}, {"not": {"Modality": "MR"}}]}
>>> spec = parse_spec({"name": "x", "where": where})
>>> [(place, name) for place, name, _ in conditions(spec.where, "where")]
[('where.any[0]', 'Modality'), ('where.any[1].not', 'Modality')]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .models import AllOf, AnyOf, FieldConditions, SetSpec, Spec

#: the attribute holding the predicate of each node with one, and its key
INNER = (
    ("not_", "not"),
    ("study_has", "study_has"),
    ("patient_has", "patient_has"),
    ("segmented_by", "segmented_by"),
    ("segments", "segments"),
)


def each_spec(spec: Spec) -> Iterator[Spec]:
    """``spec`` and its members, at any depth, each once however often it is named, in the
    order they are written."""
    seen: set[int] = set()
    stack = [spec]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, SetSpec):
            stack.extend(reversed(current.members))


def conditions(where: Any, place: str) -> Iterator[tuple[str, str, Any]]:
    """(place, field name, condition) of every field condition under ``where``, in the order
    they are written; a loop over the predicates (their nesting is limited, but not recursed)."""
    stack: list[tuple[Any, str]] = [(where, place)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, FieldConditions):
            for name, condition in node.root.items():
                yield at, name, condition
        elif isinstance(node, AllOf | AnyOf):
            key = "all" if isinstance(node, AllOf) else "any"
            items = node.all if isinstance(node, AllOf) else node.any
            stack.extend((p, f"{at}.{key}[{i}]") for i, p in reversed(list(enumerate(items))))
        else:
            for attr, key in INNER:
                inner = getattr(node, attr, None)
                if inner is not None:
                    stack.append((inner, f"{at}.{key}"))
                    break
