"""The grammar of a specification: strict Pydantic models, one class a construct."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
    model_validator,
)

from .files import ValueFile
from .keys import NODE_KEYS, OPERATORS, SET_KEYS
from .limits import check_spec

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"

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
    #: a DICOM sequence (a REPEATED RECORD of dicom_all): some element of it has sub-fields
    #: that meet these conditions (several sub-fields: the same element meets them all)
    has: Annotated[dict[str, Condition], Field(min_length=1)] | None = None
    #: a file of values, read relative to the spec's folder when the spec is loaded
    in_file: Annotated[StrictStr, Field(min_length=1)] | None = None
    not_in_file: Annotated[StrictStr, Field(min_length=1)] | None = None
    #: the column of a .csv, .tsv or .parquet file that holds the values (default: the field's)
    column: Annotated[StrictStr, Field(min_length=1)] | None = None

    _files: dict[str, ValueFile] = PrivateAttr(default_factory=dict)

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

    @model_validator(mode="after")
    def _column_with_a_file(self) -> Ops:
        if self.column is not None and self.in_file is None and self.not_in_file is None:
            raise ValueError("column names the column of an in_file or not_in_file")
        return self

    def loaded(self, op: str) -> ValueFile | None:
        """The values of a file operator (``in_file``, ``not_in_file``), once the spec that
        holds it was loaded (:func:`~idc_sql.spec.load_spec`, :func:`~idc_sql.spec.parse_spec`)."""
        return self._files.get(op)

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


class Segments(_Strict):
    """The series is a segmentation (SEG or RTSTRUCT) of a series matching the predicate
    (BigQuery only)."""

    segments: Predicate


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
            Segments: "segments",
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
        Annotated[Segments, Tag("segments")],
        Annotated[FieldConditions, Tag("fields")],
    ],
    Discriminator(
        _predicate_kind,
        custom_error_type="predicate",
        custom_error_message=(
            "a predicate is a mapping with exactly one of all, any, not, study_has, "
            "patient_has, segmented_by, segments, or a mapping of field names to conditions"
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
    #: what ``limit`` and ``order_by`` count and order: series, or whole studies or patients
    #: (every selected series of the first ``limit`` studies or patients)
    unit: Literal["series", "study", "patient"] = "series"
    #: the licenses the cohort may hold (``license_short_name``); a series under any other
    #: stops the run. None: any license
    licenses: list[StrictStr] | None = Field(default=None, min_length=1)

    _origin: str = PrivateAttr(default="")
    #: the files of values its conditions read, each once
    _files: tuple[ValueFile, ...] = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _within_limits(cls, data: Any) -> Any:
        # before anything recursive sees the data; a SpecError passes through Pydantic as is
        check_spec(data)
        return data

    @property
    def origin(self) -> str:
        """Where the spec came from (a file path), for messages; empty when built in Python."""
        return self._origin

    @property
    def value_files(self) -> tuple[ValueFile, ...]:
        """The files of values (``in_file``, ``not_in_file``) its conditions read."""
        return self._files


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
