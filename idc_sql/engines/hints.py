"""Values that match nothing: the values a cohort asks for that no series holds, and ``like``
patterns written with ``*`` or ``?``. Told on every run (a typo inside a list otherwise vanishes
silently); they change neither the result nor the exit status.

The values a cohort asks for by equality (``eq``, ``in``, ``in_file``) are looked up in the
local index; each one no series holds is named, with what it may have meant: the same letters
in another case, or a close spelling among a field's values when they are few. A multi-valued
field (its index column joins several values: ``Field.separator``) is looked up value by value.

The cost is bounded whatever the number of values: per field, at most :data:`QUERIES_PER_FIELD`
queries, each returning at most ``FEW + 1`` rows. A field with few values is read whole and
the rest is done in Python; otherwise one query joins the values asked for (stored as a table)
against the index's and returns how many no series holds and the first :data:`SHOWN` of them, in
the order they were asked for, and one more looks for those in another case. The rest are
counted, not named.
"""

from __future__ import annotations

import difflib
import json
import os
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
        few = _few_values(engine, f, reading)
        if len(few) <= FEW:
            held = set(few)
            missing = [v for v in values if v not in held]
            unmatched, first = len(missing), missing[:SHOWN]
            meant = {v: _close(v, few) for v in first}
        else:
            unmatched, first = _unmatched(engine, f, reading, values, SHOWN)
            # a value without letters (a UID, a number) has no other case to look for
            cased = [v for v in first if v.lower() != v.upper()]
            meant = _other_cases(engine, f, reading, cased, 3)
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


def _few_values(engine: LocalEngine, f: Field, reading: exp.Expr) -> list[str]:
    """The distinct values of field ``f`` (sorted), or ``FEW + 1`` of them when it has more:
    read from the index once, then kept in the cache folder (a file per index package), so that
    a run costs no scan of the index for a field of few values."""
    path = engine.cache_dir / "values" / f"idc-index-data-{engine.package_version}.json"
    key = str(engine.directory)
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        known = cached["fields"] if cached.get("index") == key else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        known = {}
    values = known.get(f.name)
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return values
    values = _distinct(engine, f, reading, FEW + 1)
    try:  # a cache that cannot be written is no failure: the next run reads the index again
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"index": key, "fields": {**known, f.name: values}})
        part = path.with_name(f".{path.name}.{os.getpid()}.part")
        part.write_text(body, encoding="utf-8")
        os.replace(part, path)
    except OSError:
        pass
    return values


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
    """What ``value`` may have meant among a field's few values: the same but for case, then
    for ``-``, ``_`` and spaces (``NSCLC-Radiomics``: ``nsclc_radiomics``), then a close
    spelling."""
    meant = [c for c in few if c.casefold() == value.casefold()]
    if meant:
        return meant
    folded = {_folded(c): c for c in reversed(few)}
    if _folded(value) in folded:
        return [folded[_folded(value)]]
    hits = difflib.get_close_matches(_folded(value), list(folded), n=3, cutoff=0.6)
    return [folded[h] for h in hits]


def _folded(value: str) -> str:
    return value.casefold().replace("-", "_").replace(" ", "_")


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


def _nested(atoms: list[Atom]) -> list[Atom]:
    """``atoms`` and the conditions on sub-fields within their DICOM sequences (``has``)."""
    from ..plan import Within

    out = []
    stack = list(reversed(atoms))
    while stack:
        atom = stack.pop()
        out.append(atom)
        for _, arg in atom.ops:
            if isinstance(arg, Within):
                stack.extend(reversed(arg.items))
    return out


def pattern_warnings(plan: Plan) -> list[str]:
    """``like`` and ``ilike`` patterns written with ``*`` or ``?`` and without ``%`` or ``_``:
    those match themselves there, so the pattern probably matches nothing."""
    out: dict[str, None] = {}
    for atom in _nested(_atoms(plan.selection)):
        for op, arg in atom.ops:
            if op not in ("like", "ilike") or not isinstance(arg, str):
                continue
            if not any(c in arg for c in "*?") or any(c in arg for c in "%_"):
                continue
            meant = arg.replace("*", "%").replace("?", "_")
            out[
                f"{atom.field.name} {op} {arg!r}: * and ? match themselves in {op}, whose "
                f"wildcards are % (any text) and _ (one character); did you mean {meant!r}?"
            ] = None
    return list(out)
