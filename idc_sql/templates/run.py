"""Running a template: settle the release, compile for the engine, estimate and guard, execute
(the pipeline's :func:`~idc_sql.pipeline.guarded`, as for cohorts), and keep the provenance."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import EngineError, SpecError
from ..pipeline import Estimate, guarded
from ..release import Release, Requested
from ..result import Provenance
from .render import compile_template, settle
from .result import TemplateResult

if TYPE_CHECKING:
    from ..engines.base import Engine, Rows
    from ..query import Query
    from ..settings import Reporter
    from .model import Template


def prepare(
    template: Template,
    engine: Engine,
    params: Mapping[str, Any] | None = None,
    idc_version: Requested = None,
) -> Query:
    """``template`` compiled for ``engine`` with ``params`` (text or values) bound."""
    values = template.values(params)
    release = settle(template, engine, idc_version)
    return compile_template(template, engine, values, release)


def run_template(
    template: Template,
    engine: Engine,
    params: Mapping[str, Any] | None = None,
    *,
    idc_version: Requested = None,
    dry_run: bool = False,
    report: Reporter | None = None,
) -> TemplateResult | Estimate:
    """Run ``template`` on ``engine``: its rows, or (``dry_run``) its estimate only."""
    from ..cost import size

    query = prepare(template, engine, params, idc_version)
    outcome = guarded(query, engine, dry_run=dry_run, report=report)
    if isinstance(outcome, Estimate):
        return outcome
    rows, decision = outcome
    try:
        rows = named(rows, template)  # the query's first run: DuckDB binds it
    except EngineError as e:
        raise _unbound(e, template) or e from None
    source = "; ".join(reads(template, engine, rows.release))
    if decision.estimate_bytes is not None:
        source += f"; {size(decision.estimate_bytes)} estimated"
    provenance = Provenance(
        cohort=template.name,
        engine=engine.target.name,
        settled=rows.release,
        source=source,
        digest=template.digest,
        sql=query.sql,
        params=dict(query.params),
        estimate_bytes=decision.estimate_bytes,
        arguments=dict(query.params),
    )
    return TemplateResult(rows, provenance, template)


def named(rows: Rows, template: Template) -> Rows:
    """``rows`` read as a table whose columns are named as the result names them (so that
    writers and summaries select them by name, ``SELECT *`` and expressions included)."""
    from ..engines.base import Rows as RowsType

    names = rows.columns(rows.query.limit(0))
    _unique(names, template)
    query = exp.select(*(exp.column(n, quoted=True) for n in names)).from_(
        rows.query.subquery("template_rows")
    )
    return RowsType(rows.connection, query, rows.params, rows.release, label=rows.label)


def _unbound(error: EngineError, template: Template) -> SpecError | None:
    """A query DuckDB cannot bind (a column or table it does not know) as the template's own
    error, on the template's line that names what is unknown (DuckDB's own context shows the
    SQL as rewritten for it, not the file)."""
    import duckdb

    cause = error.__cause__
    if not isinstance(cause, (duckdb.BinderException, duckdb.CatalogException)):
        return None
    first, *rest = str(cause).splitlines()
    message = first.removeprefix("Binder Error: ").removeprefix("Catalog Error: ").rstrip("!")
    candidates = [x for x in rest if x.startswith(("Candidate bindings:", "Did you mean"))]
    if candidates:
        message += "; " + candidates[0][0].lower() + candidates[0][1:]
    line = template.line
    named = re.search(r'"([^"]+)"|with name (\w+)', first)
    if named is not None:
        word = re.compile(rf"\b{re.escape(named.group(1) or named.group(2))}\b", re.IGNORECASE)
        found = [i for i, text in enumerate(template.text.splitlines(), 1) if word.search(text)]
        line = next((i for i in found if i >= template.line), line)
    return SpecError(f"{template.where}:{line}", f"the local engine cannot run it: {message}")


def reads(template: Template, engine: Engine, release: Release) -> list[str]:
    """Where each table the template reads comes from, for the provenance."""
    relations = engine.relations(release)
    found = []
    for ref in template.tables:
        if ref.kind != "index":
            suffix = "_clinical" if ref.kind == "clinical" else ""
            found.append(f"{release.project}.{release.dataset}{suffix}.{ref.name}")
        elif engine.target.can("index_sql"):
            found.append(f"{ref.name} (IDC's SQL over {release.project}.{release.dataset})")
        elif ref.name in relations:
            relation = relations[ref.name]
            built = f", built from IDC v{relation.built}" if relation.built is not None else ""
            found.append(f"{ref.name} ({relation.location}{built})")
    return list(dict.fromkeys(found)) or [engine.describe(release)]


def _unique(names: tuple[str, ...], template: Template) -> None:
    seen: dict[str, str] = {}
    for name in names:
        if name.casefold() in seen:
            raise SpecError(
                f"{template.where}:{template.line}",
                f"the result has two columns named {name}; name each column once "
                "(BigQuery refuses duplicate column names too)",
            )
        seen[name.casefold()] = name
