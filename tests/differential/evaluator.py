"""An independent evaluator of cohort specifications, for differential tests of the local engine.

It reads ``idc_index.parquet`` with pyarrow and answers a specification (a plain mapping, as
loaded from YAML or JSON) with the ``SeriesInstanceUID`` of every selected series, in order.
It shares no code with ``idc_sql``: no SQL, no DuckDB, no sqlglot, no catalog. Everything it
knows about the grammar is written out here, from the documented semantics:

- a string column becomes a sorted dictionary (Python's ``sorted``: code-point order) and one
  integer code per row (-1 for NULL); comparisons are code ranges found with ``bisect``, and
  like/ilike/regex are evaluated in plain Python over the distinct values;
- a number or date column becomes a float array with NaN for NULL (dates as day ordinals);
  ``SeriesNumber`` and ``patient_age_years`` are parsed from their text here;
- a multi-valued field (``TransferSyntaxUID``... comma-joined in the index; the collection's
  ``collection_cancerType``... from ``collections_index``, joined by ", ") is split here: a
  condition's operators hold for one of the values (every one under ``instances: all``), in
  plain Python per distinct joined text; ``is_null`` looks at the joined text, and ``contains``
  is equality with one value;
- a predicate becomes a boolean mask over all rows. A comparison with NULL is False, which,
  since only AND and OR sit between a comparison and the next ``not`` (or the WHERE), is the
  same as SQL's three-valued NULL followed by ``NOT COALESCE(p, FALSE)``.

>>> like_regex(r"a\\_b%").pattern
'a_b.*'
>>> parse_number("045"), parse_number("4 5"), parse_number(None)
(45.0, None, None)
>>> age_years("006M"), age_years("042y"), age_years("90")
(0.5, None, None)
"""

from __future__ import annotations

import bisect
import datetime as dt
import importlib.util
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# ----------------------------------------------------------------------------- the fields

#: how each field of the local index compares (see the catalog's ``kind``)
STRING_FIELDS = (
    "collection_id",
    "analysis_result_id",
    "source_DOI",
    "license_short_name",
    "PatientID",
    "PatientAge",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDescription",
    "SeriesInstanceUID",
    "BodyPartExamined",
    "Modality",
    "SOPClassUID",
    "sop_class_name",
    "TransferSyntaxUID",
    "transfer_syntax_name",
    "PhotometricInterpretation",
    "PixelRepresentation",
    "Manufacturer",
    "ManufacturerModelName",
    "SeriesDescription",
    "aws_bucket",
    "crdc_series_uuid",
    "series_aws_url",
)
#: fields of the series' collection, from collections_index.parquet (by collection_id)
COLLECTION_FIELDS = {
    "collection_name": "collection_name",
    "collection_cancerType": "cancer_types",
    "collection_tumorLocation": "tumor_locations",
    "collection_species": "species",
}
#: multi-valued text fields and how their values are joined
SEPARATORS = {
    "TransferSyntaxUID": ",",
    "transfer_syntax_name": ",",
    "PhotometricInterpretation": ",",
    "PixelRepresentation": ",",
    "collection_cancerType": ", ",
    "collection_tumorLocation": ", ",
    "collection_species": ", ",
}
#: numeric columns of the parquet file
NUMERIC_FIELDS = (
    "instanceCount",
    "series_size_MB",
    "series_init_idc_version",
    "series_revised_idc_version",
)
#: numbers parsed from text: SeriesNumber from itself, patient_age_years from PatientAge
DERIVED_FIELDS = ("SeriesNumber", "patient_age_years")
DATE_FIELDS = ("StudyDate", "SeriesDate")

KINDS: dict[str, str] = {
    **{f: "string" for f in STRING_FIELDS},
    **{f: "string" for f in COLLECTION_FIELDS},
    **{f: "number" for f in (*NUMERIC_FIELDS, *DERIVED_FIELDS)},
    **{f: "date" for f in DATE_FIELDS},
}
_BY_FOLDED = {name.casefold(): name for name in KINDS}

#: the default order, and the tie-break of every other
CANONICAL = ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID")
SET_KEYS = ("union", "intersect", "except")

_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_AGE_UNITS = {"Y": 1.0, "M": 12.0, "W": 52.1775, "D": 365.25}


def resolve(name: str) -> str:
    """The field called ``name``; names are case-insensitive, as in the catalog."""
    try:
        return name if name in KINDS else _BY_FOLDED[name.casefold()]
    except KeyError:
        raise KeyError(f"the evaluator does not know the field {name!r}") from None


def parse_number(text: str | None) -> float | None:
    """A number written in decimal notation, as a cast to DOUBLE reads it; else None."""
    if text is None or not _NUMBER.fullmatch(text):
        return None
    return float(text)


def age_years(age: str | None) -> float | None:
    """A DICOM Age String in years: the first three characters, over the unit's per-year."""
    if age is None:
        return None
    number, unit = parse_number(age[:3]), _AGE_UNITS.get(age[3:4])
    if number is None or unit is None:
        return None
    return number / unit


def parse_date(value: Any) -> dt.date | None:
    """A date from a ``date`` or a 'YYYY-MM-DD' string (what a cast to DATE accepts here)."""
    if isinstance(value, dt.datetime):
        raise TypeError(f"a date, not a date and time: {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def like_regex(pattern: str, *, fold: bool = False) -> re.Pattern[str]:
    """A SQL LIKE pattern as a Python regex to ``fullmatch``: % any run, _ one character,
    backslash makes the next character literal. ``%`` and ``_`` match newlines too."""
    out: list[str] = []
    chars = iter(pattern.lower() if fold else pattern)
    for c in chars:
        if c == "\\":
            literal = next(chars, None)
            if literal is None:
                raise ValueError(f"LIKE pattern {pattern!r} ends with the escape character")
            out.append(re.escape(literal))
        elif c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


# ----------------------------------------------------------------------------- columns


@dataclass
class StringColumn:
    """A text column: sorted distinct values and one code per row (-1 for NULL)."""

    values: list[str]
    codes: np.ndarray

    @cached_property
    def position(self) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.values)}

    @property
    def present(self) -> np.ndarray:
        return self.codes >= 0

    def _rows_with(self, values: Iterable[Any]) -> np.ndarray:
        """Rows whose value is one of ``values`` (those that are text)."""
        lut = np.zeros(len(self.values) + 1, bool)
        lut[[self.position[v] for v in values if isinstance(v, str) and v in self.position]] = True
        return lut[self.codes]

    def _lut(self, test: Any) -> np.ndarray:
        """Rows whose value passes ``test`` (evaluated once per distinct value)."""
        lut = np.fromiter((bool(test(v)) for v in self.values), bool, len(self.values))
        return np.append(lut, False)[self.codes]

    def op(self, op: str, arg: Any) -> np.ndarray:
        codes = self.codes
        if op == "is_null":
            return codes < 0 if arg else codes >= 0
        if op in ("eq", "ne", "in", "not_in"):
            hit = self._rows_with([arg] if op in ("eq", "ne") else arg)
            return hit if op in ("eq", "in") else self.present & ~hit
        if op in ("lt", "lte", "gt", "gte", "between"):
            return self._range(op, arg)
        if op == "like":
            rx = like_regex(arg)
            return self._lut(rx.fullmatch)
        if op == "ilike":
            rx = like_regex(arg, fold=True)
            return self._lut(lambda v: rx.fullmatch(v.lower()))
        if op == "regex":
            rx = re.compile(arg)
            return self._lut(rx.search)
        raise ValueError(f"operator {op!r} does not apply to text")

    def _range(self, op: str, arg: Any) -> np.ndarray:
        """Comparisons in code-point order: the sorted codes form a range."""
        vals, codes = self.values, self.codes
        if op == "between":
            lo, hi = arg
            return (codes >= bisect.bisect_left(vals, lo)) & (codes < bisect.bisect_right(vals, hi))
        if op == "lt":
            return self.present & (codes < bisect.bisect_left(vals, arg))
        if op == "lte":
            return self.present & (codes < bisect.bisect_right(vals, arg))
        if op == "gt":
            return codes >= bisect.bisect_right(vals, arg)
        return codes >= bisect.bisect_left(vals, arg)

    def sort_key(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(key, is_null) for ``rows``; the key orders the non-NULL ones."""
        codes = self.codes[rows]
        return codes.astype(np.float64), codes < 0


@dataclass
class MultiColumn(StringColumn):
    """A multi-valued text field: the joined text per row (as StringColumn), split here."""

    separator: str = ","

    def matches(self, ops: list[tuple[str, Any]], instances: str) -> np.ndarray:
        """Rows where one of the values (every one, ``instances: all``) passes every operator
        but is_null; is_null looks at the joined text."""
        masks = [StringColumn.op(self, op, arg) for op, arg in ops if op == "is_null"]
        tested = [_element_test(op, arg) for op, arg in ops if op != "is_null"]
        if tested:
            quantifier = all if instances == "all" else any
            masks.append(
                self._lut(
                    lambda joined: quantifier(
                        all(t(v) for t in tested) for v in joined.split(self.separator)
                    )
                )
            )
        return np.logical_and.reduce(masks) if len(masks) > 1 else masks[0]


def _element_test(op: str, arg: Any) -> Any:
    """One operator on one value of a multi-valued field, in plain Python."""
    if op in ("eq", "contains"):
        return lambda v: v == arg
    if op == "ne":
        return lambda v: v != arg
    if op == "in":
        return lambda v: v in arg
    if op == "not_in":
        return lambda v: v not in arg
    if op == "lt":
        return lambda v: v < arg
    if op == "lte":
        return lambda v: v <= arg
    if op == "gt":
        return lambda v: v > arg
    if op == "gte":
        return lambda v: v >= arg
    if op == "between":
        return lambda v: arg[0] <= v <= arg[1]
    if op == "like":
        rx = like_regex(arg)
        return lambda v: rx.fullmatch(v) is not None
    if op == "ilike":
        rx = like_regex(arg, fold=True)
        return lambda v: rx.fullmatch(v.lower()) is not None
    if op == "regex":
        rx = re.compile(arg)
        return lambda v: rx.search(v) is not None
    raise ValueError(f"operator {op!r} does not apply to text")


@dataclass
class NumberColumn:
    """A number or date column: floats (dates as day ordinals), NaN for NULL."""

    values: np.ndarray
    kind: str

    def _scalar(self, value: Any) -> float:
        if self.kind == "date":
            day = parse_date(value)
            if day is None:
                raise ValueError(f"not a date: {value!r}")
            return float(day.toordinal())
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"not a number: {value!r}")
        return float(value)

    def op(self, op: str, arg: Any) -> np.ndarray:
        v = self.values
        present = ~np.isnan(v)
        if op == "is_null":
            return ~present if arg else present
        if op in ("in", "not_in"):
            hit = np.isin(v, [self._scalar(a) for a in arg])
            return hit if op == "in" else present & ~hit
        if op == "between":
            lo, hi = (self._scalar(a) for a in arg)
            return (v >= lo) & (v <= hi)
        x = self._scalar(arg)
        with np.errstate(invalid="ignore"):
            if op == "eq":
                return v == x
            if op == "ne":
                return present & (v != x)
            if op == "lt":
                return v < x
            if op == "lte":
                return v <= x
            if op == "gt":
                return v > x
            if op == "gte":
                return v >= x
        raise ValueError(f"operator {op!r} does not apply to {self.kind}s")

    def sort_key(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = self.values[rows]
        missing = np.isnan(values)
        return np.where(missing, 0.0, values), missing


Column = StringColumn | NumberColumn

# ----------------------------------------------------------------------------- the index


def index_path() -> Path:
    spec = importlib.util.find_spec("idc_index_data")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "idc_index.parquet"


def collections_path() -> Path:
    return index_path().with_name("collections_index.parquet")


@cache
def load_index() -> Index:
    """The installed index, read once per process."""
    columns = [*STRING_FIELDS, *NUMERIC_FIELDS, "SeriesNumber", *DATE_FIELDS]
    return Index(pq.read_table(index_path(), columns=columns))


@dataclass
class Index:
    """The series of the index, with columns prepared on first use."""

    table: pa.Table
    _columns: dict[str, Column] = field(default_factory=dict)
    _text: dict[str, StringColumn] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.table.num_rows)

    def column(self, name: str) -> Column:
        """The field ``name`` as it compares."""
        name = resolve(name)
        if name not in self._columns:
            self._columns[name] = self._build(name)
        return self._columns[name]

    def strings(self, source: str) -> StringColumn:
        """The parquet text column ``source`` (or the collection's field), dictionary-encoded;
        a multi-valued field's joined text."""
        if source not in self._text:
            raw = self.table[source] if source in self.table.column_names else self._of(source)
            values = sorted(pc.unique(raw).drop_null().to_pylist())
            codes = pc.index_in(raw, value_set=pa.array(values, type=raw.type))
            codes = codes.fill_null(-1).to_numpy().astype(np.int64)
            sep = SEPARATORS.get(source)
            column = StringColumn(values, codes) if sep is None else MultiColumn(values, codes, sep)
            self._text[source] = column
        return self._text[source]

    def _of(self, name: str) -> pa.ChunkedArray:
        """A field of each row's collection, looked up in collections_index by collection_id."""
        collections = pq.read_table(
            collections_path(), columns=["collection_id", *COLLECTION_FIELDS.values()]
        )
        at = pc.index_in(self.table["collection_id"], value_set=collections["collection_id"])
        return pa.chunked_array(
            [collections[COLLECTION_FIELDS[name]].combine_chunks().take(at.combine_chunks())]
        )

    def _build(self, name: str) -> Column:
        kind = KINDS[name]
        if kind == "string":
            return self.strings(name)
        if name in NUMERIC_FIELDS:
            raw = self.table[name].cast(pa.float64())
            return NumberColumn(raw.to_numpy(zero_copy_only=False).astype(np.float64), kind)
        convert = {
            "SeriesNumber": parse_number,
            "patient_age_years": age_years,
            "StudyDate": lambda s: _ordinal(parse_date(s)),
            "SeriesDate": lambda s: _ordinal(parse_date(s)),
        }[name]
        text = self.strings("PatientAge" if name == "patient_age_years" else name)
        per_value = [convert(v) for v in text.values]
        lut = np.array([np.nan if x is None else x for x in per_value] + [np.nan], np.float64)
        return NumberColumn(lut[text.codes], kind)

    @cached_property
    def canonical_rank(self) -> np.ndarray:
        """Each row's position in (collection_id, PatientID, StudyInstanceUID,
        SeriesInstanceUID) order, computed from the values (not from the file's order)."""
        keys = [self.strings(name).codes for name in reversed(CANONICAL)]
        order = np.lexsort(keys)
        rank = np.empty(self.n, np.int64)
        rank[order] = np.arange(self.n)
        return rank

    @cached_property
    def groups(self) -> dict[str, tuple[np.ndarray, int]]:
        """Per row, a code of its study and of its patient (collection_id, PatientID); -1 when
        a key is NULL (a NULL key equals nothing)."""
        study = self.strings("StudyInstanceUID").codes
        coll, pid = self.strings("collection_id").codes, self.strings("PatientID").codes
        width = len(self.strings("PatientID").values) + 1
        pair = np.where((coll >= 0) & (pid >= 0), coll * width + pid, -1)
        _, patient = np.unique(pair, return_inverse=True)
        patient = np.where(pair >= 0, patient, -1)
        patient = patient.astype(np.int64)
        return {
            "study": (study, int(study.max()) + 1),
            "patient": (patient, int(patient.max()) + 1),
        }

    def units(self, unit: str) -> np.ndarray:
        """Per row, a code of its study or of its patient (collection_id, PatientID), as SQL
        groups rows: NULL keys are equal to one another here (unlike in ``groups``)."""
        if unit == "study":
            return self.strings("StudyInstanceUID").codes.astype(np.int64)
        coll = self.strings("collection_id").codes.astype(np.int64) + 1
        pid = self.strings("PatientID").codes.astype(np.int64) + 1
        return coll * (len(self.strings("PatientID").values) + 1) + pid

    def has(self, level: str, mask: np.ndarray) -> np.ndarray:
        """Rows whose study (or patient) has some row in ``mask``."""
        group, size = self.groups[level]
        hit = np.zeros(size + 1, bool)  # the last one stands for a NULL key
        hit[group[mask & (group >= 0)]] = True
        hit[-1] = False
        return hit[group]

    def uids(self, rows: np.ndarray) -> list[str]:
        uid = self.strings("SeriesInstanceUID")
        return [uid.values[c] for c in uid.codes[rows].tolist()]


def _ordinal(day: dt.date | None) -> float | None:
    return None if day is None else float(day.toordinal())


# ----------------------------------------------------------------------------- specifications


def evaluate(spec: Mapping[str, Any], index: Index, base_dir: Path | None = None) -> list[str]:
    """The SeriesInstanceUID of the series ``spec`` selects, in the spec's order.

    ``base_dir`` is where a set specification's member paths start.
    """
    return index.uids(select(spec, index, base_dir or Path.cwd()))


def select(spec: Mapping[str, Any], index: Index, base_dir: Path) -> np.ndarray:
    """Row numbers of the selected series, ordered, limited."""
    operations = [k for k in SET_KEYS if k in spec]
    if operations:
        (operation,) = operations
        members = []
        for rel in spec[operation]:
            path = base_dir / rel
            members.append(select(load_file(path), index, path.parent))
        mask = np.zeros(index.n, bool)
        mask[members[0]] = True
        for rows in members[1:]:
            other = np.zeros(index.n, bool)
            other[rows] = True
            if operation == "union":
                mask |= other
            elif operation == "intersect":
                mask &= other
            else:
                mask &= ~other
    elif spec.get("where") is not None:
        mask = predicate(spec["where"], index, spec.get("instances") or "any")
    else:
        mask = np.ones(index.n, bool)
    rows = order(index, np.flatnonzero(mask), spec.get("order_by") or [])
    limit = spec.get("limit")
    unit = spec.get("unit") or "series"
    if unit != "series":
        return by_unit(index, rows, unit, limit)
    return rows if limit is None else rows[:limit]


def by_unit(index: Index, rows: np.ndarray, unit: str, limit: int | None) -> np.ndarray:
    """``rows`` (ordered) by whole studies or patients: a unit stands where its first row
    does; the first ``limit`` units are kept, each unit's rows together, in their order."""
    codes = index.units(unit)[rows]
    _, first = np.unique(codes, return_index=True)  # per distinct unit: its first position
    unit_order = np.argsort(first)  # units by their first position
    rank_of = np.empty(len(first), np.int64)
    rank_of[unit_order] = np.arange(len(first))
    _, which = np.unique(codes, return_inverse=True)
    rank = rank_of[which]
    keep = np.ones(len(rows), bool) if limit is None else rank < limit
    positions = np.arange(len(rows))
    chosen = np.lexsort((positions[keep], rank[keep]))
    return rows[keep][chosen]


def order(index: Index, rows: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """``rows`` sorted by ``keys`` (``-name`` descending), NULLs last either way, ties broken
    by the canonical order."""
    sort_keys = [index.canonical_rank[rows]]
    for key in reversed(keys):
        desc = key.startswith("-")
        value, missing = index.column(key.lstrip("-")).sort_key(rows)
        sort_keys += [-value if desc else value, missing]
    return rows[np.lexsort(sort_keys)]


def predicate(node: Mapping[str, Any], index: Index, instances: str = "any") -> np.ndarray:
    """The rows a predicate selects (NULL counts as not selected); ``instances`` says whether
    one value of a multi-valued field must match or every one."""
    if not isinstance(node, Mapping) or not node:
        raise TypeError(f"a predicate is a non-empty mapping, got {node!r}")
    if "all" in node or "any" in node:
        (key,) = node
        masks = [predicate(p, index, instances) for p in node[key]]
        combine = np.logical_and if key == "all" else np.logical_or
        return combine.reduce(masks) if len(masks) > 1 else masks[0]
    if "not" in node:
        return ~predicate(node["not"], index, instances)
    if "study_has" in node:
        return index.has("study", predicate(node["study_has"], index, instances))
    if "patient_has" in node:
        return index.has("patient", predicate(node["patient_has"], index, instances))
    mask = np.ones(index.n, bool)
    for name, cond in node.items():
        mask &= condition(index.column(name), cond, instances)
    return mask


def condition(column: Column, cond: Any, instances: str = "any") -> np.ndarray:
    """A scalar is equality, a list is IN, a mapping is operators ANDed."""
    if isinstance(cond, Mapping):
        ops = list(cond.items())
    elif isinstance(cond, list | tuple):
        ops = [("in", cond)]
    else:
        ops = [("eq", cond)]
    if isinstance(column, MultiColumn):
        return column.matches(ops, instances)
    masks = [column.op(op, arg) for op, arg in ops]
    return np.logical_and.reduce(masks) if len(masks) > 1 else masks[0]


def load_file(path: Path) -> Mapping[str, Any]:
    """A specification file (.json, or .yaml/.yml read with PyYAML's safe loader)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text)
    assert isinstance(data, Mapping), path
    return data
