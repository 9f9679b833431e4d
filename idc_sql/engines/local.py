"""The embedded default: DuckDB in process, read-only over the idc-index-data parquet files."""

from __future__ import annotations

import importlib.util
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import EngineError, UsageError

if TYPE_CHECKING:
    import duckdb

    from ..catalog import Field
    from ..compiler import Compiled
    from ..plan import Atom, Selection
    from ..result import CohortResult, Provenance
    from ..spec import Spec

INDEX_PACKAGE = "idc_index_data"
INDEX_DISTRIBUTION = "idc-index-data"


def index_dir() -> Path:
    """Where the idc-index-data wheel keeps its files (found without importing the package)."""
    spec = importlib.util.find_spec(INDEX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            f"the local engine needs the {INDEX_DISTRIBUTION} package; install it with "
            f"`pip install {INDEX_DISTRIBUTION}`, or run with --engine bigquery"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def index_release() -> tuple[int, str]:
    """(IDC release, package version) of the installed index, e.g. ``(25, "25.0.5")``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version(INDEX_DISTRIBUTION)
    except PackageNotFoundError:
        raise UsageError(
            f"the local engine needs the {INDEX_DISTRIBUTION} package; install it with "
            f"`pip install {INDEX_DISTRIBUTION}`, or run with --engine bigquery"
        ) from None
    return int(text.split(".")[0]), text


class LocalEngine:
    """Runs compiled ``local`` queries in an in-memory DuckDB over the installed index."""

    name = "local"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or index_dir()
        self.idc_version, self.package_version = index_release()

    @cached_property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """An in-memory database with the view ``idc_index`` over the installed parquet file."""
        import duckdb

        parquet = self.directory / "idc_index.parquet"
        if not parquet.is_file():
            raise EngineError(f"the local index is missing: {parquet} does not exist")
        scan = exp.func(
            "read_parquet",
            exp.Literal.string(str(parquet)),
            exp.EQ(this=exp.var("file_row_number"), expression=exp.true()),
        )
        view = exp.Create(
            this=exp.table_("idc_index"),
            kind="VIEW",
            expression=exp.select(exp.Star()).from_(scan),
        )
        # idc_index.parquet is a single row group, which DuckDB scans on one thread anyway;
        # more threads would only add buffers (measured: +20 MB peak on the reference cohort).
        con = duckdb.connect(":memory:", config={"threads": 1})
        con.execute(view.sql(dialect="duckdb"))
        return con

    def result(self, compiled: Compiled, provenance: Provenance) -> CohortResult:
        """The result of ``compiled``: rows are read (streamed) when first asked for."""
        if compiled.engine != self.name:
            raise UsageError(f"a query compiled for {compiled.engine} cannot run on {self.name}")
        from ..result import CohortResult

        assert isinstance(compiled.tree, exp.Select)
        return CohortResult(
            self.connection, compiled.tree, compiled.params, compiled.columns, provenance
        )

    def distinct(
        self,
        reading: exp.Expr,
        *,
        equal_to: str | None = None,
        fold_case: bool = False,
        limit: int,
    ) -> list[str]:
        """Up to ``limit`` distinct string values of ``reading`` over the index, or only those
        equal to ``equal_to`` (``fold_case``: whatever their case), sorted."""
        value = reading.copy()
        query = exp.select(value.as_("v", copy=False)).distinct().from_("idc_index")
        params: dict[str, Any] = {}
        if equal_to is not None:
            wanted: exp.Expr = exp.Placeholder(this="v")
            params["v"] = equal_to
            left = value.copy()
            if fold_case:
                left, wanted = exp.Lower(this=left), exp.Lower(this=wanted)
            query = query.where(exp.EQ(this=left, expression=wanted), copy=False)
        query = query.order_by(exp.column("v"), copy=False).limit(limit, copy=False)
        rows = self.connection.execute(query.sql(dialect="duckdb"), params).fetchall()
        return [row[0] for row in rows if isinstance(row[0], str)]

    def describe(self) -> str:
        return f"local index, idc-index-data {self.package_version}"


def value_hints(engine: LocalEngine, spec: Spec) -> list[str]:
    """Why a cohort may have come back empty: the values it asks for by equality (``eq``,
    ``in``) that no series of the index holds, each with what it may have meant: the same
    letters in another case, or a close spelling among a field's values when they are few."""
    import difflib

    from ..plan import plan

    wanted: dict[Field, list[str]] = {}
    for atom in _atoms(plan(spec, "local", local_version=engine.idc_version).selection):
        f = atom.field
        if f.kind != "string" or f.instance_level or f.segment_level:
            continue
        for op, arg in atom.ops:
            if op in ("eq", "in"):
                values = arg if isinstance(arg, list | tuple) else [arg]
                wanted.setdefault(f, []).extend(v for v in values if isinstance(v, str))
    hints = []
    for f, values in wanted.items():
        reading = f.reading("local")
        assert reading is not None
        few = engine.distinct(reading, limit=_FEW + 1)
        for value in dict.fromkeys(values):
            if len(few) <= _FEW:
                if value in few:
                    continue
                meant = [c for c in few if c.casefold() == value.casefold()]
                meant = meant or difflib.get_close_matches(value, few, n=3, cutoff=0.6)
            else:
                if engine.distinct(reading, equal_to=value, limit=1):
                    continue
                meant = engine.distinct(reading, equal_to=value, fold_case=True, limit=3)
            also = f"; did you mean {' or '.join(map(repr, meant))}?" if meant else ""
            hints.append(f"no series has {f.name} {value!r}{also}")
    return hints


#: a field with at most this many values is read whole for close spellings
_FEW = 500


def _atoms(selection: Selection) -> list[Atom]:
    from ..plan import atoms_in

    return atoms_in(selection.where) + [a for m in selection.members for a in _atoms(m)]
