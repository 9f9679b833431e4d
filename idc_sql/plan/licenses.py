"""A specification's ``licenses``: the licenses its cohort may hold, checked when planned.

Each name must be one IDC uses (:data:`idc_sql.catalog.licenses.LICENSES`, compared exactly);
a set specification holds to its own list and to each of its members'. What the cohort holds
is checked when it has run (:func:`idc_sql.citations.contract.enforce`), before anything is
written.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog.licenses import LICENSES, closest
from ..errors import SpecError
from ..spec import SetSpec, Spec


@dataclass(frozen=True)
class Licenses:
    """The licenses one specification allows, and where it says so (for messages)."""

    place: str
    allowed: tuple[str, ...]


def declared(spec: Spec) -> tuple[Licenses, ...]:
    """Every ``licenses`` of ``spec`` and its members (a member named twice counts once),
    each name checked against the licenses IDC uses."""
    found: list[Licenses] = []
    seen: set[int] = set()
    stack = [spec]
    while stack:
        one = stack.pop()
        if id(one) in seen:
            continue
        seen.add(id(one))
        if one.licenses is not None:
            found.append(_checked(one))
        if isinstance(one, SetSpec):
            stack.extend(reversed(one.members))
    return tuple(found)


def _checked(spec: Spec) -> Licenses:
    assert spec.licenses is not None
    place = f"{spec.origin}: licenses" if spec.origin else "licenses"
    for i, name in enumerate(spec.licenses):
        if name not in LICENSES:
            close = closest(name)
            hint = f"did you mean {close[0]!r}? " if close else ""
            known = ", ".join(repr(x) for x in LICENSES)
            raise SpecError(
                f"{place}[{i}]",
                f"{name!r} is not a license IDC uses; {hint}IDC's licenses are {known} "
                "(compared exactly, as license_short_name spells them)",
            )
    return Licenses(place, tuple(dict.fromkeys(spec.licenses)))
