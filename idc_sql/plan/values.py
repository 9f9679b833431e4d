"""Values of conditions, checked against their field's kind, and which operators a kind takes."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from ..catalog import Field
from ..errors import SpecError
from ..spec import FILE_OPERATORS, OPERATORS

_TEXT_ONLY = ("like", "ilike", "regex", *FILE_OPERATORS)
_REPEATED_ONLY = ("contains",)
_SEQUENCE_ONLY = ("has",)
#: which operators each kind of field takes (grammar order)
OPS_BY_KIND: dict[str, tuple[str, ...]] = {
    "string": tuple(op for op in OPERATORS if op not in (*_REPEATED_ONLY, *_SEQUENCE_ONLY)),
    "number": tuple(
        op for op in OPERATORS if op not in (*_TEXT_ONLY, *_REPEATED_ONLY, *_SEQUENCE_ONLY)
    ),
    "date": tuple(
        op for op in OPERATORS if op not in (*_TEXT_ONLY, *_REPEATED_ONLY, *_SEQUENCE_ONLY)
    ),
    "strings": ("contains", "is_null"),
    "numbers": ("contains", "is_null"),
    "sequence": ("has",),
}


def allowed_ops(f: Field) -> tuple[str, ...]:
    """The operators field ``f`` takes: a multi-valued text field also takes ``contains``."""
    if f.multi_valued and f.kind == "string":
        return (*OPS_BY_KIND["string"], "contains")
    return OPS_BY_KIND[f.kind]


def all_numbers(raw: list[tuple[str, Any]]) -> bool:
    values = [
        v
        for op, value in raw
        if op != "is_null"
        for v in (value if isinstance(value, list) else [value])
    ]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def wrong_op(f: Field, op: str, explicit: bool) -> str:
    if f.kind == "sequence":
        plain = [m.name for m in f.members if m.kind in ("string", "number")]
        first = plain[0] if plain else "Name"
        return (
            f"{f.name} is a DICOM sequence (a list of items per instance); a condition names "
            f"the items' sub-fields under has, e.g. {f.name}: {{has: {{{first}: ...}}}}"
        )
    if op == "has":
        return (
            "has is for DICOM sequences (REPEATED RECORD columns of dicom_all, e.g. "
            f"StructureSetROISequence); {f.name} is not one"
        )
    if f.repeated:
        what = "a value" if not explicit else f"'{op}'"
        return (
            f"{f.name} holds several values per instance; {what} cannot compare with it: "
            "use contains (or is_null)"
        )
    if op == "contains":
        return f"contains is for fields holding several values (e.g. ImageType); {f.name} holds one"
    kinds = {"number": "a number", "date": "a date"}
    what = "reads text values from a file" if op in FILE_OPERATORS else "compares text"
    return (
        f"{op} {what}; {f.name} compares as {kinds.get(f.kind, f.kind)} "
        f"(allowed: {', '.join(allowed_ops(f))})"
    )


#: text fields whose numbers are read from another field, and the form of their text
IN_NUMBERS = {"PatientAge": ("patient_age_years", "'065Y', '018M', '003W', '010D'")}


def check_value(f: Field, op: str, value: Any, where: str) -> Any:
    if op == "is_null":
        return value
    if f.name in IN_NUMBERS and _numbers(value):
        twin, form = IN_NUMBERS[f.name]
        shown = f"{{{op}: {value}}}" if op != "eq" else str(value)
        raise SpecError(
            where,
            f"{f.name} is text in DICOM's form ({form}), not a number; compare ages in "
            f"years with {twin} (e.g. {twin}: {shown})",
        )
    if op in ("in", "not_in"):
        if f.kind == "string" and all(type(v) is str for v in value):
            return tuple(value)  # a long list of text, checked at the speed of a loop in C
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


def _numbers(value: Any) -> bool:
    values = value if isinstance(value, list | tuple) else [value]
    return any(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
