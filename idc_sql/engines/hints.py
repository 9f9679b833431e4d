"""Why a cohort may have come back empty: the values it asks for that no series holds.

The values a cohort asks for by equality (``eq``, ``in``, ``in_file``) are looked up in the
local index; each one no series holds is named, with what it may have meant: the same letters
in another case, or a close spelling among a field's values when they are few.

The cost is bounded whatever the number of values: per field, at most :data:`QUERIES_PER_FIELD`
queries, each returning at most ``FEW + 1`` rows. A field with few values is read whole and
the rest is done in Python; otherwise one query joins the values asked for (stored as a table)
against the index's and returns how many no series holds and the first :data:`SHOWN` of them, in
the order they were asked for, and one more looks for those in another case. The rest are
counted, not named.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from ..catalog import Field
    from ..plan import Atom, Plan, Selection
    from .local import LocalEngine

#: a field with at most this many values is read whole for close spellings
FEW = 500
#: values named per field; the others no series holds are counted
SHOWN = 20
#: what a field's hints may cost: the distinct values (when few), the values no series holds,
#: and their other cases
QUERIES_PER_FIELD = 3


def value_hints(engine: LocalEngine, plan: Plan) -> list[str]:
    """Sentences naming the values of ``plan`` that no series of the index holds."""
    hints: list[str] = []
    for f, values in _wanted(plan.selection).items():
        reading = engine.target.reading(f)
        assert reading is not None
        few = _distinct(engine, f, reading, FEW + 1)
        if len(few) <= FEW:
            held = set(few)
            missing = [v for v in values if v not in held]
            unmatched, first = len(missing), missing[:SHOWN]
            meant = {v: _close(v, few) for v in first}
        else:
            unmatched, first = _unmatched(engine, f, reading, values, SHOWN)
            meant = _other_cases(engine, f, reading, first, 3)
        for value in first:
            others = meant.get(value) or []
            also = f"; did you mean {' or '.join(map(repr, others))}?" if others else ""
            hints.append(f"no series has {f.name} {value!r}{also}")
        if unmatched > len(first):
            more = unmatched - len(first)
            hints.append(
                f"no series has {more:,} more of the {f.name} values asked for "
                f"({unmatched:,} of {len(values):,} in all)"
            )
    return hints


def _held(f: Field, reading: exp.Expr) -> exp.Select:
    """The values the index holds for a field (NULL left out): each of a multi-valued
    field's values."""
    value: exp.Expr = reading.copy()
    if f.separator is not None:
        split = exp.Split(this=value.copy(), expression=exp.Literal.string(f.separator))
        value = exp.Unnest(expressions=[split])
    return (
        exp.select(exp.Alias(this=value, alias=exp.to_identifier("v")))
        .from_("idc_index")
        .where(exp.Not(this=exp.Is(this=reading.copy(), expression=exp.Null())), copy=False)
    )


def _distinct(engine: LocalEngine, f: Field, reading: exp.Expr, limit: int) -> list[str]:
    """Up to ``limit`` distinct values of a field, sorted."""
    query = (
        _held(f, reading).distinct(copy=False).order_by("v", copy=False).limit(limit, copy=False)
    )
    return [row[0] for row in engine.lookup(query) if isinstance(row[0], str)]


def _unmatched(
    engine: LocalEngine, f: Field, reading: exp.Expr, values: list[str], limit: int
) -> tuple[int, list[str]]:
    """How many of ``values`` no series holds, and the first ``limit`` of them (in order)."""
    wanted = engine.stored_list(values).as_("w", copy=False)
    held = exp.Subquery(this=_held(f, reading))
    total = exp.Window(this=exp.Count(this=exp.Star()))
    query = (
        exp.select(exp.column("_v", table="w"), exp.alias_(total, "n", copy=False))
        .from_(wanted, copy=False)
        .where(exp.Not(this=exp.In(this=exp.column("_v", table="w"), query=held)), copy=False)
        .order_by(exp.column("rowid", table="w"), copy=False)
        .limit(limit, copy=False)
    )
    rows = engine.lookup(query)
    return (int(rows[0][1]) if rows else 0), [row[0] for row in rows]


def _other_cases(
    engine: LocalEngine, f: Field, reading: exp.Expr, values: list[str], per_value: int
) -> dict[str, list[str]]:
    """For each of a few ``values``, up to ``per_value`` values of the field that differ from
    it in case only."""
    if not values:
        return {}
    asked = exp.Unnest(
        expressions=[exp.Placeholder(this="asked")],
        alias=exp.TableAlias(this=exp.to_identifier("w"), columns=[exp.to_identifier("_v")]),
    )
    held = exp.Subquery(
        this=_held(f, reading).distinct(copy=False),
        alias=exp.TableAlias(this=exp.to_identifier("i")),
    )
    same = exp.EQ(
        this=exp.Lower(this=exp.column("v", table="i")),
        expression=exp.Lower(this=exp.column("_v", table="w")),
    )
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[exp.column("_v", table="w")],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("v", table="i"))]),
    )
    query = (
        exp.select(exp.column("_v", table="w"), exp.column("v", table="i"))
        .from_(asked, copy=False)
        .join(held, on=same, copy=False)
        .qualify(exp.LTE(this=rank, expression=exp.Literal.number(per_value)), copy=False)
        .order_by(exp.column("_v", table="w"), exp.column("v", table="i"), copy=False)
    )
    out: dict[str, list[str]] = {}
    for asked_value, held_value in engine.lookup(query, {"asked": values}):
        out.setdefault(asked_value, []).append(held_value)
    return out


def _close(value: str, few: list[str]) -> list[str]:
    """What ``value`` may have meant among a field's few values."""
    meant = [c for c in few if c.casefold() == value.casefold()]
    return meant or difflib.get_close_matches(value, few, n=3, cutoff=0.6)


def _wanted(selection: Selection) -> dict[Field, list[str]]:
    """The text values each field is asked to equal, each once, in the order asked."""
    wanted: dict[Field, dict[str, None]] = {}
    for atom in _atoms(selection):
        f = atom.field
        if f.kind != "string" or f.instance_level or f.segment_level:
            continue
        for op, arg in atom.ops:
            if op in ("eq", "in"):
                values = arg if isinstance(arg, list | tuple) else [arg]
                wanted.setdefault(f, {}).update(
                    dict.fromkeys(v for v in values if isinstance(v, str))
                )
    return {f: list(values) for f, values in wanted.items()}


def _atoms(selection: Selection) -> list[Atom]:
    from ..plan import atoms_in

    out: list[Atom] = []
    seen: set[int] = set()
    stack = [selection]
    while stack:  # a set's member may be named many times: its atoms are looked at once
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out += atoms_in(current.where)
        stack.extend(reversed(current.members))
    return out
