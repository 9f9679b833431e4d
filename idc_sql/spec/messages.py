"""Messages: a Pydantic ValidationError told as one place and one plain sentence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .keys import NODE_KEYS, OPERATOR_OPTIONS, OPERATORS, SET_KEYS, TOP_LEVEL_KEYS
from .models import NAME_PATTERN, CohortSpec, SetSpec


def explain(error: ValidationError, data: Any) -> list[tuple[str, str]]:
    """The place and a plain message of each problem Pydantic found in ``data``, in order.

    Errors that share a place are the alternatives of one union: they are told as one; so are
    errors at a place that another error's place goes deeper into (the alternatives of a union
    that did not get as far).
    """
    located = [(e, *_locate(e["loc"], data)) for e in error.errors(include_url=False)]
    places = [tuple(path) for _, path, _ in located]
    deeper = {p[:i] for p in places for i in range(len(p))}
    problems: list[tuple[str, str]] = []
    done: set[tuple[str | int, ...]] = set()
    for first, path, parent in located:
        place = tuple(path)
        if place in done or place in deeper:
            continue
        done.add(place)
        misspelt = _misspelt_node(path)
        if misspelt is not None:
            problems.append(misspelt)
            continue
        group = [e for e, p, _ in located if p == path]
        message = _union_message(group, path) if len(group) > 1 else _message(first, path, parent)
        problems.append((_format_loc(path), message))
    return problems


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
        return (
            "idc_version is a release number (1, 2, ...) or 'current', "
            f"got {describe(value)}{_quoted(value)}"
        )
    hint = " (to select missing values use is_null: true)" if value is None else ""
    if isinstance(value, bool):
        hint = " (YAML reads yes/no/on/off/true/false as booleans: quote the value)"
    return f"a value is a string, a number or a date, got {describe(value)}{hint}"


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
    "segments",
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


def join(origin: str, location: str) -> str:
    if origin and location:
        return f"{origin}: {location}"
    return origin or location


def _message(error: Any, loc: list[str | int], parent: Any) -> str:
    kind = error["type"]
    key = loc[-1] if loc else None
    value = error.get("input")
    if kind == "extra_forbidden":
        if len(error["loc"]) > 1 and error["loc"][-2] == "ops":
            return (
                f"unknown operator {key!r}; allowed: {', '.join((*OPERATORS, *OPERATOR_OPTIONS))}"
            )
        allowed = _allowed_keys(parent)
        from ..catalog import suggest

        close = suggest(str(key), allowed)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"{key!r} is required"
    if kind == "predicate":
        if isinstance(value, Mapping) and any(k in value for k in NODE_KEYS):
            top = [k for k in value if k in TOP_LEVEL_KEYS]
            hint = (
                f" ({', '.join(map(repr, top))} belong{'s' if len(top) == 1 else ''} to the "
                "specification's top level, beside name: move it out of where)"
                if top
                else ""
            )
            return (
                "a predicate has exactly one of all, any, not, study_has, patient_has, "
                "segmented_by, segments and nothing beside it; "
                f"got keys {', '.join(map(str, value))}{hint}"
            )
        return f"a predicate is a mapping (e.g. {{Modality: CT}}), got {describe(value)}"
    if kind in ("too_short", "too_long") and key == "between":
        return f"between takes two values [low, high], got {len(value)}"
    if kind == "too_short" and key in SET_KEYS:
        return f"{key} combines at least 2 cohorts, got {len(value)}"
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
        if error["type"] in ("int_type", "int_parsing", "float_type", "float_parsing"):
            hint = hint or _quoted(value)
        return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {describe(value)}{hint}"
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


def _allowed_keys(parent: Any) -> list[str]:
    if isinstance(parent, Mapping) and any(k in parent for k in SET_KEYS):
        model: type[BaseModel] = SetSpec
    else:
        model = CohortSpec
    return [f.alias or n for n, f in model.model_fields.items()]


def _quoted(value: Any) -> str:
    """A hint for a number written in quotes, which YAML and JSON read as text."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        return f" (in quotes a number is text: write it as {value.strip()}, without quotes)"
    return ""


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{type(value).__name__} {value!r}"
