"""The Python API, mirroring the command line: load, compile, run, count, list fields.

>>> import idc_sql
>>> spec = {"name": "rider", "where": {"collection_id": "rider_pilot", "Modality": "CT"}}
>>> result = idc_sql.run(spec)
>>> result.summary.series > 0
True
>>> result.to_arrow().column_names[:4]
['collection_id', 'PatientID', 'StudyInstanceUID', 'SeriesInstanceUID']

Options of an engine (BigQuery's ``project``, ``endpoint``, ``max_gb``, ``deadline``) are
keyword arguments; ``engine`` may also be an engine object made once and reused.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import UsageError
from .pipeline import Estimate, open_engine, prepare
from .pipeline import run as run_pipeline
from .settings import Reporter, silent
from .spec import CohortSpec, SetSpec, Spec, load_spec, parse_spec
from .targets import DEFAULT, TARGETS, target

if TYPE_CHECKING:
    import pandas

    from .catalog import Field
    from .compiler import Compiled
    from .engines.base import Engine
    from .history.diff import Diff
    from .history.refresh import Refreshed
    from .history.state import Entry
    from .indexes.build import BuiltIndex
    from .result import CohortResult
    from .summary import Summary

SpecLike = Spec | Mapping[str, Any] | str | Path


def as_spec(spec: SpecLike, *, allow_outside: bool = False) -> Spec:
    """A specification from a spec object, a mapping, or a path to a YAML or JSON file.

    ``allow_outside`` lets a set's members live outside the spec's folder.
    """
    if isinstance(spec, CohortSpec | SetSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec, allow_outside=allow_outside)
    if isinstance(spec, str | Path):
        if Path(spec).suffix.lower() == ".sql":
            raise UsageError(
                f"{spec} is a SQL template: run it with idc_sql.run_template({str(spec)!r}, "
                "params={...})"
            )
        return load_spec(spec, allow_outside=allow_outside)
    raise UsageError(f"a specification is a spec, a mapping or a file path, not {type(spec)!r}")


def engine(name: str = DEFAULT, *, report: Reporter = silent, **options: Any) -> Engine:
    """An engine to run several cohorts on (one connection, one client)."""

    return open_engine(name, options, report)


def _engine(which: str | Engine, options: Mapping[str, Any], report: Reporter | None) -> Engine:
    if isinstance(which, str):
        return engine(which, report=report or silent, **options)
    if options:
        raise UsageError(
            f"options ({', '.join(options)}) are given when an engine is made, not with one"
        )
    return which


def compile(  # mirrors `idc-sql compile` (shadows the builtin inside this module only)
    spec: SpecLike,
    engine: str = DEFAULT,
    *,
    project: str | None = None,
    allow_outside: bool = False,
) -> Compiled:
    """Compile ``spec`` to SQL and bound parameters for ``engine``; needs no connection.

    On BigQuery, fields outside the catalog are known only from a cached live schema.
    """
    from .writers import all_needs

    options = {"data_project": project} if project and target(engine).options else {}
    eng = open_engine(engine, options)
    _, compiled = prepare(
        as_spec(spec, allow_outside=allow_outside), eng, also=all_needs(), connect=False
    )
    return compiled


def run(
    spec: SpecLike,
    engine: str | Engine = DEFAULT,
    *,
    also: tuple[str, ...] | None = None,
    report: Reporter | None = None,
    allow_outside: bool = False,
    **options: Any,
) -> CohortResult:
    """Run ``spec`` on ``engine`` and return its result.

    ``also`` names fields the rows must carry besides the spec's columns and the summary's;
    by default, whatever any writer needs, so that ``result.write("x.s5cmd")`` works.
    ``report`` receives the notices (an estimate, a job's progress, a warning such as a value
    no series holds, also kept in ``result.warnings``); default: the engine's.
    """
    from .writers import all_needs

    eng = _engine(engine, options, report)
    outcome = run_pipeline(
        as_spec(spec, allow_outside=allow_outside),
        eng,
        also=all_needs() if also is None else also,
        report=report,
    )
    assert not isinstance(outcome, Estimate)
    return outcome


def estimate(
    spec: SpecLike,
    engine: str | Engine = DEFAULT,
    *,
    report: Reporter | None = None,
    allow_outside: bool = False,
    **options: Any,
) -> Estimate:
    """The query ``spec`` compiles to and what it would cost; runs nothing."""
    from .writers import all_needs

    eng = _engine(engine, options, report)
    spec = as_spec(spec, allow_outside=allow_outside)
    outcome = run_pipeline(spec, eng, also=all_needs(), dry_run=True, report=report)
    assert isinstance(outcome, Estimate)
    return outcome


def diff(
    spec: SpecLike,
    before: int | str,
    after: int | str = "current",
    engine: str | Engine = DEFAULT,
    *,
    report: Reporter | None = None,
    allow_outside: bool = False,
    **options: Any,
) -> Diff:
    """What changed in ``spec``'s cohort from release ``before`` to ``after`` (a number or
    ``"current"``): series added, removed and revised, with manifests of what to fetch and
    what to delete (``.to_fetch().write(...)``, ``.to_delete().write(...)``)."""
    from .history.diff import diff as diff_cohort
    from .writers import all_needs

    eng = _engine(engine, options, report)
    return diff_cohort(
        as_spec(spec, allow_outside=allow_outside),
        eng,
        _release(before),
        _release(after),
        also=all_needs(),
        report=report,
    )


def refresh(
    specs: SpecLike | list[SpecLike],
    state: str | Path,
    engine: str | Engine = DEFAULT,
    *,
    idc_version: int | str | None = None,
    wait: float = 60.0,
    destination: str | None = None,
    layout: str | None = None,
    cloud: str | None = None,
    allow_outside: bool = False,
    report: Reporter | None = None,
    **options: Any,
) -> list[Refreshed]:
    """Refresh cohorts in the state folder ``state``: run each at ``idc_version`` (default: the
    newest the engine serves), compare with its last snapshot there and, when anything
    changed, record a new snapshot (``outcome.changed``; ``outcome.fetch`` is the manifest of
    what to download). Waits at most ``wait`` seconds for another refresh of ``state``."""
    from .history.refresh import refresh as refresh_cohorts

    many = specs if isinstance(specs, list) else [specs]
    eng = _engine(engine, options, report)
    version = None if idc_version is None else _release(idc_version)
    return refresh_cohorts(
        [as_spec(s, allow_outside=allow_outside) for s in many],
        eng,
        state,
        idc_version=version,
        wait=wait,
        destination=destination,
        layout=layout,
        cloud=cloud,
        report=report,
    )


def snapshots(spec: SpecLike, state: str | Path) -> list[Entry]:
    """The snapshots of ``spec``'s cohort recorded in ``state``, oldest first."""
    from .history.past import snapshots as recorded_snapshots

    return recorded_snapshots(as_spec(spec).name, state)


def snapshot(
    spec: SpecLike, state: str | Path, *, release: int | None = None, name: str | None = None
) -> CohortResult:
    """A recorded snapshot of ``spec``'s cohort (the latest, the latest of ``release``, or the
    one named ``name``): its series as they were then (``.write("v24.s5cmd")``)."""
    from .history.past import recorded

    return recorded(as_spec(spec).name, state, release=release, name=name)


def build_index(
    names: str | Sequence[str],
    engine: str | Engine,
    *,
    idc_version: int | None = None,
    index_dir: str | Path | None = None,
    report: Reporter | None = None,
    **options: Any,
) -> list[BuiltIndex]:
    """Build IDC's indices ``names`` (``"seg_index"``, ``["sm_index", "ct_index"]``) from
    BigQuery into the index folder ``index_dir`` (default: ``IDC_SQL_INDEX_DIR``) as parquet,
    at ``idc_version`` (default: the installed idc-index-data's release), mirroring
    ``idc-sql index build``. Every index is estimated first; one above the cap (``max_gb``)
    stops them all before anything runs. The local engine then reads them (see
    :mod:`idc_sql.indexes.build`)."""
    from .indexes.build import build_indices
    from .settings import Settings

    folder = index_dir if index_dir else Settings.local().index_dir
    listed = [names] if isinstance(names, str) else list(names)
    return build_indices(
        listed, _engine(engine, options, report), folder, idc_version=idc_version, report=report
    )


def estimate_index(
    names: str | Sequence[str],
    engine: str | Engine,
    *,
    idc_version: int | None = None,
    report: Reporter | None = None,
    **options: Any,
) -> list[Estimate]:
    """The query that would build each index ``names`` and what it would cost; runs nothing."""
    from .indexes.build import estimate_indices

    listed = [names] if isinstance(names, str) else list(names)
    return estimate_indices(
        listed, _engine(engine, options, report), idc_version=idc_version, report=report
    )


def _release(value: int | str) -> int | Literal["current"]:
    if value == "current":
        return "current"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) >= 1:
        return int(value)
    raise UsageError(f"a release is a number (1, 2, ...) or 'current', not {value!r}")


def count(
    spec: SpecLike,
    engine: str | Engine = DEFAULT,
    *,
    report: Reporter | None = None,
    allow_outside: bool = False,
    **options: Any,
) -> Summary:
    """How many series, studies, patients and collections ``spec`` selects, and their size.
    ``report`` receives the notices, warnings included (values no series holds)."""
    return run(spec, engine, also=(), report=report, allow_outside=allow_outside, **options).summary


def count_by(
    spec: SpecLike,
    by: str | list[str] | tuple[str, ...],
    engine: str | Engine = DEFAULT,
    *,
    report: Reporter | None = None,
    allow_outside: bool = False,
    **options: Any,
) -> pandas.DataFrame:
    """Series, studies, patients and size (``size_mb``) of ``spec`` per value of the fields
    ``by`` (series-level fields; a list, or names separated by commas), most series first."""
    from .groups import by_fields, check_by, frame

    eng = _engine(engine, options, report)
    names = check_by(by_fields(by), eng.target)
    result = run(spec, eng, also=names, report=report, allow_outside=allow_outside)
    return frame(result, names)


def values(
    field: str,
    spec: SpecLike | None = None,
    engine: str | Engine = DEFAULT,
    *,
    report: Reporter | None = None,
    allow_outside: bool = False,
    **options: Any,
) -> pandas.DataFrame:
    """The values ``field`` takes and how many series hold each (most first): over every
    series of the engine's release, or those ``spec`` selects."""
    from .groups import by_fields, check_by, frame

    eng = _engine(engine, options, report)
    names = check_by(by_fields([field]), eng.target, "field")
    cohort = spec if spec is not None else {"name": "every-series"}
    result = run(cohort, eng, also=names, report=report, allow_outside=allow_outside)
    first: pandas.DataFrame = frame(result, names).iloc[:, :2]
    return first


def fields(pattern: str | None = None, engine: str | None = None) -> list[Field]:
    """Catalog fields whose name matches ``pattern`` (a glob or a substring), for ``engine``
    (default: every field, with the engines that read it in ``reading_engines``)."""
    from .catalog import FIELDS

    readers = [target(engine)] if engine else list(TARGETS.values())
    pool = [f for f in FIELDS.values() if any(t.read(f) is not None for t in readers)]
    if not pattern:
        return pool
    glob = pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"
    return [f for f in pool if fnmatch.fnmatch(f.name.casefold(), glob.casefold())]
