"""What every engine is: the interface the pipeline, templates and writers rely on.

An engine settles the IDC release a query reads (:meth:`Engine.settle`), says which tables it
holds for that release (:meth:`Engine.relations`, as data, without connecting), estimates what
a query costs (:meth:`Engine.estimate`), and runs any read-only compiled query with bound
parameters (:meth:`Engine.execute`), returning :class:`Rows`. Rows are always read through
DuckDB: the local engine streams them from the index, BigQuery's Arrow result is registered in
an in-memory database. So summaries and writers are one code path for every engine, and a
writer's ``COPY`` runs in DuckDB without a Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from ..errors import EngineError, interrupted
from ..query import Query

if TYPE_CHECKING:
    import duckdb
    import pyarrow

    from ..cost import CostDecision
    from ..release import Release, Requested
    from ..schema import LiveSchema
    from ..settings import Reporter
    from ..targets import Target


@dataclass(frozen=True)
class Relation:
    """A table an engine holds for a release: its name in queries and where it is read from."""

    name: str
    description: str
    #: a parquet file (local) or a table id (BigQuery)
    location: str
    #: the release its file records being built from (an index built into an index folder)
    built: int | None = None


class Engine(Protocol):
    """The interface both engines implement."""

    @property
    def target(self) -> Target:
        """What the engine is, as data (dialect, capabilities, options)."""
        ...

    #: where the engine's notices go (a job's progress, a cancelled job)
    report: Reporter

    def settle(self, requested: Requested, where: str = "") -> Release:
        """The release this engine reads for ``requested``; refuses one it cannot read
        (``where`` names the place that asked, for the message)."""
        ...

    def relations(self, release: Release) -> Mapping[str, Relation]:
        """The tables this engine holds for ``release``, by name; connects to nothing."""
        ...

    def schema(self, release: Release, *, live: bool = False) -> LiveSchema | None:
        """The dicom_all schema for fields outside the catalog (None: the catalog only);
        ``live`` asks the engine rather than a cache."""
        ...

    def estimate(self, query: Query) -> CostDecision:
        """What ``query`` would cost, and whether the cost guard lets it run."""
        ...

    def execute(self, query: Query) -> Rows:
        """Run ``query`` (an estimate has allowed it) and return its rows."""
        ...

    def describe(self, release: Release) -> str:
        """Where the rows of ``release`` come from, for people and provenance."""
        ...

    def close(self) -> None:
        """Let go of connections and clients; rows already returned stay readable (their
        database is freed with the last of them)."""
        ...


@dataclass
class Rows:
    """A query's rows, readable through DuckDB as often as needed.

    ``query`` yields the rows in order over ``connection`` with ``params`` bound: for the local
    engine it is the compiled query itself, streamed each time it is read; for BigQuery it
    reads the fetched rows.
    """

    connection: duckdb.DuckDBPyConnection
    query: exp.Query
    params: dict[str, Any]
    #: the release actually read (``idc_current`` resolved to its number when known)
    release: Release
    label: str = "query"
    fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.query, exp.Select):  # a UNION or the like: read it as a table
            self.query = exp.select(exp.Star()).from_(
                exp.Subquery(this=self.query, alias=exp.TableAlias(this=exp.to_identifier("q")))
            )
        self.fields = tuple(
            e.alias_or_name for e in self.query.expressions if isinstance(e, exp.Expr)
        )

    def projected(self, *expressions: exp.Expr) -> exp.Select:
        """The query, yielding ``expressions`` instead of its columns, in the same order."""
        assert isinstance(self.query, exp.Select)
        query = self.query.copy()
        query.set("expressions", list(expressions))
        return query

    def execute(self, statement: exp.Expr) -> None:
        """Run a statement built over the query (e.g. a COPY), parameters bound."""
        self._run(statement, lambda con, sql, params: con.execute(sql, params))

    def fetch(
        self, query: exp.Expr, how: str = "fetchall", extra: Mapping[str, Any] | None = None
    ) -> Any:
        """Run a query built over the rows and read it (``fetchall``, ``to_arrow_table``,
        ``df``), parameters bound (``extra``: the statement's own, a COPY's file)."""

        # rows through the DB-API; Arrow and pandas through a relation (no extra copy)
        def read(con: Any, sql: str, params: dict[str, Any]) -> Any:
            source = con.execute(sql, params) if how == "fetchall" else con.sql(sql, params=params)
            return getattr(source, how)()

        return self._run(query, read, extra)

    def columns(self, query: exp.Expr) -> tuple[str, ...]:
        """The names of the columns ``query`` (built over the rows) yields, as DuckDB names
        them; run through the DB-API, so that nothing loads Arrow for a list of names."""
        names: tuple[str, ...] = self._run(
            query,
            lambda con, sql, params: tuple(d[0] for d in con.execute(sql, params).description),
        )
        return names

    def record_batches(
        self, query: exp.Expr | None = None, rows: int = 100_000
    ) -> pyarrow.RecordBatchReader:
        """The rows (or ``query`` built over them) as a stream of Arrow record batches."""
        return self._run(
            query if query is not None else self.query,
            lambda con, sql, params: con.sql(sql, params=params).to_arrow_reader(rows),
        )

    def _run(self, statement: exp.Expr, how: Any, extra: Mapping[str, Any] | None = None) -> Any:
        import duckdb

        sql = statement.sql(dialect="duckdb")
        used = {p.name for p in statement.find_all(exp.Placeholder)}
        params = {k: v for k, v in {**self.params, **(extra or {})}.items() if k in used}
        try:
            return how(self.connection.cursor(), sql, params)
        except (duckdb.Error, RuntimeError) as e:
            if interrupted(e):  # a Ctrl-C while the query ran: said as one
                raise KeyboardInterrupt from None
            if not isinstance(e, duckdb.Error):
                raise
            raise EngineError(f"reading the result of {self.label} failed: {e}") from e
