"""Conditions on DICOM sequences (REPEATED RECORD columns of dicom_all), BigQuery only.

``StructureSetROISequence: {has: {ROIName: {ilike: "%lung%"}}}`` holds for an instance when
some element of its sequence has sub-fields meeting every condition under ``has`` (several
sub-fields: the same element meets them all); a series matches when any instance does
(``instances: all``: every one), as with any per-instance field. ``has`` nests for sequences
within sequences. A condition on a repeated sub-field (``OtherElements.Data``) tests each of
its values: any value that matches will do (``contains: v`` is ``eq: v``; ``is_null: true``:
it has none).

Each level names its element ``_e<depth>``; the compiler renders a level as
``EXISTS(SELECT 1 FROM UNNEST(<sequence>) AS _e<depth> WHERE ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlglot import exp

from ..catalog import Field, suggest
from ..errors import SpecError
from ..spec import Ops
from .nodes import Atom
from .values import wrong_op

#: checks a condition on one field and returns its atom: ``(field, condition, where)``
Checker = Callable[[Field, Any, str], Atom]


@dataclass(frozen=True)
class Within:
    """The argument of ``has``: some element of the sequence (named ``alias`` in the items'
    readings) meets every one of ``items``."""

    alias: str
    items: tuple[Atom, ...]


def sequence_atom(
    f: Field,
    condition: Any,
    instances: Literal["any", "all"],
    where: str,
    checked: Checker,
    depth: int = 1,
) -> Atom:
    """The atom of ``condition`` on the sequence ``f`` (which must be ``{has: {...}}``)."""
    ops = condition.items() if isinstance(condition, Ops) else []
    if [op for op, _ in ops] != ["has"]:
        op = next((op for op, _ in ops if op != "has"), "eq")
        at = f"{where}.{op}" if isinstance(condition, Ops) else where
        raise SpecError(at, wrong_op(f, op, isinstance(condition, Ops)))
    assert isinstance(condition, Ops)
    assert condition.has is not None
    alias = f"_e{depth}"
    items = []
    for name, sub_condition in condition.has.items():
        at = f"{where}.has.{name}"
        sub = _member(f, name, at)
        sub = replace(sub, name=f"{f.name}.{sub.name}", bigquery=_reader(sub.name, alias))
        items.append(_item(sub, sub_condition, at, checked, depth + 1))
    return Atom(field=f, ops=(("has", Within(alias, tuple(items))),), instances=instances)


def _member(f: Field, name: str, where: str) -> Field:
    for m in f.members:
        if m.name == name or m.name.casefold() == name.casefold():
            return m
    names = [m.name for m in f.members]
    close = suggest(name, names)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise SpecError(
        where, f"{f.name} has no sub-field {name!r}{hint} (its sub-fields: {', '.join(names)})"
    )


def _reader(name: str, alias: str) -> Callable[[], exp.Expr]:
    return lambda: exp.column(name, table=alias)


def _item(sub: Field, condition: Any, where: str, checked: Checker, depth: int) -> Atom:
    if sub.kind == "sequence":
        return sequence_atom(sub, condition, "any", where, checked, depth)
    if not sub.repeated or _only_is_null(condition):
        return checked(sub, condition, where)
    # a repeated sub-field: some value of it meets the condition (contains: equals it)
    if isinstance(condition, Ops) and condition.contains is not None and condition.eq is None:
        condition = condition.model_copy(update={"eq": condition.contains, "contains": None})
    alias = f"_e{depth}"
    one = replace(
        sub,
        kind="number" if sub.kind == "numbers" else "string",
        bq_mode="NULLABLE",
        bigquery=lambda: exp.column(alias),
    )
    return Atom(
        field=sub, ops=(("has", Within(alias, (checked(one, condition, where),))),), instances="any"
    )


def _only_is_null(condition: Any) -> bool:
    return isinstance(condition, Ops) and [op for op, _ in condition.items()] == ["is_null"]
