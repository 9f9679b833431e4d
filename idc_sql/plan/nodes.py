"""The logical plan: dialect-neutral nodes that the compiler renders for one engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..catalog import Field

if TYPE_CHECKING:
    from ..release import Release
    from ..targets import Target
    from .licenses import Licenses

#: the order that makes results reproducible: ties always break on these
DEFAULT_ORDER = ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID")

#: the fields that name a unit, as the relations study_has and patient_has join on them: a
#: study is its StudyInstanceUID, a patient its PatientID within its collection
UNIT_KEYS: dict[str, tuple[str, ...]] = {
    "series": ("SeriesInstanceUID",),
    "study": ("StudyInstanceUID",),
    "patient": ("collection_id", "PatientID"),
}


@dataclass(frozen=True)
class Atom:
    """One field's condition: its operators, ANDed, with checked values."""

    field: Field
    ops: tuple[tuple[str, Any], ...]
    instances: Literal["any", "all"]


def per_value(atom: Atom) -> bool:
    """The atom tests each value of a multi-valued field (any or every one must match); only
    ``is_null`` reads the field whole (a series without any value)."""
    return atom.field.multi_valued and any(op != "is_null" for op, _ in atom.ops)


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Negate:
    item: Node


@dataclass(frozen=True)
class Has:
    """The series' study or patient has a series matching ``item``; or (``segmentation``) the
    series is segmented by a SEG or RTSTRUCT series matching it; or (``segments``) the series
    is a SEG or RTSTRUCT that references a series matching it."""

    level: Literal["study", "patient", "segmentation", "segments"]
    item: Node


Node = Atom | And | Or | Negate | Has


@dataclass(frozen=True)
class Selection:
    """Which series: a predicate (None = every series), or a set operation over members."""

    where: Node | None = None
    operation: Literal["union", "intersect", "except"] | None = None
    members: tuple[Selection, ...] = ()
    order: tuple[tuple[Field, bool], ...] = ()
    limit: int | None = None
    #: what the order and the limit apply to: series, or studies or patients (see UNIT_KEYS)
    unit: Literal["series", "study", "patient"] = "series"


def atoms_in(node: Node | None) -> list[Atom]:
    """Every condition of a predicate, relations' included, in order of appearance."""
    if node is None:
        return []
    if isinstance(node, Atom):
        return [node]
    if isinstance(node, And | Or):
        return [a for item in node.items for a in atoms_in(item)]
    return atoms_in(node.item)


def fields_in(node: Node | None) -> list[Field]:
    """Every field a predicate reads, in order of appearance (duplicates kept)."""
    return [atom.field for atom in atoms_in(node)]


@dataclass(frozen=True)
class Plan:
    """A checked specification for one engine and one release."""

    name: str
    target: Target
    release: Release
    selection: Selection
    columns: tuple[Field, ...]
    extra_columns: tuple[Field, ...]
    #: what the specification (and its members) declare in ``licenses``
    licenses: tuple[Licenses, ...] = ()

    @property
    def output(self) -> tuple[Field, ...]:
        return self.columns + self.extra_columns
