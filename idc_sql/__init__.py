"""idc-sql: cohorts of NCI Imaging Data Commons series, as typed specifications compiled to SQL.

``import idc_sql`` is cheap: the functions below load what they need when first called.

>>> import idc_sql
>>> spec = idc_sql.parse_spec({"name": "ct", "where": {"Modality": "CT"}})
>>> print(idc_sql.compile(spec).params)
{'p0': 'CT'}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CohortResult",
    "CohortSpec",
    "Compiled",
    "IdcSqlError",
    "SetSpec",
    "SpecError",
    "Summary",
    "UnsupportedError",
    "compile",
    "count",
    "fields",
    "load_spec",
    "parse_spec",
    "run",
]

_LAZY = {
    "compile": "api",
    "count": "api",
    "fields": "api",
    "run": "api",
    "load_spec": "spec",
    "parse_spec": "spec",
    "CohortSpec": "spec",
    "SetSpec": "spec",
    "Compiled": "compiler",
    "CohortResult": "result",
    "Summary": "result",
    "IdcSqlError": "errors",
    "SpecError": "errors",
    "UnsupportedError": "errors",
}

if TYPE_CHECKING:
    from .api import compile, count, fields, run
    from .compiler import Compiled
    from .errors import IdcSqlError, SpecError, UnsupportedError
    from .result import CohortResult, Summary
    from .spec import CohortSpec, SetSpec, load_spec, parse_spec


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'idc_sql' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
