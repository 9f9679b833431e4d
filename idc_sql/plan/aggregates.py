"""Per-instance values as columns (BigQuery): ``SliceThickness.min``, ``.max``, ``.distinct``.

A per-instance field has many values in a series, so a column names how they are summed up:

- ``.min`` and ``.max``: the smallest and largest value of the series' instances; DICOM
  decimal and integer strings (``SliceThickness``, ``PixelSpacing[0]``, text columns of the
  live schema) compare as numbers, other text as text, dates as dates; NULL when no instance
  has a value. Not for repeated fields, whose instances each hold several values;
- ``.distinct``: the distinct values, as text sorted as text and joined by ``,`` (the joined
  form idc_index uses for ``TransferSyntaxUID``), so every format writes it as it writes any
  text; an instance's repeated value (``ImageType``) counts as one value, its elements joined
  by ``\\`` as DICOM writes them (``ORIGINAL\\PRIMARY\\AXIAL``).

The result column is named ``<field>_<aggregate>`` (``SliceThickness_min``,
``PixelSpacing_0_max``): BigQuery's column names hold no dots. A per-instance field named
bare as a column is refused with these choices.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlglot import exp

from ..catalog import Field, Kind
from ..catalog.fields import _distinct_list
from ..errors import SpecError

#: what a column may say of a per-instance field's values
AGGREGATES = ("min", "max", "distinct")
#: ``Name[i]``, an element of a repeated field, in a column's name: ``Name_i``
_ELEMENT = re.compile(r"\[(\d+)\]")
_INDEX = r"_\1"
#: ``<field>.<aggregate>``
AGGREGATE = re.compile(r"^(?P<name>[^.]+)\.(?P<aggregate>[A-Za-z_]\w*)$")


def choices(name: str) -> str:
    return ", ".join(f"{name}.{a}" for a in AGGREGATES)


def aggregate_column(base: Field, aggregate: str, where: str) -> Field:
    """The column ``<base>.<aggregate>``: a series-level field read as an aggregate."""
    if aggregate not in AGGREGATES:
        raise SpecError(
            where,
            f"{base.name}.{aggregate}: .{aggregate} is not a summary of a series' instances; "
            f"allowed: {', '.join('.' + a for a in AGGREGATES)}",
        )
    if not base.instance_level or base.kind == "sequence":
        what = "is a DICOM sequence" if base.kind == "sequence" else "holds one value per series"
        raise SpecError(
            where,
            f"{base.name}.{aggregate}: {base.name} {what}; .min, .max and .distinct sum up "
            "the values of a per-instance field (e.g. SliceThickness.max)",
        )
    if base.repeated and aggregate != "distinct":
        raise SpecError(
            where,
            f"{base.name}.{aggregate}: {base.name} holds several values per instance; "
            f"{base.name}.distinct lists them",
        )
    read = base.bigquery
    # DICOM decimal and integer strings compare as numbers
    as_number = base.bq_type == "STRING" and (base.kind == "number" or base.numeric_strings)

    def reading() -> exp.Expr:
        value = read()
        if aggregate == "distinct":
            if base.repeated:
                value = exp.ArrayToString(this=value, expression=exp.Literal.string("\\"))
            elif base.bq_type != "STRING":
                value = exp.Cast(this=value, to=exp.DataType.build("TEXT"))
            return _distinct_list(value)
        if as_number:
            value = exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
        return (exp.Min if aggregate == "min" else exp.Max)(this=value)

    kind: Kind
    if aggregate == "distinct":
        kind, bq_type = "string", "STRING"
    elif as_number:
        kind, bq_type = "number", "FLOAT64"
    else:
        kind, bq_type = base.kind, base.bq_type
    return replace(
        base,
        name=f"{_ELEMENT.sub(_INDEX, base.name)}_{aggregate}",
        level="series",
        kind=kind,
        bq_type=bq_type,
        bq_mode="NULLABLE",
        description=f"{aggregate} of {base.name} over the series' instances",
        local=None,
        bigquery=reading,
        numeric_strings=False,
        separator=None,
        instance_values=None,
    )
