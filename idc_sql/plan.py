"""Planning: a validated specification becomes a dialect-neutral logical plan for one engine.

Here every field name is resolved against the catalog, every value is checked against the
field's kind, and everything the engine cannot answer is refused with a message naming one
that can. The plan holds no SQL; :mod:`idc_sql.compiler` renders it.
"""

from __future__ import annotations

import datetime as dt
import math
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from . import catalog
from .catalog import Field
from .errors import SpecError, UnsupportedError
from .schema import ELEMENT, LiveSchema, as_number, element
from .spec import (
    OPERATORS,
    AllOf,
    AnyOf,
    CohortSpec,
    FieldConditions,
    Not,
    Ops,
    PatientHas,
    SegmentedBy,
    SetSpec,
    Spec,
    StudyHas,
)

Engine = Literal["local", "bigquery"]
ENGINES: tuple[Engine, ...] = ("local", "bigquery")

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
#: what every result carries besides the chosen columns: manifest lines and the summary need them
REQUIRED_COLUMNS = (
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "series_size_MB",
    "aws_bucket",
    "crdc_series_uuid",
)
#: the order that makes results reproducible: ties always break on these
DEFAULT_ORDER = ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID")

_TEXT_ONLY = ("like", "ilike", "regex")
_REPEATED_ONLY = ("contains",)
#: which operators each kind of field takes (grammar order)
_OPS_BY_KIND: dict[str, tuple[str, ...]] = {
    "string": tuple(op for op in OPERATORS if op not in _REPEATED_ONLY),
    "number": tuple(op for op in OPERATORS if op not in (*_TEXT_ONLY, *_REPEATED_ONLY)),
    "date": tuple(op for op in OPERATORS if op not in (*_TEXT_ONLY, *_REPEATED_ONLY)),
    "strings": ("contains", "is_null"),
    "numbers": ("contains", "is_null"),
}


class UnknownFieldError(SpecError):
    """A field neither the catalog nor (when it was read) the live dicom_all schema knows."""

    def __init__(self, location: str, message: str, name: str, schema_checked: bool) -> None:
        super().__init__(location, message)
        self.name = name
        self.schema_checked = schema_checked


#: the live dicom_all schema while a BigQuery plan is made (None: only the catalog)
_SCHEMA: ContextVar[LiveSchema | None] = ContextVar("idc_sql_live_schema", default=None)


# ----------------------------------------------------------------------------- plan nodes


@dataclass(frozen=True)
class Atom:
    """One field's condition: its operators, ANDed, with checked values."""

    field: Field
    ops: tuple[tuple[str, Any], ...]
    instances: Literal["any", "all"]


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
    series is segmented by a SEG series matching it."""

    level: Literal["study", "patient", "segmentation"]
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


@dataclass(frozen=True)
class Plan:
    name: str
    engine: Engine
    idc_version: int | Literal["current"]
    selection: Selection
    columns: tuple[Field, ...]
    extra_columns: tuple[Field, ...]

    @property
    def output(self) -> tuple[Field, ...]:
        return self.columns + self.extra_columns


# ----------------------------------------------------------------------------- entry point


def plan(
    spec: Spec,
    engine: Engine,
    *,
    local_version: int | None = None,
    also: tuple[str, ...] = (),
    schema: LiveSchema | None = None,
) -> Plan:
    """Check ``spec`` for ``engine`` and return its plan.

    ``local_version`` is the IDC release of the installed local index; the local engine
    refuses any other ``idc_version``. ``also`` names fields the result must carry besides
    the chosen columns (e.g. those a manifest's destination template names). ``schema`` is the
    live dicom_all schema, which lets a BigQuery cohort name any column of it.
    """
    token = _SCHEMA.set(schema if engine == "bigquery" else None)
    try:
        return _plan(spec, engine, local_version, also)
    finally:
        _SCHEMA.reset(token)


def _plan(spec: Spec, engine: Engine, local_version: int | None, also: tuple[str, ...]) -> Plan:
    if engine not in ENGINES:
        raise SpecError("", f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    where = spec.origin
    version = _version(spec, engine, local_version)
    selection = _selection(spec, engine, version, where)
    names = list(spec.columns) if spec.columns is not None else list(DEFAULT_COLUMNS)
    columns = tuple(
        _column(name, engine, _loc(where, f"columns[{i}]")) for i, name in enumerate(names)
    )
    seen = {c.name for c in columns}
    if len(seen) != len(columns):
        dup = next(c.name for i, c in enumerate(columns) if c in columns[:i])
        raise SpecError(_loc(where, "columns"), f"{dup} is listed twice")
    extra: list[Field] = []
    for name in (*REQUIRED_COLUMNS, *also):
        f = catalog.field(name)
        if f.name not in seen:
            seen.add(f.name)
            extra.append(f)
    return Plan(
        name=spec.name,
        engine=engine,
        idc_version=version,
        selection=selection,
        columns=columns,
        extra_columns=tuple(extra),
    )


def _version(spec: Spec, engine: Engine, local_version: int | None) -> int | Literal["current"]:
    version: int | Literal["current"] = spec.idc_version or "current"
    if isinstance(spec, SetSpec):
        for member in spec.members:
            mv = _version(member, engine, local_version)
            if spec.idc_version is None and member.idc_version is not None:
                version = mv if version == "current" else version
            if member.idc_version is not None and mv != version:
                raise SpecError(
                    _loc(spec.origin, "idc_version"),
                    f"members disagree on idc_version ({member.origin} has {mv}, this has "
                    f"{version}); a set combines cohorts of one release",
                )
    if engine == "local" and local_version is not None:
        if version == "current":
            return local_version
        if version != local_version:
            raise UnsupportedError(
                _loc(spec.origin, "idc_version"),
                f"the local index is IDC v{local_version} (idc-index-data {local_version}.x); "
                f"for v{version} run with --engine bigquery (dataset idc_v{version}) or install "
                f"idc-index-data {version}.x",
            )
    return version


def _selection(spec: Spec, engine: Engine, version: Any, where: str) -> Selection:
    order = tuple(_order(spec.order_by, engine, where))
    if isinstance(spec, SetSpec):
        members = tuple(_selection(m, engine, version, m.origin) for m in spec.members)
        op = spec.operation
        if op == "union":
            return Selection(operation="union", members=members, order=order, limit=spec.limit)
        if op == "intersect":
            return Selection(operation="intersect", members=members, order=order, limit=spec.limit)
        return Selection(operation="except", members=members, order=order, limit=spec.limit)
    assert isinstance(spec, CohortSpec)
    node = None
    if spec.where is not None:
        node = _predicate(spec.where, engine, spec.instances, _loc(where, "where"))
    return Selection(where=node, order=order, limit=spec.limit)


def _order(keys: list[str], engine: Engine, where: str) -> list[tuple[Field, bool]]:
    out = []
    for i, key in enumerate(keys):
        desc = key.startswith("-")
        f = _column(key.lstrip("-"), engine, _loc(where, f"order_by[{i}]"))
        out.append((f, desc))
    return out


def _column(name: str, engine: Engine, where: str) -> Field:
    f = _field(name, engine, where)
    if f.instance_level or f.segment_level:
        raise UnsupportedError(
            where,
            f"{f.name} is recorded per instance and a series has many values; "
            "select series-level fields and filter on instance fields in where",
        )
    return f


def _field(name: str, engine: Engine, where: str) -> Field:
    match = ELEMENT.match(name)
    if match:
        base = _field(match["name"], engine, where)
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
        return _uncatalogued(name, engine, where)
    if f.reading(engine) is None:
        what = (
            "describes the segments of DICOM SEG series (BigQuery's segmentations table)"
            if f.segment_level
            else "is a per-instance DICOM attribute the local index does not carry"
        )
        raise UnsupportedError(where, f"{f.name} {what}; run this cohort with --engine bigquery")
    return f


def _uncatalogued(name: str, engine: Engine, where: str) -> Field:
    schema = _SCHEMA.get()
    if engine == "bigquery" and schema is not None:
        f = schema.field(name)
        if f is not None:
            return f
        column = schema.columns.get(name.casefold())
        if column is not None:
            from .schema import unsupported_reason

            raise UnsupportedError(where, unsupported_reason(column))
    pool = list(catalog.FIELDS) + (schema.names if schema is not None else [])
    close = catalog.suggest(name, pool)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    message = f"unknown field {name!r}{hint}"
    if engine == "local":
        message += " (`idc-sql fields --engine local` lists the local fields)"
    elif schema is None:
        message += " (not in the catalog; not checked against the live dicom_all schema)"
    else:
        message += f" (neither in the catalog nor in {schema.source})"
    raise UnknownFieldError(where, message, name, schema_checked=schema is not None)


# ----------------------------------------------------------------------------- predicates


def _predicate(node: Any, engine: Engine, instances: Any, where: str) -> Node:
    if isinstance(node, AllOf):
        return And(
            tuple(
                _predicate(p, engine, instances, f"{where}.all[{i}]")
                for i, p in enumerate(node.all)
            )
        )
    if isinstance(node, AnyOf):
        return Or(
            tuple(
                _predicate(p, engine, instances, f"{where}.any[{i}]")
                for i, p in enumerate(node.any)
            )
        )
    if isinstance(node, Not):
        return Negate(_predicate(node.not_, engine, instances, f"{where}.not"))
    if isinstance(node, StudyHas):
        return Has("study", _predicate(node.study_has, engine, instances, f"{where}.study_has"))
    if isinstance(node, PatientHas):
        return Has(
            "patient", _predicate(node.patient_has, engine, instances, f"{where}.patient_has")
        )
    if isinstance(node, SegmentedBy):
        if engine == "local":
            raise UnsupportedError(
                f"{where}.segmented_by",
                "which series a segmentation (SEG) references is known from dicom_all; "
                "run this cohort with --engine bigquery",
            )
        return Has(
            "segmentation",
            _predicate(node.segmented_by, engine, instances, f"{where}.segmented_by"),
        )
    assert isinstance(node, FieldConditions)
    atoms = tuple(
        _atom(name, cond, engine, instances, f"{where}.{name}") for name, cond in node.root.items()
    )
    return atoms[0] if len(atoms) == 1 else And(atoms)


def _atom(name: str, condition: Any, engine: Engine, instances: Any, where: str) -> Atom:
    f = _field(name, engine, where)
    if isinstance(condition, Ops):
        raw = condition.items()
    elif isinstance(condition, list):
        raw = [("in", condition)]
    else:
        raw = [("eq", condition)]
    if f.numeric_strings and f.kind == "string" and _all_numbers(raw):
        f = as_number(f)
    allowed = _OPS_BY_KIND[f.kind]
    ops = []
    for op, value in raw:
        at = where if not isinstance(condition, Ops) else f"{where}.{op}"
        if op not in allowed:
            raise SpecError(at, _wrong_op(f, op, isinstance(condition, Ops)))
        ops.append((op, _check_value(f, op, value, at)))
    return Atom(field=f, ops=tuple(ops), instances=instances)


def _all_numbers(raw: list[tuple[str, Any]]) -> bool:
    values = [
        v
        for op, value in raw
        if op != "is_null"
        for v in (value if isinstance(value, list) else [value])
    ]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def _wrong_op(f: Field, op: str, explicit: bool) -> str:
    if f.repeated:
        what = "a value" if not explicit else f"'{op}'"
        return (
            f"{f.name} holds several values per instance; {what} cannot compare with it: "
            "use contains (or is_null)"
        )
    if op == "contains":
        return f"contains is for fields holding several values (e.g. ImageType); {f.name} holds one"
    kinds = {"number": "a number", "date": "a date"}
    return (
        f"{op} compares text; {f.name} compares as {kinds.get(f.kind, f.kind)} "
        f"(allowed: {', '.join(_OPS_BY_KIND[f.kind])})"
    )


def _check_value(f: Field, op: str, value: Any, where: str) -> Any:
    if op == "is_null":
        return value
    if op in ("in", "not_in"):
        values = [_scalar(f, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return _homogeneous(values)
    if op == "between":
        low, high = (_scalar(f, v, f"{where}[{i}]") for i, v in enumerate(value))
        if high < low:
            raise SpecError(where, f"between [{low}, {high}] is empty: write [low, high]")
        return _homogeneous([low, high])
    if op == "regex":
        _check_regex(value, where)
        return value
    if op in ("like", "ilike"):
        trailing = len(value) - len(value.rstrip("\\"))
        if trailing % 2:
            raise SpecError(
                where,
                f"{op} pattern {value!r} ends with the escape character \\ "
                "(write \\\\ for a backslash; \\% and \\_ for literal % and _)",
            )
        return value
    return _scalar(f, value, where)


def _scalar(f: Field, value: Any, where: str) -> Any:
    kind = f.kind
    if kind in ("string", "strings"):
        if isinstance(value, str):
            return value
        raise SpecError(
            where, f"{f.name} compares as text; got {type(value).__name__} {value!r} (quote it)"
        )
    if kind in ("number", "numbers"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise SpecError(where, f"{f.name} needs a finite number, got {value!r}")
            return value
        raise SpecError(
            where, f"{f.name} compares as a number; got {type(value).__name__} {value!r}"
        )
    assert kind == "date"
    if isinstance(value, dt.datetime):
        raise SpecError(where, f"{f.name} compares as a date; got a date and time {value}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:  # YYYY-MM-DD, not the compact forms
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise SpecError(where, f"{f.name} compares as a date (YYYY-MM-DD); got {value!r}")


def _homogeneous(values: list[Any]) -> tuple[Any, ...]:
    """Lists bind as one typed array: an int among floats becomes a float. (A tuple: atoms are
    hashable, so that one condition read twice is aggregated once.)"""
    if any(isinstance(v, float) for v in values):
        return tuple(float(v) for v in values)
    return tuple(values)


def _check_regex(pattern: str, where: str) -> None:
    """Patterns run on RE2 (BigQuery and DuckDB alike): RE2 itself checks them."""
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(pattern, options)
    except re2.error as e:
        reason = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise SpecError(
            where, f"invalid regular expression {pattern!r} (RE2 syntax): {reason}"
        ) from None


def _loc(origin: str, path: str) -> str:
    return f"{origin}: {path}" if origin else path


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
