"""Every problem of a specification, not only the first: once planning has failed, each
condition, column and order key is checked on its own, and what fails is listed. (What the
engine cannot read is not listed again: the first problem, when it is one, names the engine
that can.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import SpecError, UnsupportedError
from ..spec import CohortSpec, Spec
from ..spec.walk import conditions, each_spec

#: checks a condition: (field name, condition, instances, where) -> anything, or raises
CheckAtom = Callable[..., Any]
#: checks a column or order key: (field name, where) -> anything, or raises
CheckColumn = Callable[[str, str], Any]


def survey(spec: Spec, atom: CheckAtom, column: CheckColumn) -> list[SpecError]:
    """The problems of ``spec`` and its members (each once), in the order they are written."""
    problems: list[SpecError] = []
    for current in each_spec(spec):
        origin = current.origin
        checks: list[Callable[[], Any]] = []
        for i, key in enumerate(current.order_by):
            checks.append(_bind(column, key.lstrip("-"), _loc(origin, f"order_by[{i}]")))
        if isinstance(current, CohortSpec) and current.where is not None:
            for at, name, condition in conditions(current.where, _loc(origin, "where")):
                place = f"{at}.{name}"
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
    return problems


def _bind(check: Callable[..., Any], *args: Any, keyword: bool = False) -> Callable[[], Any]:
    if keyword:  # an atom's check: (name, condition, instances=, where=)
        name, condition, instances, where = args
        return lambda: check(name, condition, instances=instances, where=where)
    return lambda: check(*args)


def _loc(origin: str, path: str) -> str:
    return f"{origin}: {path}" if origin else path
