"""Building IDC's indices from BigQuery into an index folder: ``idc-sql index build``.

Each index is IDC's own SQL for it, read from the installed idc-index-data when the build runs
(never a copy), inlined as a CTE over a release's tables as any template that reads the index
gets it on BigQuery (see :mod:`idc_sql.templates.inline`), and ordered as IDC's SQL orders it.
Every index asked for is compiled and estimated first (the cost guard: a dry run, the
``max_gb`` cap); only when all of them pass does any query run. Each result is written as
parquet atomically (a private temporary file, flushed, renamed over the old one; nothing on a
failure or an interrupt; the indices built before it are kept), once its columns are checked
against the schema JSON the wheel ships for the index, and named as that schema names them.

Where a build goes, and what the local engine makes of it (it reads one release at a time):

- the installed index's release (the default): ``<folder>/<name>.parquet``, read by the local
  engine beside the wheel's tables;
- another release N (``idc_version=N``): ``<folder>/idc_vN/<name>.parquet``, so that it never
  replaces the installed release's file. The local engine reads it only for queries at release
  N (``--idc-version N``, a release it can read: at most the installed one), never for the
  installed release.

The file's key-value metadata holds its provenance under the key ``idc_sql`` (JSON): ``tool``,
``version``, ``format``, ``written_at``, ``index``, ``idc_version`` (the release number read),
``release``, ``engine``, ``source``, ``sql`` (the query run) and its SHA-256 ``digest``,
``index_sql_digest`` (of IDC's SQL file), ``index_package`` (the idc-index-data it came from),
``rows``, ``estimate_bytes``. The local engine reads ``idc_version`` to tell which release a
file holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import Option, UsageError
from ..pipeline import Estimate
from ..release import Release
from .folder import METADATA_KEY, release_folder, schema_problem
from .wheel import index_names, index_release, schema, sql_path

if TYPE_CHECKING:
    from ..engines.base import Engine, Rows
    from ..query import Query
    from ..settings import Reporter

WHERE = "index build"
#: what a build's query is labelled with, after the index's name
_LABEL = " build"


@dataclass(frozen=True)
class BuiltIndex:
    """One index written to the index folder."""

    name: str
    path: Path
    release: Release
    rows: int
    #: the bytes BigQuery estimated the query would process
    estimate_bytes: int | None
    #: the provenance record kept in the file's metadata
    provenance: Mapping[str, Any]
    #: why the local engine does not read it (None: it does)
    not_read: str | None = None


def buildable(directory: Path | None = None) -> tuple[str, ...]:
    """The indices whose BigQuery SQL the installed idc-index-data ships as one query (not a
    script, as ``prior_versions_index.sql`` is)."""
    return tuple(
        n
        for n in index_names(directory)
        if sql_path(n, directory) is not None and _script_problem(n) is None
    )


def _script_problem(name: str) -> str | None:
    """Why IDC's SQL for ``name`` is not one query (None: it is)."""
    from ..errors import SpecError
    from ..templates.inline import index_template

    try:
        index_template(name)
    except SpecError as e:
        return str(e)
    return None


def build_indices(
    names: Sequence[str],
    engine: Engine,
    folder: Path | str | None,
    *,
    idc_version: int | None = None,
    report: Reporter | None = None,
) -> list[BuiltIndex]:
    """Build the indices ``names`` on ``engine`` (BigQuery) at ``idc_version`` (default: the
    installed index's release) into ``folder``; see the module's documentation."""
    check_names(names)
    _can_build(engine)
    if folder is None or not str(folder):
        raise UsageError(
            "index build needs a folder to write the indices to: name one with ",
            Option("index_dir"),
            " (or IDC_SQL_INDEX_DIR)",
        )
    planned = estimate_indices(names, engine, idc_version=idc_version, report=report)
    refused = [e for e in planned if not e.decision.allowed]
    if refused:
        from ..errors import CostError

        first = refused[0]
        raise CostError(
            f"{first.query.label}: ", *first.decision.pieces, "; no index was built or written"
        )
    installed, package = index_release()
    built = []
    for estimate in planned:
        query = estimate.query
        target = release_folder(Path(folder), query.release.number, installed)
        built.append(_build(query, estimate.decision.estimate_bytes, engine, target, package))
    return built


def estimate_indices(
    names: Sequence[str],
    engine: Engine,
    *,
    idc_version: int | None = None,
    report: Reporter | None = None,
) -> list[Estimate]:
    """The query of each index ``names`` on ``engine`` at ``idc_version`` (default: the
    installed index's release) and what the cost guard decides of it; runs nothing."""
    from ..pipeline import guarded

    wanted = check_names(names)
    _can_build(engine)
    installed, _ = index_release()
    release = engine.settle(installed if idc_version is None else idc_version, WHERE)
    queries = [_query(name, engine, release) for name in wanted]
    found = []
    for query in queries:
        outcome = guarded(query, engine, dry_run=True, report=report)
        assert isinstance(outcome, Estimate)
        found.append(outcome)
    return found


def check_names(names: Sequence[str]) -> list[str]:
    """``names`` once each, when every one is an index the wheel ships one query for."""
    shipped = {n for n in index_names() if sql_path(n) is not None}
    unknown = [n for n in names if n not in shipped]
    if not names or unknown:
        what = f"no index {', '.join(unknown)}" if unknown else "name at least one index"
        raise UsageError(
            f"{what}: index build builds the indices whose SQL idc-index-data ships: "
            + ", ".join(buildable())
        )
    for name in dict.fromkeys(names):
        problem = _script_problem(name)
        if problem is not None:
            raise UsageError(
                f"{name} cannot be built: IDC's SQL for it is not a single query ({problem}); "
                "index build builds: " + ", ".join(buildable())
            )
    return list(dict.fromkeys(names))


def _can_build(engine: Engine) -> None:
    from ..targets import answering

    if not engine.target.can("index_sql"):
        raise UsageError(
            f"index build reads IDC's tables on BigQuery, which the {engine.target.name} engine "
            "does not hold (it reads the indices once built). Run it with ",
            Option("engine", answering("index_sql")[0]),
        )


def _query(name: str, engine: Engine, release: Release) -> Query:
    """``SELECT * FROM name`` in IDC's order, the index inlined for ``release``."""
    from ..query import Query
    from ..templates.render import with_indices

    tree: exp.Query = exp.select(exp.Star()).from_(exp.table_(name))
    order = _order(name)
    if order is not None:
        tree.set("order", order)
    tree = with_indices(tree, [name], release, engine, WHERE)
    target = engine.target
    return Query(target.name, target.dialect, tree, {}, release, label=f"{name}{_LABEL}")


def _name(query: Query) -> str:
    return query.label.removesuffix(_LABEL)


def _order(name: str) -> exp.Order | None:
    """IDC's final ORDER BY of the index, when it orders by the index's own columns."""
    from ..templates.inline import index_template

    template = index_template(name)  # one query: check_names has made sure
    order = template.tree.args.get("order") if template is not None else None
    if not isinstance(order, exp.Order):
        return None
    for ordered in order.expressions:
        column = ordered.this
        if not isinstance(column, exp.Column) or column.table:
            return None
    copied = order.copy()
    for node in copied.find_all(exp.Expr):
        node.comments = None
    return copied


def _build(
    query: Query, estimate: int | None, engine: Engine, folder: Path, package: str
) -> BuiltIndex:
    """Run ``query`` and write its rows as ``<folder>/<index>.parquet``, atomically."""
    from .. import __version__
    from ..outputs import atomic_output, check_output
    from ..outputs.provenance import now
    from ..writers.copying import option

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot make the index folder {folder}: {e.strerror or e}") from e
    name = _name(query)
    path = folder / f"{name}.parquet"
    target = check_output(str(path))
    rows = engine.execute(query)
    columns = _columns(name, rows)
    counted = exp.select(exp.Count(this=exp.Star())).from_(rows.query.subquery("r"))
    ((count,),) = rows.fetch(counted)
    sql_file = sql_path(name)
    assert sql_file is not None
    release = rows.release
    record = {
        "tool": "idc-sql",
        "version": __version__,
        "format": "parquet",
        "written_at": now(),
        "index": name,
        "idc_version": release.number,
        "release": release.label,
        "engine": engine.target.name,
        "source": f"IDC's {name}.sql ({package}) over {release.project}.{release.dataset}",
        "digest": hashlib.sha256(query.sql.encode("utf-8")).hexdigest(),
        "sql": query.sql,
        "index_sql_digest": hashlib.sha256(sql_file.read_bytes()).hexdigest(),
        "index_package": package,
        "rows": int(count),
        "estimate_bytes": estimate,
    }
    select = rows.projected(
        *(exp.alias_(exp.column(have, quoted=True), want, quoted=True) for have, want in columns)
    )
    metadata = exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=exp.to_identifier(METADATA_KEY.decode()),
                expression=exp.Literal.string(json.dumps(record, ensure_ascii=True)),
            )
        ]
    )
    with atomic_output(target) as tmp:
        rows.execute(
            exp.Copy(
                this=exp.Subquery(this=select),
                kind=False,
                files=[exp.Literal.string(str(tmp))],
                params=[option("FORMAT", exp.var("parquet")), option("KV_METADATA", metadata)],
            )
        )
    installed, _ = index_release()
    not_read = _not_read(name, release, installed)
    return BuiltIndex(name, path, release, int(count), estimate, record, not_read)


def _columns(name: str, rows: Rows) -> list[tuple[str, str]]:
    """(the rows' column, the schema's name for it), in the schema's order; an
    :class:`EngineError` when the rows are not what the wheel's schema describes."""
    from ..errors import EngineError

    have = list(rows.fetch(rows.query.limit(0), "to_arrow_table").column_names)
    expected = schema(name)
    problem = schema_problem(expected, have)
    if problem is not None or expected is None:
        raise EngineError(
            f"{name}: what IDC's SQL returned {problem}; nothing was written (is the "
            "installed idc-index-data older than the release read?)"
        )
    by_case = {n.casefold(): n for n in have}
    return [(by_case[str(c["name"]).casefold()], str(c["name"])) for c in expected["columns"]]


def _not_read(name: str, release: Release, installed: int) -> str | None:
    """Why the local engine will not read a build of ``name`` at ``release`` (None: it will)."""
    from ..engines.local import wheel_held

    number = release.number
    if number is None or number > installed:
        return f"the local engine reads releases up to v{installed}, the installed index's"
    if name in wheel_held(number, installed):
        served = "" if number == installed else f" as v{number} served it"
        return f"the local engine reads the {name} that idc-index-data ships{served}"
    return None


__all__ = ["BuiltIndex", "build_indices", "buildable", "check_names", "estimate_indices"]
