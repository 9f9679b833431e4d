"""The embedded default: DuckDB in process, read-only over the idc-index-data parquet files.

Every table the installed wheel ships as parquet is a relation, under its own name
(``idc_index``, ``collections_index``, ...). A query's tables are registered as views when it
first reads them, so a cohort over ``idc_index`` opens one file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import EngineError, Option, UnsupportedError, UsageError
from ..indexes.wheel import INDEX_DISTRIBUTION, index_dir, index_release
from ..query import Query
from ..release import Release, Requested
from ..settings import Reporter, Settings, silent
from ..targets import TARGETS, Target
from .base import Relation, Rows
from .lists import ListTables
from .selection import Selections

if TYPE_CHECKING:
    import duckdb

    from ..cost import CostDecision
    from ..indexes.folder import FolderIndex
    from ..schema import LiveSchema

#: the wheel's tables, what they hold
RELATIONS = {
    "idc_index": "one row per series of the release: the cohort engine's source",
    "collections_index": "one row per collection: cancer types, sites, species, licenses, DOIs",
    "analysis_results_index": "one row per analysis result: its collections, license, DOI",
    "prior_versions_index": "series of earlier releases: revised and removed ones",
    "version_metadata_index": "the releases of IDC: numbers, dates",
}
#: the relations the local engine holds for an earlier release than its own
EVERY_RELEASE = ("idc_index", "prior_versions_index")
#: the canonical order of idc_index rows (see targets: its row number sorts)
ROW_NUMBER = "file_row_number"
#: the database's settings: idc_index.parquet is a single row group, which DuckDB scans on one
#: thread anyway; more threads would only add buffers (measured: +20 MB peak on the reference
#: cohort)
CONNECTION_CONFIG = {"threads": 1}


def wheel_held(release: int, installed: int) -> frozenset[str]:
    """The relations the wheel answers at ``release``: every table it ships at its own
    release; at an earlier one, idc_index as that release served it and the history of
    versions (an index folder may hold the others, built from that release)."""
    return frozenset(RELATIONS if release == installed else EVERY_RELEASE)


class LocalEngine:
    """Runs compiled ``local`` queries in an in-memory DuckDB over the installed index."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        report: Reporter = silent,
        directory: Path | None = None,
    ) -> None:
        self.report = report
        #: where what is worth keeping between runs is kept (the values of few-valued fields)
        self.cache_dir = (settings or Settings.local()).cache_dir
        self.directory = directory or index_dir()
        self.idc_version, self.package_version = index_release()
        self._registered: dict[str | None, set[str]] = {}
        self._threads_reset = False
        #: the statements that made the relations readable, in order (as DuckDB ran them)
        self.setup: list[str] = []
        from ..indexes.folder import idc_index_folder

        given = settings.index_dir if settings is not None else Settings.local().index_dir
        #: where indices beyond the wheel's are looked for, in order
        self.index_folders = [
            *([given] if given is not None else []),
            idc_index_folder(self.package_version),
        ]
        self._lists = ListTables()
        self._selections = Selections()

    @property
    def target(self) -> Target:
        return TARGETS["local"]

    # ---- what it holds

    def settle(self, requested: Requested, where: str = "") -> Release:
        installed = self.idc_version
        if requested in (None, "current"):
            return Release(
                installed,
                f"idc_v{installed}",
                "the installed index",
                self.describe_package(),
                "current",
            )
        assert isinstance(requested, int)
        if requested > installed:
            raise UnsupportedError(
                where,
                f"the local index is IDC v{installed} ({self.describe_package()}); "
                f"v{requested} is not published in it: run this cohort with ",
                Option("engine", "bigquery"),
                f" (dataset idc_v{requested}) once IDC publishes it, or install a newer index",
            )
        how = (
            "pinned by the specification"
            if requested == installed
            else "pinned by the specification; the installed index as that release served it"
        )
        # an earlier release's tables are kept in a schema of their own, so that one query
        # (a diff) may read two releases
        schema = None if requested == installed else f"idc_v{requested}"
        return Release(
            requested, f"idc_v{requested}", how, self.describe_package(), requested, schema=schema
        )

    def relations(self, release: Release) -> Mapping[str, Relation]:
        self._check_release(release)
        held = {
            name: Relation(name, description, str(self.directory / f"{name}.parquet"))
            for name, description in RELATIONS.items()
            if (self.directory / f"{name}.parquet").is_file()
        }
        if release.number != self.idc_version:
            # an earlier release: idc_index as it served it, and the history of versions; the
            # wheel's other tables describe the installed release only
            held = {n: held[n] for n in EVERY_RELEASE if n in held}
        # indices built from this very release (an earlier one's in the folders' idc_vNN)
        for name, found in self.folder_indices(release.number).items():
            if found.problem is None:
                held[name] = Relation(name, found.description, str(found.path), found.release)
        return held

    def folder_indices(self, release: int | None = None) -> Mapping[str, FolderIndex]:
        """IDC indices of ``release`` (default: the installed one) found as parquet in the
        index folders, read or not (with why not)."""
        from ..indexes.folder import folder_indices

        release = self.idc_version if release is None else release
        return folder_indices(
            self.index_folders,
            release,
            self.directory,
            wheel_held(release, self.idc_version),
            installed=self.idc_version,
        )

    def schema(self, release: Release, *, live: bool = False) -> LiveSchema | None:
        return None

    def estimate(self, query: Query) -> CostDecision:
        from ..cost import FREE

        return FREE

    def describe(self, release: Release) -> str:
        return f"local index, {self.describe_package()}"

    def describe_package(self) -> str:
        return f"{INDEX_DISTRIBUTION} {self.package_version}"

    # ---- running

    @cached_property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """An in-memory database; relations become views as queries read them (an earlier
        release's in a schema named after it, e.g. ``idc_v24.idc_index``)."""
        import duckdb

        return duckdb.connect(":memory:", config=dict(CONNECTION_CONFIG))

    def execute(self, query: Query) -> Rows:
        if query.engine != self.target.name:
            raise UsageError(
                f"a query compiled for {query.engine} cannot run on {self.target.name}"
            )
        self._check_release(query.release)
        tree = _in_schema(query.tree, query.release.schema)
        # a query may read several releases (a diff): each schema's tables are that release's
        read = _tables_read(tree)
        for schema, names in read.items():
            self.register(names, self._release_of(schema, query.release))
        if any(schema is not None for schema in read):
            self._parallel()
        # long lists are stored once as tables, and read from there by every run of the rows
        tree = self._lists.bind(self.connection, tree, query.params)
        if query.row_key is not None:
            tree = self._selections.settle(self.connection, tree, query.params, query.row_key)
        assert isinstance(tree, exp.Query)
        return Rows(self.connection, tree, dict(query.params), query.release, label=query.label)

    def _parallel(self) -> None:
        """Every core from now on: an earlier release is a join and windows over the index
        and the history of versions, which DuckDB spreads over threads (a diff of all of IDC
        runs in 0.85x the time on two cores), unlike the scan of idc_index's one row group."""
        if not self._threads_reset:
            cores = exp.Literal.number(os.cpu_count() or 1)
            every = exp.Set(
                expressions=[exp.SetItem(this=exp.EQ(this=exp.var("threads"), expression=cores))]
            )
            self._setup(every.sql(dialect="duckdb"))
            self._threads_reset = True

    def register(self, names: set[str], release: Release) -> None:
        """Make the relations ``names`` readable in :attr:`connection`."""
        known = self.relations(release)
        unknown = sorted(names - set(known))
        if unknown and release.number != self.idc_version:
            raise UsageError(
                f"at IDC {release.label} the local engine holds {' and '.join(known)} only (the "
                f"index's other tables are v{self.idc_version}'s): for {', '.join(unknown)} "
                "run with ",
                Option("engine", "bigquery"),
                ", or build them for that release with idc-sql index build",
            )
        if unknown:
            raise UsageError(
                f"the local engine has no table {', '.join(unknown)}; it holds {', '.join(known)}"
            )
        number = release.number
        assert number is not None
        registered = self._registered.setdefault(release.schema, set())
        for name in sorted(names - registered):
            statements = []
            if release.schema is not None and not registered:
                schema = exp.Create(
                    this=exp.Table(db=exp.to_identifier(release.schema)),
                    kind="SCHEMA",
                    exists=True,
                )
                statements.append(schema)
            statements.append(
                exp.Create(
                    this=exp.table_(name, db=release.schema),
                    kind="VIEW",
                    expression=self._source(name, number, known),
                )
            )
            try:
                for statement in statements:
                    self._setup(statement.sql(dialect="duckdb"))
            except Exception as e:  # duckdb.Error: a damaged or missing file
                raise EngineError(f"the local index cannot be read: {e}") from e
            registered.add(name)

    def _setup(self, sql: str) -> None:
        self.connection.execute(sql)
        self.setup.append(sql)

    def _source(self, name: str, release: int, known: Mapping[str, Relation]) -> exp.Query:
        """What relation ``name`` reads at ``release``: the file, or for an earlier release's
        idc_index, the series that release served (see :mod:`.timetravel`)."""

        def scan(relation: str, *options: exp.Expr) -> exp.Expr:
            return exp.func("read_parquet", exp.Literal.string(known[relation].location), *options)

        if name != "idc_index":
            return exp.select(exp.Star()).from_(scan(name))
        if release == self.idc_version:
            number = exp.EQ(this=exp.var(ROW_NUMBER), expression=exp.true())
            return exp.select(exp.Star()).from_(scan(name, number))
        from .timetravel import release_view

        columns = self.connection.sql(
            exp.select(exp.Star()).from_(scan(name)).limit(0).sql(dialect="duckdb")
        ).columns
        number = exp.EQ(this=exp.var(ROW_NUMBER), expression=exp.true())
        current = exp.select(exp.Star()).from_(scan(name, number)).subquery()
        prior = exp.select(exp.Star()).from_(scan("prior_versions_index", number.copy()))
        return release_view(current, prior.subquery(), release, columns, ROW_NUMBER)

    def lookup(self, query: exp.Query, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The rows of a small query over the installed release's index (``idc_index``), run
        at once; a list parameter of it may be stored first (:meth:`stored_list`)."""
        read = _tables_read(query).get(None, set())
        self.register({"idc_index"} | read, self.settle(None))
        try:
            return self.connection.execute(
                query.sql(dialect="duckdb"), dict(params or {})
            ).fetchall()
        except Exception as e:  # duckdb.Error
            raise EngineError(f"looking up values in the local index failed: {e}") from e

    def stored_list(self, values: list[Any]) -> exp.Table:
        """A table of ``values`` (column ``_v``, in order of ``rowid``), stored once."""
        from .lists import SCHEMA

        return exp.table_(self._lists.store(self.connection, values), db=SCHEMA)

    def close(self) -> None:
        # not connection.close(): the rows returned read through it, and DuckDB frees the
        # database with the last reference to it
        self.__dict__.pop("connection", None)
        self._registered.clear()
        self._threads_reset = False
        self.setup = []
        self._lists = ListTables()
        self._selections = Selections()

    def _release_of(self, schema: str | None, default: Release) -> Release:
        """The release whose tables schema ``schema`` holds (None: the query's own)."""
        if schema is None or schema == default.schema:
            return default
        prefix, _, number = schema.partition("_v")
        if prefix != "idc" or not number.isdigit():
            raise UsageError(
                f"the local engine has no schema {schema}; releases are read as idc_vNN"
            )
        return self.settle(int(number))

    def _check_release(self, release: Release) -> None:
        if release.number is None or not 1 <= release.number <= self.idc_version:
            raise UsageError(
                f"the local index is IDC v{self.idc_version}; it cannot read {release.label}"
            )


def _in_schema(tree: exp.Expr, schema: str | None) -> exp.Expr:
    """``tree`` with its unqualified tables (not its CTEs) read from ``schema``, where an
    earlier release's tables are."""
    if schema is None:
        return tree
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tree = tree.copy()
    for t in tree.find_all(exp.Table):
        if t.name and not t.db and t.name not in ctes and isinstance(t.this, exp.Identifier):
            t.set("db", exp.to_identifier(schema))
    return tree


def _tables_read(tree: exp.Expr) -> dict[str | None, set[str]]:
    """The tables a query reads by schema (None: unqualified), less its own CTEs."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    found: dict[str | None, set[str]] = {}
    for t in tree.find_all(exp.Table):
        if t.name and not (t.name in ctes and not t.db):
            found.setdefault(t.db or None, set()).add(t.name)
    return found
