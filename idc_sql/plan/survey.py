"""Every problem of a specification, not only the first: once planning has failed, each
condition, column and order key is checked on its own, and what fails is listed. (What the
engine cannot read is not listed again: the first problem, when it is one, names the engine
that can.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import SpecError, UnsupportedError
from ..spec import AllOf, AnyOf, CohortSpec, FieldConditions, SetSpec, Spec

#: checks a condition: (field name, condition, instances, where) -> anything, or raises
CheckAtom = Callable[..., Any]
#: checks a column or order key: (field name, where) -> anything, or raises
CheckColumn = Callable[[str, str], Any]
#: the attribute holding the predicate of each node with one, and its key
_INNER = (
    ("not_", "not"),
    ("study_has", "study_has"),
    ("patient_has", "patient_has"),
    ("segmented_by", "segmented_by"),
    ("segments", "segments"),
)


def survey(spec: Spec, atom: CheckAtom, column: CheckColumn) -> list[SpecError]:
    """The problems of ``spec`` and its members (each once), in the order they are written."""
    problems: list[SpecError] = []
    seen: set[int] = set()
    stack = [spec]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        origin = current.origin
        checks: list[Callable[[], Any]] = []
        for i, key in enumerate(current.order_by):
            checks.append(_bind(column, key.lstrip("-"), _loc(origin, f"order_by[{i}]")))
        if isinstance(current, CohortSpec) and current.where is not None:
            for place, name, condition in _conditions(current.where, _loc(origin, "where")):
                checks.append(_bind(atom, name, condition, current.instances, place, keyword=True))
        for i, name in enumerate(current.columns or ()):
            checks.append(_bind(column, name, _loc(origin, f"columns[{i}]")))
        for check in checks:
            try:
                check()
            except UnsupportedError:  # what an engine cannot read: the first problem says so
                continue
            except SpecError as e:
                problems.append(e)
        if isinstance(current, SetSpec):
            stack.extend(reversed(current.members))
    return problems


def _bind(check: Callable[..., Any], *args: Any, keyword: bool = False) -> Callable[[], Any]:
    if keyword:  # an atom's check: (name, condition, instances=, where=)
        name, condition, instances, where = args
        return lambda: check(name, condition, instances=instances, where=where)
    return lambda: check(*args)


def _conditions(where: Any, place: str) -> Iterator[tuple[str, str, Any]]:
    """(place, field name, condition) of every condition under ``where``, in order; a loop
    over the predicates (their nesting is limited, but not recursed)."""
    stack: list[tuple[Any, str]] = [(where, place)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, FieldConditions):
            for name, condition in node.root.items():
                yield f"{at}.{name}", name, condition
        elif isinstance(node, AllOf | AnyOf):
            key = "all" if isinstance(node, AllOf) else "any"
            items = node.all if isinstance(node, AllOf) else node.any
            stack.extend((p, f"{at}.{key}[{i}]") for i, p in reversed(list(enumerate(items))))
        else:
            for attr, key in _INNER:
                inner = getattr(node, attr, None)
                if inner is not None:
                    stack.append((inner, f"{at}.{key}"))
                    break


def _loc(origin: str, path: str) -> str:
    return f"{origin}: {path}" if origin else path
