"""The limits of a specification, checked before anything else looks at it.

Every check here is a loop over an explicit stack, never a recursion, and stops at the first
thing past a limit, so a hostile specification costs at most the limit's worth of work. The
limits are documented in ``docs/limits.md``; each is a constant of this module.

>>> deep = {"Modality": "CT"}
>>> for _ in range(33):
...     deep = {"not": deep}
>>> try:
...     check_spec({"name": "x", "where": deep})
... except SpecError as e:
...     print(e.location, "|", e.message)
where.not.not.not.not…(26 more)…not.not.not | predicates nested deeper than the limit of 32 levels
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import SpecError
from .keys import NODE_KEYS, SET_KEYS

#: levels of predicates (all, any, not, study_has, patient_has, segmented_by, segments) inside
#: each other
MAX_NESTING = 32
#: predicates in a specification: each node and each field condition counts one, and a set
#: specification counts each member (with its own predicates) once per reference
MAX_PREDICATES = 10_000
#: values in one list (``in``, ``not_in``, a list of equal values, ``columns``, ...)
MAX_LIST = 1_000_000
#: bytes in a file of values (``in_file``, ``not_in_file``)
MAX_VALUES_FILE_BYTES = 256 * 1024 * 1024
#: levels of set specifications inside each other (a set whose member is a set, ...)
MAX_SET_NESTING = 10
#: bytes in a specification file
MAX_FILE_BYTES = 64 * 1024 * 1024
#: levels of lists and mappings inside each other in a specification file (JSON or YAML)
MAX_FILE_NESTING = 512
#: YAML aliases (``*name``) in a specification file
MAX_YAML_ALIASES = 1_000
#: nodes that a file's YAML aliases stand for together (as if each were a copy of its anchor)
MAX_YAML_EXPANSION = 100_000

_TOP_LISTS = ("columns", "order_by", "licenses", *SET_KEYS)


def check_spec(data: Any) -> None:
    """Refuse ``data`` (a specification's mapping) if it is past a limit; the place is relative.

    ``where`` may hold raw mappings or already-built models (a spec built in Python).
    """
    if not isinstance(data, Mapping):
        return
    for key in _TOP_LISTS:
        check_list(data.get(key), (key,))
    if data.get("where") is not None:
        check_predicate(data["where"], ("where",))


def check_list(value: Any, path: tuple[str | int, ...]) -> None:
    if isinstance(value, list | tuple) and len(value) > MAX_LIST:
        raise SpecError(
            format_path(path), f"more values than the limit of {MAX_LIST:,} in one list"
        )


def check_predicate(root: Any, path: tuple[str | int, ...]) -> int:
    """The number of predicates in ``root``; a SpecError past the nesting or size limit.

    ``root`` is raw (mappings and lists) or built (the models of :mod:`.models`, read by their
    attributes). Only what the grammar allows is followed: the rest is left for validation.
    """
    count = 0
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(root, path, 0)]
    while stack and count <= MAX_PREDICATES:
        node, here, depth = stack.pop()
        kind = _kind(node)
        if kind in NODE_KEYS:
            depth += 1
            here = (*here, kind)
            if depth > MAX_NESTING:
                raise SpecError(
                    format_path(here),
                    f"predicates nested deeper than the limit of {MAX_NESTING} levels",
                )
            count += 1
            inner = node[kind] if isinstance(node, Mapping) else getattr(node, _ATTRS[kind])
            if kind not in ("all", "any"):
                stack.append((inner, here, depth))
            elif isinstance(inner, list | tuple) and count + len(inner) <= MAX_PREDICATES:
                # pushed in reverse, so that what is past a limit first in the file is told
                stack.extend((p, (*here, i), depth) for i, p in reversed(list(enumerate(inner))))
            elif isinstance(inner, list | tuple):
                count += len(inner)  # each member is at least one predicate
        elif kind == "fields":
            conditions = node if isinstance(node, Mapping) else node.root
            count += len(conditions)
            for name, condition in conditions.items() if count <= MAX_PREDICATES else ():
                for suffix, values in _lists_in(condition):
                    check_list(values, (*here, str(name), *suffix))
    if count > MAX_PREDICATES:
        raise SpecError(format_path(path), f"more predicates than the limit of {MAX_PREDICATES:,}")
    return count


#: the attribute that holds a node's predicate in the models (``not`` is a Python keyword)
_ATTRS = {k: "not_" if k == "not" else k for k in NODE_KEYS}


def _kind(node: Any) -> str | None:
    """A node's key, ``fields`` for a mapping of field conditions, else None (not a predicate)."""
    if isinstance(node, Mapping):
        nodes = [k for k in NODE_KEYS if k in node]
        if not nodes:
            return "fields"
        return nodes[0] if len(nodes) == 1 and len(node) == 1 else None
    # a model: AllOf has the field all, Not has not_, ... (looked up in the class's fields: a
    # missing attribute of a Pydantic model is slow to find missing)
    fields = getattr(type(node), "model_fields", {})
    for key, attr in _ATTRS.items():
        if attr in fields:
            return key
    return "fields" if "root" in fields and isinstance(node.root, Mapping) else None


def _lists_in(condition: Any) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The lists of values in a field's condition, with their place after the field's name."""
    if isinstance(condition, list | tuple):
        yield (), condition
    elif callable(getattr(condition, "items", None)):  # operators: a mapping, or Ops
        for op, value in condition.items():
            yield (str(op),), value


def format_path(path: tuple[str | int, ...] | list[str | int]) -> str:
    """``where.all[2].SliceThickness``: keys joined by dots, indexes in brackets."""
    out = ""
    for item in path:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out
