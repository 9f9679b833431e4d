"""The BigQuery types a template parameter may have, and values turned into them.

A parameter is a BigQuery named query parameter (``@name``). Its type is a BigQuery scalar type
or an ``ARRAY`` of one; aliases are accepted and named canonically (``INTEGER`` is ``INT64``).
Values come from the command line as text (``-p name=value``) or from Python as values; either
way they are checked and converted here, and then only ever bound, never spliced into SQL.

>>> parse_type("integer").name, parse_type("ARRAY< string >").name
('INT64', 'ARRAY<STRING>')
>>> parse_type("ARRAY<DATE>").convert("2024-01-02,2024-02-03")
[datetime.date(2024, 1, 2), datetime.date(2024, 2, 3)]
>>> parse_type("INT64").convert("12")
12
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlglot loads only for what needs it: a command that runs a template
    from sqlglot import exp  # it has compiled before converts values without it

#: canonical scalar types and their aliases
ALIASES = {
    "INT64": "INT64",
    "INT": "INT64",
    "INTEGER": "INT64",
    "SMALLINT": "INT64",
    "BIGINT": "INT64",
    "TINYINT": "INT64",
    "BYTEINT": "INT64",
    "FLOAT64": "FLOAT64",
    "NUMERIC": "NUMERIC",
    "DECIMAL": "NUMERIC",
    "BIGNUMERIC": "BIGNUMERIC",
    "BIGDECIMAL": "BIGNUMERIC",
    "BOOL": "BOOL",
    "BOOLEAN": "BOOL",
    "STRING": "STRING",
    "BYTES": "BYTES",
    "DATE": "DATE",
    "DATETIME": "DATETIME",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
}
#: BigQuery types that exist but cannot be a template parameter's
UNSUPPORTED = ("STRUCT", "JSON", "GEOGRAPHY", "INTERVAL", "RANGE")
#: how a parameter is typed when DuckDB runs the template (BigQuery's precision where it fits)
DUCKDB_TYPES = {
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "NUMERIC": "DECIMAL(38, 9)",
    "BIGNUMERIC": "DOUBLE",
    "BOOL": "BOOLEAN",
    "STRING": "VARCHAR",
    "BYTES": "BLOB",
    "DATE": "DATE",
    "DATETIME": "TIMESTAMP",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMPTZ",
}
INT64_RANGE = (-(2**63), 2**63 - 1)
_ARRAY = re.compile(r"^ARRAY\s*<\s*(?P<element>[A-Za-z0-9_]+)\s*>$", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?\d+$")


class TypeProblem(ValueError):
    """A type or a value that does not fit it; the message says why."""


@dataclass(frozen=True)
class ParamType:
    """A parameter's BigQuery type: a scalar, or an array of one (``element``)."""

    scalar: str
    array: bool = False

    @property
    def name(self) -> str:
        return f"ARRAY<{self.scalar}>" if self.array else self.scalar

    def duckdb(self) -> exp.DataType:
        """The DuckDB type its values are cast to."""
        from sqlglot import exp

        text = DUCKDB_TYPES[self.scalar] + ("[]" if self.array else "")
        return exp.DataType.build(text, dialect="duckdb")

    def convert(self, value: Any) -> Any:
        """``value`` (text from the command line, or a Python value) as this type's value.

        An array takes a list, a JSON array (``["a", "b"]``) or comma-separated text.
        """
        if value is None:
            return None
        if not self.array:
            return _scalar(self.scalar, value)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as e:
                    raise TypeProblem(f"{value!r} is not a JSON array ({e.msg})") from None
            else:
                value = [] if not text else [v.strip() for v in text.split(",")]
        if not isinstance(value, list | tuple):
            raise TypeProblem(f"{value!r} is not a list, as {self.name} needs")
        converted = [_scalar(self.scalar, v) for v in value]
        if any(v is None for v in converted):
            raise TypeProblem(f"an {self.name} value cannot hold NULL (BigQuery refuses it)")
        return converted


def parse_type(text: str) -> ParamType:
    """The parameter type ``text`` names; :class:`TypeProblem` when it names none."""
    written = " ".join(text.split())
    match = _ARRAY.match(written)
    if match:
        element = parse_type(match["element"])
        return ParamType(element.scalar, array=True)
    upper = written.upper()
    if upper in ALIASES:
        return ParamType(ALIASES[upper])
    head = re.split(r"[\s<(]", upper, maxsplit=1)[0]
    if "(" in upper and head in ALIASES:
        raise TypeProblem(f"{written}: a parameter's type takes no length or precision")
    if head in UNSUPPORTED or head == "ARRAY":
        raise TypeProblem(
            f"{written}: a parameter is a scalar ({', '.join(sorted(set(ALIASES.values())))}) "
            "or an ARRAY of one"
        )
    raise TypeProblem(f"{written} is not a BigQuery type")


def literal_value(node: exp.Expr, kind: ParamType) -> Any:
    """The value a default written as a BigQuery literal (``'CT'``, ``25``, ``['a', 'b']``,
    ``DATE '2024-01-01'``, ``NULL``) stands for, as ``kind``'s value."""
    from sqlglot import exp

    if kind.array:
        if isinstance(node, exp.Null):
            return None
        if not isinstance(node, exp.Array):
            raise TypeProblem(f"{node.sql('bigquery')} is not an array literal, as {kind.name}")
        element = ParamType(kind.scalar)
        return [literal_value(e, element) for e in node.expressions]
    return kind.convert(_python(node))


def _python(node: exp.Expr) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return f"-{node.this.this}"
    if isinstance(node, exp.Literal):
        return node.this
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        return node.this.this  # DATE '2024-01-01', TIMESTAMP '...': the text, typed by kind
    raise TypeProblem(f"{node.sql('bigquery')} is not a literal")


def _scalar(kind: str, value: Any) -> Any:
    try:
        return _CONVERT[kind](value)
    except TypeProblem:
        raise
    except (ValueError, TypeError, ArithmeticError):
        raise TypeProblem(f"{value!r} is not a {kind} value") from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeProblem(f"{value!r} is not an INT64 value")
    if isinstance(value, str) and not _INTEGER.match(value.strip()):
        raise TypeProblem(f"{value!r} is not an INT64 value")
    number = int(value)
    if not INT64_RANGE[0] <= number <= INT64_RANGE[1]:
        raise TypeProblem(f"{value!r} is out of INT64's range")
    return number


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str | decimal.Decimal):
        raise TypeProblem(f"{value!r} is not a FLOAT64 value")
    return float(value)


def _numeric(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | decimal.Decimal):
        raise TypeProblem(f"{value!r} is not a NUMERIC value")
    number = decimal.Decimal(str(value).strip())
    if not number.is_finite():
        raise TypeProblem(f"{value!r} is not a finite NUMERIC value")
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise TypeProblem(f"{value!r} is not a BOOL value (true or false)")


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeProblem(f"{value!r} is not a STRING value")
    return value


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return _string(value).encode("utf-8")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeProblem(f"{value!r} is not a DATE value")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(_string(value).strip())


def _datetime(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else _parse_moment(value)
    if moment.tzinfo is not None:
        raise TypeProblem(f"{value!r} has a time zone; a DATETIME has none (use TIMESTAMP)")
    return moment


def _timestamp(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else _parse_moment(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _parse_moment(value: Any) -> dt.datetime:
    text = _string(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


def _time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(_string(value).strip())


_CONVERT = {
    "INT64": _int,
    "FLOAT64": _float,
    "NUMERIC": _numeric,
    "BIGNUMERIC": _numeric,
    "BOOL": _bool,
    "STRING": _string,
    "BYTES": _bytes,
    "DATE": _date,
    "DATETIME": _datetime,
    "TIME": _time,
    "TIMESTAMP": _timestamp,
}
