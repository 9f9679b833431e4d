"""Planning: a validated specification becomes a dialect-neutral logical plan for one engine.

Here every field name is resolved against the catalog, every value is checked against the
field's kind, and everything the engine cannot answer is refused with a message naming one
that can. The plan holds no SQL; :mod:`idc_sql.compiler` renders it. The release is settled by
the engine before planning (:func:`requested_release` says what the specification asks for).
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import partial
from typing import Any, Literal

from .. import catalog
from ..catalog import Field
from ..errors import SpecError, UnknownFieldError, UnsupportedError, several
from ..release import Release
from ..schema import ELEMENT, LiveSchema, as_number, element
from ..spec import (
    FILE_OPERATORS,
    AllOf,
    AnyOf,
    CohortSpec,
    FieldConditions,
    Not,
    Ops,
    PatientHas,
    SegmentedBy,
    Segments,
    SetSpec,
    Spec,
    StudyHas,
    misplaced,
)
from ..targets import Target, answering, reading_engines, run_on
from .aggregates import AGGREGATE, aggregate_column, choices
from .files import file_values
from .licenses import declared
from .nodes import (
    DEFAULT_ORDER,
    UNIT_KEYS,
    And,
    Atom,
    Has,
    Negate,
    Node,
    Or,
    Plan,
    Selection,
    atoms_in,
    fields_in,
    per_value,
)
from .sequences import Within, sequence_atom
from .simplify import simplify
from .survey import survey
from .values import all_numbers, allowed_ops, check_value, wrong_op

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_ORDER",
    "UNIT_KEYS",
    "And",
    "Atom",
    "Has",
    "Negate",
    "Node",
    "Or",
    "Plan",
    "Selection",
    "UnknownFieldError",
    "Within",
    "atoms_in",
    "fields_in",
    "per_value",
    "plan",
    "requested_release",
]

#: what a result shows when the spec names no columns
DEFAULT_COLUMNS = (
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "instanceCount",
    "series_size_MB",
)


#: the live dicom_all schema while a plan is made (None: only the catalog)
_SCHEMA: ContextVar[LiveSchema | None] = ContextVar("idc_sql_live_schema", default=None)


# ----------------------------------------------------------------------------- entry point


def plan(
    spec: Spec,
    target: Target,
    release: Release,
    *,
    also: tuple[str, ...] = (),
    schema: LiveSchema | None = None,
) -> Plan:
    """Check ``spec`` for the engine ``target`` reading ``release``, and return its plan.

    ``also`` names fields the result must carry besides the chosen columns (what a summary or
    a writer needs). ``schema`` is the live dicom_all schema, which lets a cohort name any
    column of it on an engine that reads one.
    """
    token = _SCHEMA.set(schema if target.can("live_schema") else None)
    try:
        return _plan(spec, target, release, also)
    except SpecError as first:  # the others too, found by checking each part on its own
        raise several(
            [first, *survey(spec, partial(_atom, target=target), _check_column(target))]
        ) from None
    finally:
        _SCHEMA.reset(token)


def _check_column(target: Target) -> Any:
    return lambda name, where: _column(name, target, where)


def _plan(spec: Spec, target: Target, release: Release, also: tuple[str, ...]) -> Plan:
    where = spec.origin
    selection = _selection(spec, target, where)
    names = list(spec.columns) if spec.columns is not None else list(DEFAULT_COLUMNS)
    columns = tuple(
        _column(name, target, _loc(where, f"columns[{i}]")) for i, name in enumerate(names)
    )
    seen = {c.name for c in columns}
    if len(seen) != len(columns):
        names_before = [c.name for c in columns]
        dup = next(n for i, n in enumerate(names_before) if n in names_before[:i])
        raise SpecError(_loc(where, "columns"), f"{dup} is listed twice")
    extra: list[Field] = []
    licenses = declared(spec)
    if licenses:  # what the cohort holds is checked once it has run
        also = (*also, "license_short_name")
    for name in also:
        f = catalog.field(name)
        if f.name not in seen:
            seen.add(f.name)
            extra.append(f)
    return Plan(
        name=spec.name,
        target=target,
        release=release,
        selection=selection,
        columns=columns,
        extra_columns=tuple(extra),
        licenses=licenses,
    )


def requested_release(spec: Spec) -> tuple[int | Literal["current"], str]:
    """The release ``spec`` asks for (a set's members must agree), and where it says so."""
    version: int | Literal["current"] = spec.idc_version or "current"
    if isinstance(spec, SetSpec):
        for member in spec.members:
            mv, _ = requested_release(member)
            if spec.idc_version is None and member.idc_version is not None:
                version = mv if version == "current" else version
            if member.idc_version is not None and mv != version:
                raise SpecError(
                    _loc(spec.origin, "idc_version"),
                    f"members disagree on idc_version ({member.origin} has {mv}, this has "
                    f"{version}); a set combines cohorts of one release",
                )
    return version, _loc(spec.origin, "idc_version")


def _selection(
    spec: Spec, target: Target, where: str, done: dict[int, Selection] | None = None
) -> Selection:
    """The selection of ``spec``; a member named many times is planned once and shared
    (``done``: the selections planned so far, by spec), so that a set of sets that name each
    other's members costs what its distinct members do."""
    done = {} if done is None else done
    known = done.get(id(spec))
    if known is not None:
        return known
    selection = _selection_of(spec, target, where, done)
    done[id(spec)] = selection
    return selection


def _selection_of(spec: Spec, target: Target, where: str, done: dict[int, Selection]) -> Selection:
    order = tuple(_order(spec.order_by, target, where))
    if isinstance(spec, SetSpec):
        members = tuple(_selection(m, target, m.origin, done) for m in spec.members)
        op = spec.operation
        operation: Literal["union", "intersect", "except"] = (
            "union" if op == "union" else "intersect" if op == "intersect" else "except"
        )
        return Selection(
            operation=operation, members=members, order=order, limit=spec.limit, unit=spec.unit
        )
    assert isinstance(spec, CohortSpec)
    node = None
    if spec.where is not None:
        node = simplify(_predicate(spec.where, target, spec.instances, _loc(where, "where")))
    return Selection(where=node, order=order, limit=spec.limit, unit=spec.unit)


def _order(keys: list[str], target: Target, where: str) -> list[tuple[Field, bool]]:
    out = []
    for i, key in enumerate(keys):
        desc = key.startswith("-")
        f = _column(key.lstrip("-"), target, _loc(where, f"order_by[{i}]"))
        out.append((f, desc))
    return out


def _column(name: str, target: Target, where: str) -> Field:
    summed = AGGREGATE.match(name)
    if summed:
        if not target.can("instance_columns"):
            raise UnsupportedError(
                where,
                f"{name} sums up the values of a series' instances, which "
                f"{target.description} does not carry; ",
                *run_on(answering("instance_columns")),
            )
        base = _field(summed["name"], target, where)
        return aggregate_column(base, summed["aggregate"], where)
    f = _field(name, target, where)
    if f.instance_level or f.segment_level:
        shown = f"name {choices(f.name)}, or " if f.instance_level else ""
        raise UnsupportedError(
            where,
            f"{f.name} is recorded per instance and a series has many values; {shown}"
            "select series-level fields and filter on instance fields in where",
        )
    return f


def _field(name: str, target: Target, where: str) -> Field:
    match = ELEMENT.match(name)
    if match:
        base = _field(match["name"], target, where)
        if not base.repeated:
            raise SpecError(
                where,
                f"{base.name} holds one value per instance; [i] reads an "
                "element of a repeated field (e.g. PixelSpacing[0])",
            )
        return element(base, int(match["index"]))
    try:
        f = catalog.field(name)
    except KeyError:
        return _uncatalogued(name, target, where)
    if target.read(f) is None:
        raise UnsupportedError(where, f"{f.name} {target.lacks(f)}; ", *run_on(reading_engines(f)))
    return f


def _uncatalogued(name: str, target: Target, where: str) -> Field:
    schema = _SCHEMA.get()
    if schema is not None:
        f = schema.field(name)
        if f is not None:
            return f
        column = schema.columns.get(name.casefold())
        if column is not None:
            from ..schema import unsupported_reason

            raise UnsupportedError(where, unsupported_reason(column))
    pool = list(catalog.FIELDS) + (schema.names if schema is not None else [])
    close = catalog.suggest(name, pool)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    message = f"unknown field {name!r}{hint}"
    if not target.can("live_schema"):
        message += target.fields_hint
    elif schema is None:
        message += " (not in the catalog; not checked against the live dicom_all schema)"
    else:
        message += f" (neither in the catalog nor in {schema.source})"
    raise UnknownFieldError(where, message, name, schema_checked=schema is not None)


# ----------------------------------------------------------------------------- predicates


def _predicate(node: Any, target: Target, instances: Any, where: str) -> Node:
    if isinstance(node, AllOf):
        return And(
            tuple(
                _predicate(p, target, instances, f"{where}.all[{i}]")
                for i, p in enumerate(node.all)
            )
        )
    if isinstance(node, AnyOf):
        return Or(
            tuple(
                _predicate(p, target, instances, f"{where}.any[{i}]")
                for i, p in enumerate(node.any)
            )
        )
    if isinstance(node, Not):
        return Negate(_predicate(node.not_, target, instances, f"{where}.not"))
    if isinstance(node, StudyHas):
        return Has("study", _predicate(node.study_has, target, instances, f"{where}.study_has"))
    if isinstance(node, PatientHas):
        return Has(
            "patient", _predicate(node.patient_has, target, instances, f"{where}.patient_has")
        )
    if isinstance(node, SegmentedBy):
        if not target.can("segmented_by"):
            raise UnsupportedError(
                f"{where}.segmented_by",
                "which series a segmentation (SEG or RTSTRUCT) references is known from "
                "dicom_all; ",
                *run_on(answering("segmented_by")),
            )
        return Has(
            "segmentation",
            _predicate(node.segmented_by, target, instances, f"{where}.segmented_by"),
        )
    if isinstance(node, Segments):
        if not target.can("segments"):
            raise UnsupportedError(
                f"{where}.segments",
                "which series a segmentation (SEG or RTSTRUCT) references is known from "
                "dicom_all; ",
                *run_on(answering("segments")),
            )
        return Has("segments", _predicate(node.segments, target, instances, f"{where}.segments"))
    assert isinstance(node, FieldConditions)
    atoms = tuple(
        _atom(name, cond, target, instances, f"{where}.{name}") for name, cond in node.root.items()
    )
    return atoms[0] if len(atoms) == 1 else And(atoms)


def _atom(name: str, condition: Any, target: Target, instances: Any, where: str) -> Node:
    top_level = misplaced(name)
    if top_level is not None:
        raise SpecError(where, top_level)
    if isinstance(condition, Ops) and condition.has is not None and not target.can("sequences"):
        raise UnsupportedError(
            f"{where}.has",
            f"conditions on DICOM sequences (has) read {name} of dicom_all, a REPEATED "
            f"RECORD that {target.description} does not carry; ",
            *run_on(answering("sequences")),
        )
    f = _field(name, target, where)
    if f.kind == "sequence":
        return sequence_atom(f, condition, instances, where, _checked)
    return _conditions(f, condition, instances, where)


def _checked(f: Field, condition: Any, where: str) -> Atom:
    node = _conditions(f, condition, "any", where)
    assert isinstance(node, Atom)
    return node


def _conditions(f: Field, condition: Any, instances: Any, where: str) -> Node:
    """The atom(s) of ``condition`` on the field ``f``, its operators and values checked."""
    if isinstance(condition, Ops):
        raw = condition.items()
    elif isinstance(condition, list):
        raw = [("in", condition)]
    else:
        raw = [("eq", condition)]
    if f.numeric_strings and f.kind == "string" and all_numbers(raw):
        f = as_number(f)
    allowed = allowed_ops(f)
    ops = []
    for op, value in raw:
        at = where if not isinstance(condition, Ops) else f"{where}.{op}"
        if op not in allowed:
            raise SpecError(at, wrong_op(f, op, isinstance(condition, Ops)))
        if op in FILE_OPERATORS:
            assert isinstance(condition, Ops)
            listed = "in" if op == "in_file" else "not_in"
            ops.append((listed, file_values(f, op, condition, at)))
        else:
            ops.append((op, check_value(f, op, value, at)))
    if not f.multi_valued:
        return Atom(field=f, ops=tuple(ops), instances=instances)
    # a multi-valued field: each value is tested, and a series matches when any of its values
    # does (every one, with instances: all); contains is equality with one of them; is_null
    # reads the series' values whole (it has none)
    tested = tuple(("eq" if op == "contains" else op, arg) for op, arg in ops if op != "is_null")
    whole = tuple((op, arg) for op, arg in ops if op == "is_null")
    parts = [Atom(field=f, ops=p, instances=instances) for p in (whole, tested) if p]
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _loc(origin: str, path: str) -> str:
    return f"{origin}: {path}" if origin else path
