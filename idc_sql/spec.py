"""Cohort specifications: the public grammar, as strict Pydantic models.

A specification is written in YAML or JSON, or built in Python:

>>> spec = parse_spec({"name": "ct", "where": {"Modality": "CT"}})
>>> spec.name, spec.instances
('ct', 'any')
>>> try:
...     parse_spec({"name": "ct", "where": {"Modality": {"equals": "CT"}}})
... except SpecError as e:
...     print(e.location, "|", e.message[:26])
where.Modality.equals | unknown operator 'equals';

Only structure is checked here; field names, value types and engines are checked when the
specification is planned (:mod:`idc_sql.plan`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    RootModel,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from .errors import SpecError

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "lt",
    "lte",
    "gt",
    "gte",
    "between",
    "like",
    "ilike",
    "regex",
    "is_null",
    "contains",
)
NODE_KEYS = ("all", "any", "not", "study_has", "patient_has", "segmented_by")
SET_KEYS = ("union", "intersect", "except")

Scalar = Annotated[
    Union[StrictInt, StrictFloat, StrictStr, dt.date],
    Field(union_mode="left_to_right"),
]
Values = Annotated[list[Scalar], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        validate_default=True,
        populate_by_name=True,
        defer_build=True,
    )


_T = TypeVar("_T")


class _DeferredRoot(RootModel[_T], Generic[_T]):
    # Parametrising RootModel directly builds a validator for the parametrised class at once,
    # which the subclass then builds again; deferring both halves the cost of importing.
    model_config = ConfigDict(defer_build=True)


class Ops(_Strict):
    """A mapping of operators to values; several operators are ANDed."""

    eq: Scalar | None = None
    ne: Scalar | None = None
    in_: Values | None = Field(default=None, alias="in")
    not_in: Values | None = None
    lt: Scalar | None = None
    lte: Scalar | None = None
    gt: Scalar | None = None
    gte: Scalar | None = None
    between: Annotated[list[Scalar], Field(min_length=2, max_length=2)] | None = None
    like: StrictStr | None = None
    ilike: StrictStr | None = None
    regex: StrictStr | None = None
    is_null: StrictBool | None = None
    contains: Scalar | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            if not data:
                raise ValueError("an operator mapping must not be empty")
            for key, value in data.items():
                if value is None and key in OPERATORS:
                    raise ValueError(
                        f"operator {key!r} has no value; to select missing values use is_null: true"
                    )
        return data

    def items(self) -> list[tuple[str, Any]]:
        """The operators that are set, in grammar order, with their values."""
        return [
            (op, getattr(self, "in_" if op == "in" else op))
            for op in OPERATORS
            if getattr(self, "in_" if op == "in" else op) is not None
        ]


def _condition_kind(value: Any) -> str:
    if isinstance(value, Mapping | Ops):
        return "ops"
    if isinstance(value, list | tuple):
        return "list"
    return "scalar"


Condition = Annotated[
    Union[
        Annotated[Scalar, Tag("scalar")],
        Annotated[Values, Tag("list")],
        Annotated[Ops, Tag("ops")],
    ],
    Discriminator(_condition_kind),
]


class AllOf(_Strict):
    """Every predicate holds."""

    all: list[Predicate] = Field(min_length=1)


class AnyOf(_Strict):
    """At least one predicate holds."""

    any: list[Predicate] = Field(min_length=1)


class Not(_Strict):
    """The complement over series: every series the predicate does not select."""

    not_: Predicate = Field(alias="not")


class StudyHas(_Strict):
    """The series' study also has a series matching the predicate."""

    study_has: Predicate


class PatientHas(_Strict):
    """The series' patient (within its collection) also has a series matching the predicate."""

    patient_has: Predicate


class SegmentedBy(_Strict):
    """The series is segmented by a SEG series matching the predicate (BigQuery only)."""

    segmented_by: Predicate


class FieldConditions(_DeferredRoot[dict[str, Condition]]):
    """Field names mapped to conditions; several fields are ANDed."""

    root: dict[str, Condition] = Field(min_length=1)


def _predicate_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {
            AllOf: "all",
            AnyOf: "any",
            Not: "not",
            StudyHas: "study_has",
            PatientHas: "patient_has",
            SegmentedBy: "segmented_by",
            FieldConditions: "fields",
        }.get(type(value))
    if not isinstance(value, Mapping):
        return None
    nodes = [k for k in NODE_KEYS if k in value]
    if len(nodes) > 1 or (nodes and len(value) > 1):
        return "mixed"
    return nodes[0] if nodes else "fields"


Predicate = Annotated[
    Union[
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[Not, Tag("not")],
        Annotated[StudyHas, Tag("study_has")],
        Annotated[PatientHas, Tag("patient_has")],
        Annotated[SegmentedBy, Tag("segmented_by")],
        Annotated[FieldConditions, Tag("fields")],
    ],
    Discriminator(
        _predicate_kind,
        custom_error_type="predicate",
        custom_error_message=(
            "a predicate is a mapping with exactly one of all, any, not, study_has, "
            "patient_has, segmented_by, or a mapping of field names to conditions"
        ),
    ),
]


Name = Annotated[StrictStr, StringConstraints(pattern=NAME_PATTERN, max_length=128)]
Version = Union[Annotated[int, Field(gt=0, le=999)], Literal["current"]]


class _Common(_Strict):
    name: Name
    description: StrictStr = ""
    idc_version: Version | None = None
    columns: list[StrictStr] | None = Field(default=None, min_length=1)
    order_by: list[StrictStr] = Field(default_factory=list)
    limit: Annotated[int, Field(gt=0, le=2**63 - 1)] | None = None

    _origin: str = PrivateAttr(default="")

    @property
    def origin(self) -> str:
        """Where the spec came from (a file path), for messages; empty when built in Python."""
        return self._origin


class CohortSpec(_Common):
    """A cohort defined by a predicate over series."""

    instances: Literal["any", "all"] = "any"
    where: Predicate | None = None


class SetSpec(_Common):
    """A cohort combining saved cohorts: union, intersect or except (the first minus the rest)."""

    union: list[StrictStr] | None = Field(default=None, min_length=2)
    intersect: list[StrictStr] | None = Field(default=None, min_length=2)
    except_: list[StrictStr] | None = Field(default=None, alias="except", min_length=2)

    _members: tuple[Spec, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _exactly_one(self) -> SetSpec:
        given = [k for k in SET_KEYS if self.paths_for(k) is not None]
        if len(given) != 1:
            raise ValueError("a set specification has exactly one of union, intersect, except")
        return self

    def paths_for(self, key: str) -> list[str] | None:
        return {"union": self.union, "intersect": self.intersect, "except": self.except_}[key]

    @property
    def operation(self) -> str:
        return next(k for k in SET_KEYS if self.paths_for(k) is not None)

    @property
    def paths(self) -> list[str]:
        paths = self.paths_for(self.operation)
        assert paths is not None
        return paths

    @property
    def members(self) -> tuple[Spec, ...]:
        """The member specifications, loaded from ``paths`` relative to this spec's file."""
        return self._members


Spec = Union[CohortSpec, SetSpec]


def _spec_kind(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "set" if isinstance(value, SetSpec) else "cohort"
    if isinstance(value, Mapping) and any(k in value for k in SET_KEYS):
        return "set"
    return "cohort"


class _SpecRoot(_DeferredRoot[Spec]):
    root: Annotated[
        Union[Annotated[CohortSpec, Tag("cohort")], Annotated[SetSpec, Tag("set")]],
        Discriminator(_spec_kind),
    ]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a specification (``idc-sql schema``)."""
    schema = _SpecRoot.model_json_schema(by_alias=True)
    schema["title"] = "idc-sql cohort specification"
    return schema


# ----------------------------------------------------------------------------- parsing


def parse_spec(data: Any, *, origin: str = "", base_dir: Path | None = None) -> Spec:
    """Validate ``data`` (a mapping, as loaded from YAML or JSON) into a specification.

    ``origin`` names the source in messages; ``base_dir`` is where set members' paths start
    (the spec file's folder; the working directory when omitted).
    """
    return _parse(data, origin=origin, base_dir=base_dir or Path.cwd(), stack=())


def load_spec(path: str | Path) -> Spec:
    """Read a specification from a ``.yaml``, ``.yml`` or ``.json`` file."""
    return _load(Path(path), stack=())


def _load(path: Path, stack: tuple[Path, ...]) -> Spec:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(where, "no such file") from None
    except IsADirectoryError:
        raise SpecError(where, "is a directory, not a specification file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(where, f"cannot read: {e}") from e
    data = _decode(text, path)
    return _parse(data, origin=where, base_dir=path.parent, stack=(*stack, path.resolve()))


def _decode(text: str, path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates_json)
        except json.JSONDecodeError as e:
            raise SpecError(f"{path}:{e.lineno}:{e.colno}", f"malformed JSON: {e.msg}") from e
        except _DuplicateKey as e:
            line, column = _second_key_position(text, e.key)
            raise SpecError(
                f"{path}:{line}:{column}", f"malformed JSON: duplicate key {e.key!r}"
            ) from None
    if suffix in (".yaml", ".yml"):
        from ._yaml import YamlError, load_yaml

        try:
            return load_yaml(text)
        except YamlError as e:
            raise SpecError(f"{path}{e.position}", f"malformed YAML: {e.problem}") from e
    raise SpecError(str(path), "a specification file ends in .yaml, .yml or .json")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates_json(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _second_key_position(text: str, key: str) -> tuple[int, int]:
    """Line and column of the second ``"key":`` in ``text`` (json does not say where)."""
    import re

    hits = list(re.finditer(re.escape(json.dumps(key)) + r"\s*:", text))
    offset = hits[1].start() if len(hits) > 1 else 0
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _parse(data: Any, *, origin: str, base_dir: Path, stack: tuple[Path, ...]) -> Spec:
    if isinstance(data, CohortSpec | SetSpec):
        spec: Spec = data
    else:
        if not isinstance(data, Mapping):
            raise SpecError(origin, f"a specification is a mapping, got {_describe(data)}")
        try:
            spec = _SpecRoot.model_validate(data).root
        except ValidationError as e:
            location, message = explain(e, data)
            raise SpecError(_join(origin, location), message) from None
    spec._origin = origin
    if isinstance(spec, SetSpec):
        members = []
        for i, rel in enumerate(spec.paths):
            path = (base_dir / rel).resolve()
            place = _join(origin, f"{spec.operation}[{i}]")
            if path in stack:
                raise SpecError(place, f"{rel} includes itself (a cycle)")
            if not path.is_file():
                what = "is a directory" if path.is_dir() else "no such file"
                raise SpecError(place, f"{rel}: {what} (paths are relative to the spec's folder)")
            members.append(_load(path, stack))
        spec._members = tuple(members)
    return spec


def source_files(spec: Spec) -> list[Path]:
    """The files a specification was read from: its own and its members', resolved."""
    out = [Path(spec.origin).resolve()] if spec.origin else []
    if isinstance(spec, SetSpec):
        for member in spec.members:
            out += source_files(member)
    return out


def digest(spec: Spec) -> str:
    """SHA-256 of the specification's canonical content, members included (hex, 16 chars)."""
    payload = json.dumps(_canonical(spec), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _canonical(spec: Spec) -> dict[str, Any]:
    body = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(spec, SetSpec):
        body["members"] = [_canonical(m) for m in spec.members]
    return body


# ----------------------------------------------------------------------------- messages


def explain(error: ValidationError, data: Any) -> tuple[str, str]:
    """The place and a plain message for the first error Pydantic found in ``data``.

    Errors that share a place are the alternatives of one union: they are told as one.
    """
    located = [(e, *_locate(e["loc"], data)) for e in error.errors(include_url=False)]
    deepest = max(len(path) for _, path, _ in located)
    first, path, parent = next(x for x in located if len(x[1]) == deepest)
    misspelt = _misspelt_node(path)
    if misspelt is not None:
        return misspelt
    group = [e for e, p, _ in located if p == path]
    message = _union_message(group, path) if len(group) > 1 else _message(first, path, parent)
    others = len({tuple(p) for _, p, _ in located}) - 1
    if others:
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return _format_loc(path), message


def _misspelt_node(path: list[str | int]) -> tuple[str, str] | None:
    """A key where a predicate goes that is a near miss of a node key (``study_hass``,
    ``alll``): said as such, rather than as the field condition Pydantic took it for."""
    import difflib

    for i, key in enumerate(path):
        if not isinstance(key, str) or key in NODE_KEYS or i == 0:
            continue
        before = path[i - 1]
        predicate_place = (
            before == "where"
            or before in NODE_KEYS
            or (isinstance(before, int) and i >= 2 and path[i - 2] in ("all", "any"))
        )
        if not predicate_place:
            continue
        close = difflib.get_close_matches(key, NODE_KEYS, n=1, cutoff=0.8)
        if close:
            return _format_loc(
                path[: i + 1]
            ), f"unknown predicate {key!r}; did you mean {close[0]}?"
    return None


def _union_message(group: list[Any], path: list[str | int]) -> str:
    value = group[0].get("input")
    if path and path[-1] == "idc_version":
        return f"idc_version is a release number (1, 2, ...) or 'current', got {_describe(value)}"
    hint = " (to select missing values use is_null: true)" if value is None else ""
    if isinstance(value, bool):
        hint = " (YAML reads yes/no/on/off/true/false as booleans: quote the value)"
    return f"a value is a string, a number or a date, got {_describe(value)}{hint}"


def _locate(loc: tuple[Any, ...], data: Any) -> tuple[list[str | int], Any]:
    """Follow ``loc`` through ``data``, dropping the union tags Pydantic inserts."""
    path: list[str | int] = []
    node, parent = data, None
    for item in loc:
        in_mapping = isinstance(node, Mapping) and item in node
        in_list = isinstance(node, list | tuple) and isinstance(item, int) and item < len(node)
        if in_mapping or in_list:
            parent, node = node, node[item]
            path.append(item)
        elif item == "in_" and isinstance(node, Mapping) and "in" in node:
            parent, node = node, node["in"]
            path.append("in")
        elif isinstance(node, Mapping) and isinstance(item, str) and item not in _TAGS:
            # a key that is not in the data: missing, or extra at this level
            path.append(item)
            parent, node = node, None
        # else: a union tag such as 'fields', 'ops', 'scalar', 'list', 'cohort'
    return path, parent


_TAGS = {
    "segmented_by",
    "fields",
    "ops",
    "scalar",
    "list",
    "cohort",
    "set",
    "all",
    "any",
    "not",
    "study_has",
    "patient_has",
    "str",
    "int",
    "float",
    "date",
    "strict-int",
    "strict-float",
    "strict-str",
}


def _format_loc(loc: list[str | int]) -> str:
    out = ""
    for item in loc:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out


def _join(origin: str, location: str) -> str:
    if origin and location:
        return f"{origin}: {location}"
    return origin or location


def _message(error: Any, loc: list[str | int], parent: Any) -> str:
    kind = error["type"]
    key = loc[-1] if loc else None
    value = error.get("input")
    if kind == "extra_forbidden":
        if len(error["loc"]) > 1 and error["loc"][-2] == "ops":
            return f"unknown operator {key!r}; allowed: {', '.join(OPERATORS)}"
        allowed = _allowed_keys(parent)
        from .catalog import suggest

        close = suggest(str(key), allowed)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"{key!r} is required"
    if kind == "predicate":
        if isinstance(value, Mapping) and any(k in value for k in NODE_KEYS):
            return (
                "a predicate has exactly one of all, any, not, study_has, patient_has, "
                f"segmented_by and nothing beside it; got keys {', '.join(map(str, value))}"
            )
        return f"a predicate is a mapping (e.g. {{Modality: CT}}), got {_describe(value)}"
    if kind in ("too_short", "too_long") and key == "between":
        return f"between takes two values [low, high], got {len(value)}"
    if kind == "too_short":
        return "must not be empty" if not value else error["msg"].lower()
    if kind == "string_pattern_mismatch" and key == "name":
        return f"name {value!r} must match {NAME_PATTERN[1:-1]} (lower case, digits, . _ -)"
    if kind in (
        "int_type",
        "float_type",
        "string_type",
        "bool_type",
        "date_type",
        "list_type",
        "tuple_type",
        "dict_type",
        "literal_error",
        "greater_than",
        "int_parsing",
    ):
        hint = ""
        if isinstance(value, bool):
            hint = " (YAML reads yes/no/on/off/true/false as booleans: quote the value)"
        if value is None:
            hint = " (to select missing values use is_null: true)"
        return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {_describe(value)}{hint}"
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


def _allowed_keys(parent: Any) -> list[str]:
    if isinstance(parent, Mapping) and any(k in parent for k in SET_KEYS):
        model: type[BaseModel] = SetSpec
    else:
        model = CohortSpec
    return [f.alias or n for n, f in model.model_fields.items()]


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{type(value).__name__} {value!r}"
