"""Hypothesis strategies for cohort specifications built from real values of the local index.

Values are drawn from what the index holds (per collection, so that conditions select
something), with a few that it does not hold (so that results are also empty) and the odd
values it does hold (non-ASCII and control characters, ``%`` and ``_`` inside descriptions).

Most specifications are anchored on one small collection (or a patient, a study, a pair of
collections) so that results stay small; the rest are global with a limit. Values come from
one "seed" series of that collection more often than not, so that conjunctions stay
satisfiable; two empty answers in three are drawn again. Predicates nest to depth 3 with
all/any/not/study_has/patient_has.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .evaluator import (
    KINDS,
    SEPARATORS,
    Index,
    NumberColumn,
    StringColumn,
    evaluate,
    load_index,
)

#: fields a predicate may name, repeated to weigh them; NULL-heavy ones come often
WHERE_FIELDS = (
    *("Modality", "BodyPartExamined", "SeriesDescription", "PatientAge", "analysis_result_id"),
    *("Modality", "BodyPartExamined", "SeriesDescription", "PatientAge", "analysis_result_id"),
    *("PatientSex", "Manufacturer", "SeriesNumber", "instanceCount", "series_size_MB"),
    *("PatientSex", "Manufacturer", "SeriesNumber", "instanceCount", "series_size_MB"),
    *("StudyDate", "SeriesDate", "patient_age_years", "StudyDescription", "collection_id"),
    *("StudyDate", "SeriesDate", "patient_age_years", "StudyDescription", "collection_id"),
    *("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "source_DOI", "license_short_name"),
    *("SOPClassUID", "sop_class_name", "TransferSyntaxUID", "transfer_syntax_name"),
    *("PhotometricInterpretation", "PixelRepresentation", "ManufacturerModelName"),
    *("series_init_idc_version", "series_revised_idc_version", "aws_bucket"),
    *("crdc_series_uuid", "series_aws_url"),
    # multi-valued: the values of a series' instances, and its collection's metadata
    *("TransferSyntaxUID", "transfer_syntax_name", "PhotometricInterpretation"),
    *("PixelRepresentation", "collection_cancerType", "collection_tumorLocation"),
    *("collection_cancerType", "collection_tumorLocation", "collection_species"),
    *("collection_name",),
)
#: text fields with too many distinct values to run like/ilike/regex over them cheaply
NO_PATTERNS = frozenset({"SeriesInstanceUID", "crdc_series_uuid", "series_aws_url"})
#: order_by keys: every field of the local index
ORDER_FIELDS = tuple(KINDS)

_COMPARE = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between")
#: operators by kind (patterns and is_null repeated to weigh them)
OPS = {
    "string": (*_COMPARE, *("like", "ilike", "regex", "is_null") * 2),
    "number": (*_COMPARE, "is_null", "is_null"),
    "date": (*_COMPARE, "is_null", "is_null"),
}
#: how a cohort is kept small (repeated to weigh them)
_SHAPES = ("collection",) * 3 + ("pair", "patient", "shared", "study", "modality", "modality")
_SHAPES += ("global",)
#: values no series has
ABSENT_TEXT = ("", "zz-absent", "CT ", "ct")
_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")
_PER_POOL = 60

#: specifications already compared (their canonical JSON): the tests reject one drawn again, so
#: that every example the engine runs is a new one (not here: a strategy must not depend on
#: what ran before)
AGREED: set[str] = set()
#: the evaluator's answers computed while drawing, for the test to reuse (canonical JSON -> uids)
ANSWERS: dict[str, list[str]] = {}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# ----------------------------------------------------------------------------- value pools


@dataclass(frozen=True)
class Scope:
    """Where values come from: a collection (None: anywhere) and one of its series (a row),
    whose own values are drawn often so that conjunctions stay satisfiable."""

    collection: str | None
    row: int


@dataclass
class Pools:
    """Distinct real values per field, globally or within one collection."""

    index: Index
    collections: list[str]
    small: list[str]
    _rows: dict[str, np.ndarray] = field(default_factory=dict)
    _values: dict[tuple[str, str | None], list[Any]] = field(default_factory=dict)
    _wild: dict[str, list[str]] = field(default_factory=dict)

    def wild(self, name: str) -> list[str]:
        """Up to 60 values of text field ``name`` holding a literal ``%`` or ``_``."""
        if name not in self._wild:
            values = self.index.strings(name).values
            hits = [v for v in values if "%" in v or "_" in v]
            self._wild[name] = hits[:: max(1, len(hits) // 60)][:60]
        return self._wild[name]

    @cached_property
    def shared_patients(self) -> list[int]:
        """One row of each patient whose PatientID is also used in another collection."""
        coll, pid = self.index.strings("collection_id"), self.index.strings("PatientID")
        pairs = np.unique(np.stack([pid.codes, coll.codes]), axis=1)
        ids, counts = np.unique(pairs[0], return_counts=True)
        shared = np.isin(pid.codes, ids[counts > 1])
        _, first = np.unique(
            np.stack([pid.codes, coll.codes])[:, shared], axis=1, return_index=True
        )
        return [int(r) for r in np.flatnonzero(shared)[first]]

    def rows(self, collection: str) -> np.ndarray:
        if collection not in self._rows:
            coll = self.index.strings("collection_id")
            code = coll.values.index(collection)
            self._rows[collection] = np.flatnonzero(coll.codes == code)
        return self._rows[collection]

    def values(self, name: str, collection: str | None) -> list[Any]:
        """Up to ~60 distinct non-NULL values of ``name``, evenly spread over their order."""
        key = (name, collection)
        if key not in self._values:
            self._values[key] = self._distinct(name, collection)
        return self._values[key]

    def value_at(self, name: str, row: int) -> Any:
        """The value of ``name`` in ``row``, as a spec would write it (None when NULL)."""
        col = self.index.column(name)
        if isinstance(col, StringColumn):
            code = int(col.codes[row])
            return None if code < 0 else col.values[code]
        return _written(col, [col.values[row]])[0] if not np.isnan(col.values[row]) else None

    def _distinct(self, name: str, collection: str | None) -> list[Any]:
        col = self.index.column(name)
        rows = self.rows(collection) if collection is not None else None
        if isinstance(col, StringColumn):
            codes = col.codes if rows is None else col.codes[rows]
            present = np.unique(codes[codes >= 0])
            picked = [col.values[int(c)] for c in _spread(present)]
            if name == "SeriesDescription" and collection is None:
                picked += odd_descriptions(col)
            return picked
        assert isinstance(col, NumberColumn)
        vals = col.values if rows is None else col.values[rows]
        present = np.unique(vals[~np.isnan(vals)])
        return _written(col, _spread(present))


def _written(col: NumberColumn, values: Any) -> list[Any]:
    """Numbers as ints when whole, dates as 'YYYY-MM-DD'."""
    if col.kind == "date":
        return [dt.date.fromordinal(int(v)).isoformat() for v in values]
    return [int(v) if float(v).is_integer() else float(v) for v in values]


def _spread(values: np.ndarray) -> np.ndarray:
    if len(values) <= _PER_POOL:
        return values
    return values[np.linspace(0, len(values) - 1, _PER_POOL).round().astype(int)]


def odd_descriptions(col: StringColumn) -> list[str]:
    """Descriptions with non-ASCII or control characters, or a literal % or _."""
    odd = [v for v in col.values if any(ord(c) < 32 or ord(c) > 126 for c in v)]
    wild = [v for v in col.values if "%" in v][:5] + [v for v in col.values if "_" in v][:5]
    return odd[:20] + wild


@cache
def pools() -> Pools:
    index = load_index()
    coll = index.strings("collection_id")
    sizes = np.bincount(coll.codes[coll.codes >= 0], minlength=len(coll.values))
    small = [v for v, n in zip(coll.values, sizes, strict=True) if n <= 3000]
    return Pools(index=index, collections=list(coll.values), small=small)


# ----------------------------------------------------------------------------- values


def real_value(draw: st.DrawFn, name: str, scope: Scope) -> Any:
    """The seed row's value (2 times in 3, when it has one) or another of the collection's;
    None when the field is NULL throughout. Of a multi-valued field, mostly one of the values
    (now and then the joined text, which matches no single value when it joins several)."""
    own = pools().value_at(name, scope.row)
    if own is not None and draw(st.sampled_from([True, True, False])):
        value = own
    else:
        real = pools().values(name, scope.collection) or pools().values(name, None)
        value = draw(st.sampled_from(real)) if real else None
    sep = SEPARATORS.get(name)
    if sep is not None and isinstance(value, str) and draw(st.integers(0, 5)) > 0:
        value = draw(st.sampled_from(value.split(sep)))
    return value


@st.composite
def scalar(draw: st.DrawFn, name: str, scope: Scope) -> Any:
    """A value for ``name``: mostly a real one, sometimes one no series has."""
    kind = KINDS[name]
    value = real_value(draw, name, scope)
    if value is None or draw(st.integers(0, 9)) == 0:
        return draw(_absent(kind))
    if kind == "number" and draw(st.integers(0, 5)) == 0:
        # near a real value, or a real integer written as a float
        value = draw(st.sampled_from([value + 0.5, value - 1, float(value)]))
    if kind == "date":
        shift = draw(st.sampled_from([0, 0, 0, 0, 1, -1, 30]))
        day = dt.date.fromisoformat(value) + dt.timedelta(days=shift)
        value = day if draw(st.integers(0, 9)) == 0 else day.isoformat()
    return value


def _absent(kind: str) -> st.SearchStrategy[Any]:
    if kind == "string":
        return st.sampled_from(ABSENT_TEXT)
    if kind == "number":
        return st.sampled_from([-1, 0, 1e9, 2.25, -0.5])
    return st.sampled_from(["1800-01-01", "2100-12-31", "2000-02-29"])


def _sort_key(name: str, value: Any) -> Any:
    if KINDS[name] == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    return value


@st.composite
def like_pattern(draw: st.DrawFn, value: str, *, fold: bool = False) -> str:
    """A LIKE pattern matching a piece of ``value`` (or not quite): literal % _ \\ escaped,
    some characters replaced by ``_``, ``%`` around the piece."""
    i = draw(st.integers(0, len(value)))
    j = draw(st.integers(i, min(len(value), i + 24)))
    holes = set(draw(st.lists(st.integers(i, max(i, j - 1)), max_size=2)))
    out = []
    for k in range(i, j):
        c = value[k]
        out.append("_" if k in holes else "\\" + c if c in "%_\\" else c)
    body = "".join(out)
    if fold:
        body = draw(st.sampled_from([body, body.swapcase(), body.upper(), body.lower()]))
    start = "%" if i > 0 else draw(st.sampled_from(["", "%"]))
    end = "%" if j < len(value) else draw(st.sampled_from(["", "%"]))
    return start + body + end


def _regex_literal(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


@st.composite
def regex_pattern(draw: st.DrawFn, value: str, other: str) -> str:
    """A simple regular expression that Python's re and RE2 read alike, from real values."""
    i = draw(st.integers(0, len(value)))
    j = draw(st.integers(i, min(len(value), i + 16)))
    piece = value[i:j]
    shape = draw(st.sampled_from(["plain", "anchored", "dot", "digits", "fold", "alternation"]))
    if shape == "dot" and piece:
        k = draw(st.integers(0, len(piece) - 1))
        return _regex_literal(piece[:k]) + "." + _regex_literal(piece[k + 1 :])
    if shape == "digits":
        return re.sub(r"[0-9]+", "[0-9]+", _regex_literal(piece))
    if shape == "fold":
        return "(?i)" + _regex_literal(piece.swapcase())
    if shape == "alternation":
        return _regex_literal(piece) + "|" + _regex_literal(other[:6])
    if shape == "anchored":
        return ("^" if i == 0 else "") + _regex_literal(piece) + ("$" if j == len(value) else "")
    return _regex_literal(piece)


@st.composite
def operator(draw: st.DrawFn, name: str, op: str, scope: Scope) -> Any:
    """The value of operator ``op`` on field ``name``."""
    kind = KINDS[name]
    if op == "is_null":
        return draw(st.booleans())
    if op in ("in", "not_in"):
        return draw(st.lists(scalar(name, scope), min_size=1, max_size=4))
    if op == "contains":
        return draw(scalar(name, scope))
    if op == "between":
        pair = draw(st.lists(scalar(name, scope), min_size=2, max_size=2))
        return sorted(pair, key=lambda v: _sort_key(name, v))
    if op in ("like", "ilike", "regex"):
        assert kind == "string"
        value = real_value(draw, name, scope) or "x"
        wild = pools().wild(name)
        if wild and op != "regex" and draw(st.sampled_from([False, False, True])):
            value = draw(st.sampled_from(wild))  # so that escaping % and _ matters
        if op == "regex":
            return draw(regex_pattern(value, real_value(draw, name, scope) or "y"))
        return draw(like_pattern(value, fold=op == "ilike"))
    return draw(scalar(name, scope))


@st.composite
def condition(draw: st.DrawFn, name: str, scope: Scope) -> Any:
    """A scalar (equality), a list (IN) or a mapping of 1-2 operators."""
    form = draw(st.sampled_from(["ops", "ops", "ops", "scalar", "list"]))
    if form == "scalar":
        return draw(scalar(name, scope))
    if form == "list":
        return draw(st.lists(scalar(name, scope), min_size=1, max_size=4))
    allowed = [
        op
        for op in OPS[KINDS[name]]
        if not (name in NO_PATTERNS and op in ("like", "ilike", "regex"))
    ]
    if name in SEPARATORS:
        allowed += ["contains", "contains"]
    count = draw(st.sampled_from([1, 1, 1, 2]))
    ops = draw(st.lists(st.sampled_from(allowed), min_size=count, max_size=count, unique=True))
    return {op: draw(operator(name, op, scope)) for op in ops}


def _spelled(draw: st.DrawFn, name: str) -> str:
    """Field names are case-insensitive: now and then spell one differently."""
    return draw(st.sampled_from([name] * 8 + [name.lower(), name.upper()]))


@st.composite
def fields(draw: st.DrawFn, scope: Scope) -> dict[str, Any]:
    count = draw(st.sampled_from([1, 1, 2]))
    names = draw(
        st.lists(st.sampled_from(WHERE_FIELDS), min_size=count, max_size=count, unique=True)
    )
    return {_spelled(draw, n): draw(condition(n, scope)) for n in names}


@st.composite
def predicate(draw: st.DrawFn, scope: Scope, depth: int = 3) -> dict[str, Any]:
    """A predicate nested up to ``depth`` levels below this one."""
    kinds = ["fields"]
    if depth > 0:
        kinds += ["fields", "fields", "fields", "all", "any", "any", "not", "not"]
    if depth > 1:  # study_has/patient_has cost the engine most: not at the innermost level
        kinds += ["study_has", "patient_has"] * (depth - 1)
    kind = draw(st.sampled_from(kinds))
    if kind == "fields":
        return draw(fields(scope))
    if kind in ("all", "any"):
        items = st.lists(predicate(scope, depth - 1), min_size=1, max_size=min(depth, 3))
        return {kind: draw(items)}
    if kind == "not":
        return {"not": draw(predicate(scope, depth - 1))}
    # the related series are described from this series, another of the collection, or any
    return {kind: draw(predicate(draw(related(scope)), depth - 1))}


@st.composite
def related(draw: st.DrawFn, scope: Scope) -> Scope:
    how = draw(st.sampled_from(["same", "same", "collection", "anywhere"]))
    if how == "same":
        return scope
    if how == "collection" and scope.collection is not None:
        return draw(seeded(scope.collection))
    return draw(seeded(None))


@st.composite
def seeded(draw: st.DrawFn, collection: str | None) -> Scope:
    """A scope on one series of ``collection`` (of the whole index when None)."""
    p = pools()
    if collection is None:
        return Scope(None, draw(st.integers(0, p.index.n - 1)))
    rows = p.rows(collection)
    return Scope(collection, int(rows[draw(st.integers(0, len(rows) - 1))]))


# ----------------------------------------------------------------------------- specifications


@st.composite
def anchor(draw: st.DrawFn) -> tuple[dict[str, Any] | None, Scope]:
    """A condition that keeps a cohort small, and the scope to draw values from."""
    p = pools()
    pool = draw(st.sampled_from(["small"] * 5 + ["any"]))  # mostly of at most 3,000 series
    collection = draw(st.sampled_from(p.small if pool == "small" else p.collections))
    shape = draw(st.sampled_from(_SHAPES))
    if shape == "global":
        return None, draw(seeded(None))
    if shape == "shared":
        # a PatientID used in two collections: patient_has must not mix the two patients
        row = draw(st.sampled_from(p.shared_patients))
        coll = p.value_at("collection_id", row)
        return {"PatientID": p.value_at("PatientID", row)}, Scope(coll, row)
    scope = draw(seeded(collection))
    if shape == "pair":
        other = draw(st.sampled_from(p.small))
        return {"collection_id": {"in": sorted({collection, other})}}, scope
    if shape in ("patient", "study", "modality"):
        key = {"patient": "PatientID", "study": "StudyInstanceUID", "modality": "Modality"}[shape]
        value = p.value_at(key, scope.row)
        if shape == "modality":
            return {"collection_id": collection, key: value}, scope
        return {key: value}, scope
    return {"collection_id": collection}, scope


@st.composite
def order_key(draw: st.DrawFn) -> str:
    name = _spelled(draw, draw(st.sampled_from(ORDER_FIELDS)))
    return ("-" if draw(st.booleans()) else "") + name


def order_by() -> st.SearchStrategy[list[str]]:
    return st.lists(order_key(), max_size=3)


@st.composite
def cohort_spec(draw: st.DrawFn, *, name: str = "cohort", depth: int = 3) -> dict[str, Any]:
    """A cohort specification (a mapping, as loaded from YAML or JSON) whose predicate nests
    up to ``depth`` levels."""
    bound, scope = draw(anchor())
    where: dict[str, Any] | None
    if draw(st.integers(0, 19)) == 0:
        where = bound  # no predicate beyond the anchor
    else:
        where = draw(predicate(scope, depth))
        if bound is not None:
            where = {"all": [bound, where]}
    spec: dict[str, Any] = {"name": name, "columns": ["SeriesInstanceUID"]}
    if where is not None:
        spec["where"] = where
    keys = draw(order_by())
    if keys:
        spec["order_by"] = keys
    if bound is None:
        spec["limit"] = draw(st.sampled_from([20, 5, 50, 1]))  # global: keep the answer short
    else:
        limit = draw(st.sampled_from([None, None, None, 10, 3, 25, 1, 100]))
        if limit is not None:
            spec["limit"] = limit
    if draw(st.integers(0, 3)) == 0:
        # limit and order_by count and order whole studies or patients
        spec["unit"] = draw(st.sampled_from(["study", "patient", "series"]))
    if draw(st.integers(0, 3)) == 0:
        # locally instances: all matters to multi-valued fields (every value must match)
        spec["instances"] = draw(st.sampled_from(["any", "all", "all"]))
    key = canonical(spec)
    if where is not None and draw(st.sampled_from([True, True, False])):
        # two empty answers in three are drawn again: an empty answer tells little
        answer = evaluate(spec, pools().index)
        assume(len(answer) > 0)
        if len(ANSWERS) > 100:
            ANSWERS.clear()
        ANSWERS[key] = answer
    return spec


@dataclass
class SetCase:
    """A set specification and the files it needs: relative path -> spec."""

    spec: dict[str, Any]
    files: dict[str, dict[str, Any]]

    @property
    def key(self) -> str:
        return canonical({"spec": self.spec, "files": self.files})


@st.composite
def set_case(draw: st.DrawFn) -> SetCase:
    """``union|intersect|except`` over 2-3 member files (YAML or JSON), one of which may itself
    be a set kept in a sub-folder with its own members (paths relative to each file)."""
    files: dict[str, dict[str, Any]] = {}
    paths = []
    for i in range(draw(st.integers(2, 3))):
        suffix = draw(st.sampled_from([".yaml", ".json"]))
        if i > 0 and draw(st.integers(0, 5)) == 0:
            inner = draw(set_case_members(f"inner{i}"))
            files.update({f"sub/{p}": s for p, s in inner.files.items()})
            files[f"sub/set{i}{suffix}"] = inner.spec
            paths.append(f"sub/set{i}{suffix}")
            continue
        files[f"m{i}{suffix}"] = draw(cohort_spec(name=f"m{i}", depth=2))
        paths.append(f"m{i}{suffix}")
    operation = draw(st.sampled_from(["union", "intersect", "except"]))
    spec: dict[str, Any] = {"name": "combined", "columns": ["SeriesInstanceUID"], operation: paths}
    keys = draw(order_by())
    if keys:
        spec["order_by"] = keys
    limit = draw(st.sampled_from([None, None, 10, 1, 40]))
    if limit is not None:
        spec["limit"] = limit
    if draw(st.integers(0, 2)) == 0:
        spec["unit"] = draw(st.sampled_from(["study", "patient"]))  # of the combination
    return SetCase(spec, files)


@st.composite
def set_case_members(draw: st.DrawFn, name: str) -> SetCase:
    a = draw(cohort_spec(name=f"{name}-a", depth=2))
    b = draw(cohort_spec(name=f"{name}-b", depth=2))
    operation = draw(st.sampled_from(["union", "intersect", "except"]))
    spec = {"name": name, operation: ["a.yaml", "b.json"]}
    return SetCase(spec, {"a.yaml": a, "b.json": b})
