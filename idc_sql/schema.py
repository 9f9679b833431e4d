"""Every dicom_all column, beyond the curated catalog: the live table schema, cached on disk.

With the BigQuery engine a cohort may name any column of ``dicom_all``. A name outside the
catalog is checked against the table's schema, read once with ``get_table`` (free: metadata
only) and kept under ``$IDC_SQL_CACHE_DIR`` (default ``~/.cache/idc-sql``) per project and IDC
release. Such a field is per instance; how it compares follows its BigQuery type:

- STRING compares as text, or as a number when the condition's values are numbers (DICOM keeps
  decimal and integer strings, e.g. ``ExposureTime``, as STRING);
- INTEGER, FLOAT and NUMERIC as numbers, DATE as a date;
- a REPEATED column takes ``contains``, and ``Name[i]`` reads its element ``i`` (from 0; a
  missing element is NULL), which compares like a single value;
- a REPEATED RECORD (a DICOM sequence) takes ``has``: conditions on the sub-fields of its
  elements, at any depth (see :mod:`idc_sql.plan.sequences`).

Other RECORD columns and times are refused with a plain message.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlglot import exp

from .catalog import Field, Kind
from .catalog.fields import sequence

ELEMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\[(?P<index>\d{1,3})\]$")
_NUMBER_TYPES = {"INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    mode: str
    #: the sub-fields of a RECORD
    fields: tuple[Column, ...] = ()

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "type": self.type, "mode": self.mode}
        if self.type == "RECORD":
            body["fields"] = [f.as_json() for f in self.fields]
        return body

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Column:
        """From the cache; a RECORD kept without its sub-fields (an older cache) is a KeyError."""
        subs = data["fields"] if data["type"] == "RECORD" else []
        return cls(data["name"], data["type"], data["mode"], tuple(map(cls.from_json, subs)))

    @classmethod
    def from_schema_field(cls, f: Any) -> Column:
        """From a ``bigquery.SchemaField``."""
        subs = tuple(cls.from_schema_field(s) for s in (f.fields or ()))
        return cls(f.name, f.field_type, f.mode or "NULLABLE", subs)


class LiveSchema:
    """The columns of one release's ``dicom_all``."""

    def __init__(self, columns: list[Column], source: str) -> None:
        self.columns = {c.name.casefold(): c for c in columns}
        self.source = source

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns.values()]

    def field(self, name: str) -> Field | None:
        """A per-instance field for column ``name``; None when the table has no such column."""
        column = self.columns.get(name.casefold())
        if column is None:
            return None
        return _field(column)

    # ---- the on-disk cache

    @staticmethod
    def path(cache: Path, project: str, dataset: str) -> Path:
        return cache / "schema" / f"{project}.{dataset}.dicom_all.json"

    @classmethod
    def cached(cls, cache: Path, project: str, dataset: str) -> LiveSchema | None:
        """The schema kept in the folder ``cache``, if any."""
        path = cls.path(cache, project, dataset)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            columns = [Column.from_json(c) for c in data["columns"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: read it again from BigQuery
        return cls(columns, f"{path} (cached)")

    @classmethod
    def from_table(cls, table: Any, cache: Path, project: str, dataset: str) -> LiveSchema:
        """From a ``bigquery.Table``; stores it in the cache (atomically) for next time."""
        columns = [Column.from_schema_field(f) for f in table.schema]
        path = cls.path(cache, project, dataset)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".{os.getpid()}.part")
            body = {"columns": [c.as_json() for c in columns]}
            tmp.write_text(json.dumps(body), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs another get_table next time
        return cls(columns, f"{project}.{dataset}.dicom_all")


def _field(column: Column) -> Field | None:
    kind = _kind(column)
    if kind is None:
        return None
    name = column.name
    if kind == "sequence":
        return sequence(
            name,
            f"dicom_all.{name} (a DICOM sequence), from the live schema",
            tuple(m for m in map(_member, column.fields) if m is not None),
        )
    return Field(
        name=name,
        level="instance",
        kind=kind,
        bq_type=column.type,
        bq_mode=column.mode,
        description=f"dicom_all.{name} ({column.type} {column.mode}), from the live schema",
        local=None,
        bigquery=lambda: exp.column(name, table="dicom_all"),
        numeric_strings=column.type == "STRING",
    )


def _kind(column: Column) -> Kind | None:
    repeated = column.mode == "REPEATED"
    if column.type == "STRING":
        return "strings" if repeated else "string"
    if column.type in _NUMBER_TYPES:
        return "numbers" if repeated else "number"
    if column.type == "DATE" and not repeated:
        return "date"
    if column.type == "RECORD" and repeated:
        return "sequence"
    return None


def _member(column: Column) -> Field | None:
    """A sub-field of a sequence's elements, read unqualified (see :func:`sequence`)."""
    f = _field(column)
    if f is None or f.kind == "sequence":
        return f
    name = column.name
    return replace(f, bigquery=lambda: exp.column(name), description=name)


def unsupported_reason(column: Column) -> str:
    if column.type == "RECORD":
        return (
            f"{column.name} is a single RECORD in dicom_all; cohorts filter on scalar "
            "attributes, repeated scalars and DICOM sequences (REPEATED RECORD, with has)"
        )
    return (
        f"{column.name} is {column.type} {column.mode} in dicom_all, which cohorts cannot compare"
    )


def element(base: Field, index: int) -> Field:
    """``Name[index]``: one element of a repeated field, compared like a single value."""
    kind: Kind = "number" if base.kind == "numbers" else "string"

    def reading() -> exp.Expr:
        return exp.Bracket(
            this=base.bigquery(), expressions=[exp.Literal.number(index)], offset=0, safe=True
        )

    return replace(
        base,
        name=f"{base.name}[{index}]",
        kind=kind,
        bq_mode="NULLABLE",
        description=f"element {index} of {base.name}",
        bigquery=reading,
        numeric_strings=base.bq_type == "STRING",
    )


def as_number(f: Field) -> Field:
    """A STRING field compared as a number (DICOM decimal and integer strings)."""
    return replace(f, kind="number")
