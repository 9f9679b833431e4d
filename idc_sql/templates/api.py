"""Templates from Python, mirroring ``idc-sql template``.

>>> import idc_sql
>>> t = idc_sql.load_template("collection-summary")
>>> [p.name for p in t.params.values()]
['collection_id']
>>> result = idc_sql.run_template(t, params={"collection_id": "rider_pilot"})
>>> result.to_arrow().column_names
['Modality', 'patients', 'studies', 'series', 'size_gb']

A template is named by a path (``"my/query.sql"``), by its name in a templates folder or the
package's ``queries/``, or is a :class:`Template` already loaded. ``params`` maps parameter names
to values (Python values, or text as on the command line); ``idc_version`` rewrites the IDC
release the template reads. Engine options are keyword arguments, as for cohorts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..pipeline import Estimate, open_engine
from ..release import Requested
from ..targets import DEFAULT
from .library import catalog, find
from .model import Template
from .run import prepare
from .run import run_template as run_on

if TYPE_CHECKING:
    from ..engines.base import Engine
    from ..query import Query
    from ..settings import Reporter
    from .result import TemplateResult

TemplateLike = Template | str | Path


def load_template(
    template: TemplateLike, *, templates: Sequence[str | Path] | None = None
) -> Template:
    """The template a path or name names (checked; errors name the file and line)."""
    if isinstance(template, Template):
        return template
    if isinstance(template, str | Path):
        return find(template, templates)
    raise UsageError(f"a template is a Template, a name or a path, not {type(template)!r}")


def list_templates(templates: Sequence[str | Path] | None = None) -> list[Template]:
    """Every template found: templates folders, the package's ``queries/``, IDC's indices."""
    found, _ = catalog(templates)
    return found


def run_template(
    template: TemplateLike,
    engine: str | Engine = DEFAULT,
    *,
    params: Mapping[str, Any] | None = None,
    idc_version: Requested = None,
    templates: Sequence[str | Path] | None = None,
    report: Reporter | None = None,
    **options: Any,
) -> TemplateResult:
    """Run ``template`` on ``engine`` with ``params``; its rows and provenance."""
    outcome = run_on(
        load_template(template, templates=templates),
        _engine(engine, options, report),
        params,
        idc_version=idc_version,
        report=report,
    )
    assert not isinstance(outcome, Estimate)
    return outcome


def estimate_template(
    template: TemplateLike,
    engine: str | Engine = DEFAULT,
    *,
    params: Mapping[str, Any] | None = None,
    idc_version: Requested = None,
    templates: Sequence[str | Path] | None = None,
    report: Reporter | None = None,
    **options: Any,
) -> Estimate:
    """The query ``template`` compiles to on ``engine`` and what it would cost; runs nothing."""
    outcome = run_on(
        load_template(template, templates=templates),
        _engine(engine, options, report),
        params,
        idc_version=idc_version,
        dry_run=True,
        report=report,
    )
    assert isinstance(outcome, Estimate)
    return outcome


def compile_template(
    template: TemplateLike,
    engine: str | Engine = DEFAULT,
    *,
    params: Mapping[str, Any] | None = None,
    idc_version: Requested = None,
    templates: Sequence[str | Path] | None = None,
    **options: Any,
) -> Query:
    """``template``'s SQL and bound parameters for ``engine``; connects to nothing."""
    return prepare(
        load_template(template, templates=templates),
        _engine(engine, options, None),
        params,
        idc_version,
    )


def _engine(which: str | Engine, options: Mapping[str, Any], report: Reporter | None) -> Engine:
    if isinstance(which, str):
        from ..settings import silent

        return open_engine(which, options, report or silent)
    if options:
        raise UsageError(
            f"options ({', '.join(options)}) are given when an engine is made, not with one"
        )
    return which
