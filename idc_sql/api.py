"""The Python API, mirroring the command line: load, compile, run, count, list fields.

>>> import idc_sql
>>> spec = {"name": "rider", "where": {"collection_id": "rider_pilot", "Modality": "CT"}}
>>> result = idc_sql.run(spec)
>>> result.summary.series > 0
True
>>> result.to_arrow().column_names[:4]
['collection_id', 'PatientID', 'StudyInstanceUID', 'SeriesInstanceUID']
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .catalog import Field, engine_fields
from .compiler import BIGQUERY_PUBLIC_PROJECT, Compiled, compile_plan
from .errors import UsageError
from .plan import ENGINES, Engine, plan
from .result import CohortResult, Provenance, Summary
from .spec import CohortSpec, SetSpec, Spec, digest, load_spec, parse_spec

SpecLike = Spec | Mapping[str, Any] | str | Path


def as_spec(spec: SpecLike) -> Spec:
    """A specification from a spec object, a mapping, or a path to a YAML or JSON file."""
    if isinstance(spec, CohortSpec | SetSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec)
    if isinstance(spec, str | Path):
        return load_spec(spec)
    raise UsageError(f"a specification is a spec, a mapping or a file path, not {type(spec)!r}")


def _engine(engine: str) -> Engine:
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return "local" if engine == "local" else "bigquery"


def compile(  # mirrors `idc-sql compile` (shadows the builtin inside this module only)
    spec: SpecLike, engine: str = "local", *, project: str = BIGQUERY_PUBLIC_PROJECT
) -> Compiled:
    """Compile ``spec`` to SQL and bound parameters for ``engine``; needs no connection."""
    eng = _engine(engine)
    s = as_spec(spec)
    if eng == "local":
        from .engines.local import index_release

        return compile_plan(plan(s, "local", local_version=index_release()[0]), project=project)
    from .engines.bigquery import dataset_of
    from .schema import LiveSchema

    # no connection: fields outside the catalog are known only from a cached live schema
    schema = LiveSchema.cached(project, dataset_of(s.idc_version))
    return compile_plan(plan(s, "bigquery", schema=schema), project=project)


def run(
    spec: SpecLike, engine: str = "local", *, also: tuple[str, ...] = (), **options: Any
) -> CohortResult:
    """Run ``spec`` on ``engine`` and return its result.

    ``also`` names fields the result must carry besides the spec's columns (a manifest
    destination template's fields). Options of the BigQuery engine (``project``, ``endpoint``,
    ``max_gb``, ...) are passed through.
    """
    s = as_spec(spec)
    eng = _engine(engine)
    if eng == "local":
        if options:
            raise UsageError(f"the local engine takes no options; got {', '.join(options)}")
        return _run_local(s, also)
    from .engines.bigquery import run_bigquery

    result: CohortResult = run_bigquery(s, also=also, **options)
    return result


def _run_local(spec: Spec, also: tuple[str, ...] = ()) -> CohortResult:
    from .engines.local import LocalEngine

    engine = LocalEngine()
    compiled = compile_plan(plan(spec, "local", local_version=engine.idc_version, also=also))
    provenance = Provenance(
        cohort=spec.name,
        engine="local",
        idc_version=engine.idc_version,
        source=engine.describe(),
        digest=digest(spec),
        sql=compiled.sql,
        params=compiled.params,
        resolved_version=engine.idc_version,
    )
    return engine.result(compiled, provenance)


def count(spec: SpecLike, engine: str = "local", **options: Any) -> Summary:
    """How many series, studies, patients and collections ``spec`` selects, and their size."""
    return run(spec, engine, **options).summary


def fields(pattern: str | None = None, engine: str | None = None) -> list[Field]:
    """Catalog fields whose name matches ``pattern`` (a glob or a substring), for ``engine``."""
    pool = engine_fields(_engine(engine)) if engine else engine_fields("bigquery")
    if not pattern:
        return pool
    glob = pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"
    return [f for f in pool if fnmatch.fnmatch(f.name.casefold(), glob.casefold())]
