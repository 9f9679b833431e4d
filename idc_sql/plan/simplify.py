"""Rewrites of a predicate that keep its meaning and bound its cost.

A specification made by a program may hold thousands of conditions where one would do: an
``any`` of equalities on one field, an ``all`` of ``not`` equalities, a ``study_has`` inside a
``study_has``. Each condition is evaluated for every series, so such a specification costs its
number of conditions times the number of series. These rewrites make it one condition on a list
of values, which a long list turns into a hash join (see :mod:`idc_sql.compiler`), when they
are at least :data:`MERGE_FROM`:

- ``any: [{F: a}, {F: [b, c]}, ...]`` is ``{F: [a, b, c, ...]}``;
- ``all: [{not: {F: a}}, {not: {F: [b, c]}}, ...]`` is ``{not: {F: [a, b, c, ...]}}``, and
  ``all: [{F: {ne: a}}, {F: {not_in: [b, c]}}, ...]`` is ``{F: {not_in: [a, b, c, ...]}}`` (not
  merged with the former: a series missing F is selected by ``not`` and never by ``ne``);
- ``all`` inside ``all`` and ``any`` inside ``any`` are one list;
- ``study_has: {study_has: P}`` is ``study_has: P`` (the series of a series' study are those of
  its study), and ``patient_has`` likewise.

Each rewrite holds under the null rule (a comparison with a missing value does not match, and
``not`` is the complement): ``F = a OR F = b`` and ``F IN (a, b)`` are both NULL for a missing F,
``NOT COALESCE(F = a, FALSE) AND NOT COALESCE(F = b, FALSE)`` and ``NOT COALESCE(F IN (a, b),
FALSE)`` both TRUE, ``F <> a AND NOT F IN (b)`` and ``NOT F IN (a, b)`` both NULL. Only text
fields read once per series are merged: a per-instance condition is aggregated over the series'
instances, where the rewrite would change what ``instances: all`` means, and a multi-valued
field's over its values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .nodes import And, Atom, Has, Negate, Node, Or

#: conditions on one field merged into one list when at least this many (fewer are left as
#: written: their cost is small, and the SQL reads as the specification does)
MERGE_FROM = 32
#: operators that select one of some values, and those that select none of them
_ONE_OF = ("eq", "in")
_NONE_OF = ("ne", "not_in")


def simplify(node: Node) -> Node:
    """``node`` with the rewrites above applied, from the leaves up."""
    if isinstance(node, And | Or):
        items = [simplify(i) for i in node.items]
        flat: list[Node] = []
        for item in items:
            flat.extend(item.items if type(item) is type(node) else [item])
        merged = _merge_all(flat) if isinstance(node, And) else _merge_any(flat)
        if len(merged) == 1:
            return merged[0]
        return And(tuple(merged)) if isinstance(node, And) else Or(tuple(merged))
    if isinstance(node, Negate):
        return Negate(simplify(node.item))
    if isinstance(node, Has):
        inner = simplify(node.item)
        while (
            isinstance(inner, Has)
            and inner.level == node.level
            and node.level in ("study", "patient")
        ):
            inner = inner.item
        return Has(node.level, inner)
    return node


def _values(atom: Atom, ops: tuple[str, ...]) -> tuple[Any, ...] | None:
    """The values of an atom that is one operator of ``ops`` on a series-level text field."""
    f = atom.field
    if len(atom.ops) != 1 or f.kind != "string" or f.instance_level or f.segment_level:
        return None
    if f.multi_valued:
        # any value not a AND any value not b is not "any value in neither": left apart
        return None
    op, arg = atom.ops[0]
    if op not in ops:
        return None
    return tuple(arg) if isinstance(arg, tuple | list) else (arg,)


def _merge_any(items: list[Node]) -> list[Node]:
    """Equalities on one field, ORed, as one list."""

    def candidate(item: Node) -> tuple[Atom, tuple[str, ...], Builder] | None:
        return (item, _ONE_OF, _one_of) if isinstance(item, Atom) else None

    return _merge(items, candidate)


def _merge_all(items: list[Node]) -> list[Node]:
    """Negated equalities on one field, ANDed, as one negated list; inequalities likewise,
    apart (a series missing the field is selected by ``not`` and never by ``ne``)."""

    def candidate(item: Node) -> tuple[Atom, tuple[str, ...], Builder] | None:
        if isinstance(item, Negate) and isinstance(item.item, Atom):
            return item.item, _ONE_OF, _not_one_of
        return (item, _NONE_OF, _none_of) if isinstance(item, Atom) else None

    return _merge(items, candidate)


Builder = Callable[[Atom, tuple[Any, ...]], Node]


def _one_of(like: Atom, values: tuple[Any, ...]) -> Node:
    return _atom(like, "in", values)


def _not_one_of(like: Atom, values: tuple[Any, ...]) -> Node:
    return Negate(_atom(like, "in", values))


def _none_of(like: Atom, values: tuple[Any, ...]) -> Node:
    return _atom(like, "not_in", values)


def _merge(
    items: list[Node], candidate: Callable[[Node], tuple[Atom, tuple[str, ...], Builder] | None]
) -> list[Node]:
    """``items`` with those ``candidate`` finds on one field (and of one kind) merged, in place
    of the first of them; the others keep their place."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    values: dict[tuple[Any, ...], dict[Any, None]] = {}
    builders: dict[tuple[Any, ...], tuple[Atom, Builder]] = {}
    for i, item in enumerate(items):
        found = candidate(item)
        if found is None:
            continue
        atom, ops, build = found
        listed = _values(atom, ops)
        if listed is None:
            continue
        key = (atom.field, atom.instances, build)
        groups.setdefault(key, []).append(i)
        values.setdefault(key, {}).update(dict.fromkeys(listed))
        builders.setdefault(key, (atom, build))
    replaced: dict[int, Node | None] = {}
    for key, members in groups.items():
        if len(members) >= MERGE_FROM:
            like, build = builders[key]
            replaced[members[0]] = build(like, tuple(values[key]))
            replaced.update(dict.fromkeys(members[1:]))
    out: list[Node] = []
    for i, item in enumerate(items):
        if i not in replaced:
            out.append(item)
        elif (merged := replaced[i]) is not None:
            out.append(merged)
    return out


def _atom(like: Atom, op: str, values: tuple[Any, ...]) -> Atom:
    return Atom(field=like.field, ops=((op, values),), instances=like.instances)
