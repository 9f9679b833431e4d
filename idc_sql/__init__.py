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
    "BuiltIndex",
    "CohortResult",
    "CohortSpec",
    "Compiled",
    "Engine",
    "Estimate",
    "IdcSqlError",
    "LicenseError",
    "Notice",
    "SetSpec",
    "Settings",
    "SpecError",
    "Summary",
    "Template",
    "TemplateResult",
    "UnsupportedError",
    "build_index",
    "compile",
    "compile_template",
    "count",
    "count_by",
    "diff",
    "download",
    "engine",
    "estimate",
    "estimate_index",
    "estimate_template",
    "fields",
    "inspect_manifest",
    "list_templates",
    "load_spec",
    "load_template",
    "parse_spec",
    "refresh",
    "run",
    "run_template",
    "snapshot",
    "snapshots",
    "values",
]

_LAZY = {
    "build_index": "api",
    "estimate_index": "api",
    "BuiltIndex": "indexes.build",
    "compile": "api",
    "engine": "api",
    "estimate": "api",
    "Estimate": "pipeline",
    "Engine": "engines.base",
    "Notice": "settings",
    "Settings": "settings",
    "count": "api",
    "count_by": "api",
    "values": "api",
    "download": "downloads",
    "inspect_manifest": "manifests_in",
    "diff": "api",
    "fields": "api",
    "run": "api",
    "refresh": "api",
    "snapshot": "api",
    "snapshots": "api",
    "load_spec": "spec",
    "parse_spec": "spec",
    "CohortSpec": "spec",
    "SetSpec": "spec",
    "Compiled": "compiler",
    "CohortResult": "result",
    "Summary": "summary",
    "IdcSqlError": "errors",
    "SpecError": "errors",
    "LicenseError": "errors",
    "UnsupportedError": "errors",
    "Template": "templates.model",
    "TemplateResult": "templates.result",
    "compile_template": "templates.api",
    "estimate_template": "templates.api",
    "list_templates": "templates.api",
    "load_template": "templates.api",
    "run_template": "templates.api",
}

if TYPE_CHECKING:
    from .api import (
        build_index,
        compile,
        count,
        count_by,
        diff,
        engine,
        estimate,
        estimate_index,
        fields,
        refresh,
        run,
        snapshot,
        snapshots,
        values,
    )
    from .compiler import Compiled
    from .downloads import download
    from .engines.base import Engine
    from .errors import IdcSqlError, LicenseError, SpecError, UnsupportedError
    from .indexes.build import BuiltIndex
    from .manifests_in import inspect_manifest
    from .pipeline import Estimate
    from .result import CohortResult
    from .settings import Notice, Settings
    from .spec import CohortSpec, SetSpec, load_spec, parse_spec
    from .summary import Summary
    from .templates.api import (
        compile_template,
        estimate_template,
        list_templates,
        load_template,
        run_template,
    )
    from .templates.model import Template
    from .templates.result import TemplateResult


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
