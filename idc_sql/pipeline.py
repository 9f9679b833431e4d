"""One pipeline for every engine: load -> plan -> compile -> estimate (cost guard) -> execute.

The command line and the Python API both call these functions; nothing here prints (notices
go to the caller's reporter) and nothing compares an engine's name: what an engine can do is
read from its :class:`~idc_sql.targets.Target`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .errors import CostError, Option, UsageError
from .settings import Notice, Reporter, Settings, silent
from .targets import TARGETS
from .targets import target as target_named

if TYPE_CHECKING:
    from .compiler import Compiled
    from .cost import CostDecision
    from .engines.base import Engine, Rows
    from .plan import Plan
    from .query import Query
    from .release import Release
    from .result import CohortResult
    from .spec import Spec

#: where each engine is implemented, imported when first used
IMPLEMENTATIONS = {
    "local": "idc_sql.engines.local:LocalEngine",
    "bigquery": "idc_sql.engines.bigquery:BigQueryEngine",
}


def open_engine(
    name: str, options: Mapping[str, Any] | None = None, report: Reporter = silent
) -> Engine:
    """The engine ``name`` with ``options`` (settings it accepts; others are refused)."""
    t = target_named(name)
    options = dict(options or {})
    foreign = [k for k, v in options.items() if v is not None and k not in t.options]
    if foreign:
        named: list[Any] = []
        for i, k in enumerate(foreign):
            named += [", " if i else "", Option(k)]
        owners = [o.name for o in TARGETS.values() if all(k in o.options for k in foreign)]
        raise UsageError(
            *named,
            f" {'applies' if len(foreign) == 1 else 'apply'} to ",
            *((Option("engine", owners[0]),) if owners else ("another engine",)),
            f"; the {name} engine ({t.description}) takes no such option",
        )
    module, _, cls = IMPLEMENTATIONS[name].partition(":")
    factory = getattr(importlib.import_module(module), cls)
    given = {k: v for k, v in options.items() if k != "dry_run" and v is not None}
    # the cost guard's settings matter only to an engine that bills (a wrong IDC_SQL_MAX_GB
    # is no local matter)
    settings = Settings.resolve(**given) if t.can("cost_guard") else Settings.local(**given)
    return cast("Engine", factory(settings, report=report))


@dataclass(frozen=True)
class Estimate:
    """What a dry run shows: the query, and what the cost guard decided."""

    query: Query
    decision: CostDecision

    @property
    def sql(self) -> str:
        return self.query.sql

    @property
    def params(self) -> dict[str, Any]:
        return self.query.params


def prepare(
    spec: Spec, engine: Engine, *, also: tuple[str, ...] = (), connect: bool = True
) -> tuple[Plan, Compiled]:
    """Settle the release, plan and compile ``spec`` for ``engine``.

    Fields outside the catalog are looked up in the engine's schema: a cached copy first,
    then (``connect``) the engine's own.
    """
    from .compiler import compile_plan
    from .plan import UnknownFieldError, plan, requested_release
    from .result import SUMMARY_FIELDS

    requested, where = requested_release(spec)
    release = engine.settle(requested, where)
    carried = tuple(dict.fromkeys((*SUMMARY_FIELDS, *also)))
    try:
        p = plan(spec, engine.target, release, also=carried, schema=engine.schema(release))
    except UnknownFieldError:
        if not (connect and engine.target.can("live_schema")):
            raise
        # not in the catalog (nor in a cached schema, which may be old): ask the engine
        live = engine.schema(release, live=True)
        p = plan(spec, engine.target, release, also=carried, schema=live)
    return p, compile_plan(p)


def run(
    spec: Spec,
    engine: Engine,
    *,
    also: tuple[str, ...] = (),
    dry_run: bool = False,
    report: Reporter | None = None,
) -> CohortResult | Estimate:
    """Run ``spec`` on ``engine``: its result, or (``dry_run``) its estimate only.

    ``also`` names fields the rows must carry besides the spec's columns and the summary's
    (what a writer needs). A query the cost guard refuses raises :class:`CostError`. Notices
    go to ``report``, else to the engine's reporter.
    """
    from .cost import size
    from .engines.hints import pattern_warnings
    from .result import CohortResult, Provenance
    from .spec import digest

    p, compiled = prepare(spec, engine, also=also)
    outcome = guarded(compiled, engine, dry_run=dry_run, report=report)
    if isinstance(outcome, Estimate):
        return outcome
    rows, decision = outcome
    source = engine.describe(rows.release)
    if decision.estimate_bytes is not None:
        source += f", {size(decision.estimate_bytes)} estimated"
    provenance = Provenance(
        cohort=spec.name,
        engine=engine.target.name,
        settled=rows.release,
        source=source,
        digest=digest(spec),
        sql=compiled.sql,
        params=compiled.params,
        estimate_bytes=decision.estimate_bytes,
    )
    values = _value_hints(engine, p, rows.release)
    warnings = (*values, *pattern_warnings(p))
    for text in warnings:  # a typo inside a list would otherwise vanish without a word
        (report or engine.report)(Notice("warning", (text,)))
    result = CohortResult(rows, compiled.columns, provenance, lambda: values, warnings)
    if p.licenses:  # the specification's licenses, before anything is written
        from .citations.contract import enforce

        enforce(result, p.licenses)
    return result


def guarded(
    query: Query, engine: Engine, *, dry_run: bool = False, report: Reporter | None = None
) -> Estimate | tuple[Rows, CostDecision]:
    """Estimate ``query`` (the estimate goes to ``report``), then, unless ``dry_run``, run it
    if the cost guard allows: any compiled query, a cohort's or a template's."""
    report = report or engine.report
    decision = engine.estimate(query)
    if decision.estimate_bytes is not None:
        details = {"bytes": decision.estimate_bytes, "cap": decision.cap_bytes}
        report(Notice("estimate", decision.pieces, details))
    if dry_run:
        return Estimate(query, decision)
    if not decision.allowed:
        raise CostError(*decision.pieces)
    return engine.execute(query), decision


def _value_hints(engine: Engine, p: Plan, release: Release) -> list[str]:
    """The values ``p`` asks for that no series holds, looked up in the installed local index
    when the cohort is of its release (on BigQuery too: the index is built from that release's
    dicom_all, and looking there costs no scan); else none."""
    from .engines.hints import value_hints
    from .engines.local import LocalEngine

    local = engine if engine.target.can("value_hints") else None
    if local is None:
        local = LocalEngine(Settings.local())
    if release.number != local.settle(None).number:
        return []
    return value_hints(cast("Any", local), p)
