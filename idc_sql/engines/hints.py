"""Why a cohort may have come back empty: the values it asks for that no series holds.

The values a cohort asks for by equality (``eq``, ``in``) are looked up in the local index;
each one no series holds is named, with what it may have meant: the same letters in another
case, or a close spelling among a field's values when they are few.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..catalog import Field
    from ..plan import Atom, Plan, Selection
    from .local import LocalEngine

#: a field with at most this many values is read whole for close spellings
FEW = 500


def value_hints(engine: LocalEngine, plan: Plan) -> list[str]:
    """One sentence per value of ``plan`` that no series of the index holds."""
    wanted: dict[Field, list[str]] = {}
    for atom in _atoms(plan.selection):
        f = atom.field
        if f.kind != "string" or f.instance_level or f.segment_level:
            continue
        for op, arg in atom.ops:
            if op in ("eq", "in"):
                values = arg if isinstance(arg, list | tuple) else [arg]
                wanted.setdefault(f, []).extend(v for v in values if isinstance(v, str))
    hints = []
    for f, values in wanted.items():
        reading = engine.target.reading(f)
        assert reading is not None
        few = engine.distinct(reading, limit=FEW + 1)
        for value in dict.fromkeys(values):
            if len(few) <= FEW:
                if value in few:
                    continue
                meant = [c for c in few if c.casefold() == value.casefold()]
                meant = meant or difflib.get_close_matches(value, few, n=3, cutoff=0.6)
            else:
                if engine.distinct(reading, equal_to=value, limit=1):
                    continue
                meant = engine.distinct(reading, equal_to=value, fold_case=True, limit=3)
            also = f"; did you mean {' or '.join(map(repr, meant))}?" if meant else ""
            hints.append(f"no series has {f.name} {value!r}{also}")
    return hints


def _atoms(selection: Selection) -> list[Atom]:
    from ..plan import atoms_in

    return atoms_in(selection.where) + [a for m in selection.members for a in _atoms(m)]
