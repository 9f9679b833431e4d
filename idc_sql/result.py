"""A cohort's result: its series, a summary, and where it came from.

Whatever engine ran the query, the rows are read through DuckDB (the local engine streams them
from the index; BigQuery's Arrow result is registered), so summaries and writers are the same code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

if TYPE_CHECKING:
    import duckdb
    import pandas
    import pyarrow


@dataclass(frozen=True)
class Summary:
    """How much a cohort holds."""

    series: int
    studies: int
    patients: int
    collections: int
    size_mb: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        return [
            f"series       {self.series:>12,}",
            f"studies      {self.studies:>12,}",
            f"patients     {self.patients:>12,}",
            f"collections  {self.collections:>12,}",
            f"size         {human_size(self.size_mb):>12}",
        ]


@dataclass(frozen=True)
class Provenance:
    """What produced a result: enough to reproduce it."""

    cohort: str
    engine: str
    idc_version: int | str
    source: str
    digest: str
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    #: the release ``idc_version: current`` resolved to, when known
    resolved_version: int | None = None

    @property
    def release(self) -> str:
        version = self.resolved_version or self.idc_version
        return f"v{version}" if isinstance(version, int) else str(version)


class CohortResult:
    """The series of a cohort and its provenance.

    ``query`` yields the cohort's rows in order over ``connection`` (DuckDB), with ``params``
    bound: for the local engine it is the compiled query itself, streamed each time it is read;
    for BigQuery it reads the fetched rows. ``columns`` are the fields the specification asked
    for; ``query`` also yields the fields that manifests and summaries need.
    """

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        query: exp.Select,
        params: dict[str, Any],
        columns: tuple[str, ...],
        provenance: Provenance,
    ) -> None:
        self.connection = connection
        self.query = query
        self.params = params
        self.columns = columns
        #: every field the rows carry (the chosen columns, then what manifests need)
        self.fields = tuple(e.alias_or_name for e in query.expressions if isinstance(e, exp.Expr))
        self.provenance = provenance
        self._summary: Summary | None = None

    def projected(self, *expressions: exp.Expr) -> exp.Select:
        """The cohort query, yielding ``expressions`` instead of its columns, in the same order."""
        query = self.query.copy()
        query.set("expressions", list(expressions))
        return query

    def execute(self, statement: exp.Expr) -> None:
        """Run a statement built over the cohort query (e.g. a COPY), parameters bound."""
        self._run(statement, lambda con, sql, params: con.execute(sql, params))

    def fetch(self, query: exp.Expr, how: str = "fetchall") -> Any:
        """Run a query built over the cohort query and read its result (``fetchall``,
        ``to_arrow_table`` or ``df``), parameters bound."""

        # rows through the DB-API; Arrow and pandas through a relation (no extra copy)
        def read(con: Any, sql: str, params: dict[str, Any]) -> Any:
            source = con.execute(sql, params) if how == "fetchall" else con.sql(sql, params=params)
            return getattr(source, how)()

        return self._run(query, read)

    def _run(self, statement: exp.Expr, how: Any) -> Any:
        import duckdb

        from .errors import EngineError

        sql = statement.sql(dialect="duckdb")
        used = {p.name for p in statement.find_all(exp.Placeholder)}
        params = {k: v for k, v in self.params.items() if k in used}
        try:
            return how(self.connection.cursor(), sql, params)
        except duckdb.Error as e:
            raise EngineError(f"reading the result of {self.provenance.cohort} failed: {e}") from e

    @property
    def summary(self) -> Summary:
        """Series, studies, patients (per collection), collections and size.

        Three small aggregates rather than one: DuckDB keeps one hash table per DISTINCT
        aggregate, and together they cost twice the memory and time (measured on the
        reference cohort: +68 MB / 0.21 s in one query, +32 MB / 0.10 s in three).
        """
        if self._summary is None:
            rows = self.query.copy()
            if rows.args.get("limit") is None:
                rows.set("order", None)  # order matters to a limit only; sorting costs memory
            cohort = rows.subquery("cohort")

            def one(*aggregates: exp.Expr) -> tuple[Any, ...]:
                (row,) = self.fetch(exp.select(*aggregates).from_(cohort.copy()))
                return tuple(row)

            def distinct(*columns: str) -> exp.Expr:
                key = [exp.column(c) for c in columns]
                return exp.Count(
                    this=exp.Distinct(
                        expressions=key if len(key) == 1 else [exp.Tuple(expressions=key)]
                    )
                )

            series, collections, size = one(
                exp.Count(this=exp.Star()),
                distinct("collection_id"),
                exp.Coalesce(
                    this=exp.Sum(this=exp.column("series_size_MB")),
                    expressions=[exp.Literal.number(0)],
                ),
            )
            (studies,) = one(distinct("StudyInstanceUID"))
            (patients,) = one(distinct("collection_id", "PatientID"))
            self._summary = Summary(
                series=int(series),
                studies=int(studies),
                patients=int(patients),
                collections=int(collections),
                size_mb=float(size),
            )
        return self._summary

    def select(self, columns: tuple[str, ...] | None = None) -> exp.Select:
        """The cohort query yielding ``columns`` (default: the chosen ones)."""
        names = columns if columns is not None else self.columns
        # aliased, so the names are the catalog's whatever case the rows were stored in
        return self.projected(
            *(exp.alias_(exp.column(c, quoted=True), c, quoted=True) for c in names)
        )

    def to_arrow(self) -> pyarrow.Table:
        """The chosen columns as an Arrow table, one row per series, in the cohort's order."""
        table: pyarrow.Table = self.fetch(self.select(), "to_arrow_table")
        return table

    def to_pandas(self) -> pandas.DataFrame:
        """The chosen columns as a pandas DataFrame."""
        frame: pandas.DataFrame = self.fetch(self.select(), "df")
        return frame

    def __len__(self) -> int:
        return self.summary.series

    def write(self, path: str, fmt: str | None = None, *, destination: str = ".") -> str:
        """Write the result atomically (``fmt`` defaults from the suffix); returns the format."""
        from .manifests import write

        return write(self, path, fmt, destination=destination)


def human_size(mb: float) -> str:
    """Megabytes as a short decimal size: 1,500 MB -> '1.50 GB'."""
    value = mb * 1e6
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
