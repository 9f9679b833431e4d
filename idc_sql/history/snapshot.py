"""Snapshots: a cohort's series kept as parquet, compared with the cohort as it is now.

A snapshot holds every column the cohort's rows carry (the spec's columns, the identifiers,
``Modality``, ``crdc_series_uuid``, ``aws_bucket``, ``series_size_MB``), in the cohort's
order, and its provenance as JSON under the parquet key ``idc_sql`` (cohort, spec digest and
content, release, engine, source, SQL and parameters, when). The comparison joins the cohort
with the previous snapshot in DuckDB by the change rules of :mod:`.diff`: same
SeriesInstanceUID and ``crdc_series_uuid`` is unchanged, a new ``crdc_series_uuid`` revised.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import EngineError, StateError
from .diff import ORDER, Diff, joined

if TYPE_CHECKING:
    from ..engines.base import Rows
    from ..release import Release
    from ..result import CohortResult, Provenance

#: what every snapshot keeps of each series, and what a comparison reads
KEPT = (
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "crdc_series_uuid",
    "aws_bucket",
    "series_size_MB",
)
#: the columns that describe one version of a series
VERSION_COLUMNS = ("crdc_series_uuid", "aws_bucket", "series_size_MB")
#: the parquet key-value metadata key of a snapshot's provenance
METADATA_KEY = "idc_sql"


def materialized(rows: Rows, prefix: str) -> str:
    """``rows`` computed once into a new table of their database; returns its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    rows.execute(exp.Create(this=exp.table_(name), kind="TABLE", expression=rows.query.copy()))
    return name


def drop(rows: Rows, *tables: str) -> None:
    """Drop tables made by :func:`materialized` (their memory goes back at once)."""
    for table in tables:
        rows.execute(exp.Drop(tables=[exp.table_(table)], kind="TABLE", exists=True))


def compare(
    rows: Rows,
    now: str,
    previous: Path | None,
    *,
    cohort: str,
    before: Release,
    digest: str,
    engine: str,
) -> Diff:
    """The change from the snapshot ``previous`` (None: nothing yet, every series is added)
    to the cohort in table ``now``."""
    from ..compiler import Compiled
    from ..engines.base import Rows as RowsType

    kept = [exp.column(c, quoted=True) for c in KEPT]
    if previous is None:
        source: exp.Expr = exp.table_(now)
        tree = exp.select(*kept).from_(source).where(exp.false())
        params: dict[str, Any] = {}
    else:
        source = exp.func("read_parquet", exp.Placeholder(this="snapshot"))
        tree = exp.select(*kept).from_(source)
        params = {"snapshot": str(previous)}

    def query(tree: exp.Select, params: dict[str, Any], release: Release) -> Compiled:
        return Compiled(
            engine=engine,
            dialect="duckdb",
            tree=tree,
            params=params,
            release=release,
            label=cohort,
            output=KEPT,
        )

    after = rows.release
    change = joined(query(tree, params, before), query(exp.select(*kept).from_(now), {}, after))
    # not materialized: the counts read it once, each delta file its own series
    assert isinstance(change.tree, exp.Query)
    delta = RowsType(rows.connection, change.tree, change.params, after, label=f"{cohort} changes")
    found = Diff(
        cohort=cohort,
        before=before,
        after=after,
        rows=delta,
        columns=KEPT,
        digest=digest,
        engine=engine,
        sql=change.sql,
        params=change.params,
    )
    try:
        found.counts  # noqa: B018 - read now: a damaged snapshot fails here, before any write
    except EngineError as e:  # the snapshot file: gone, damaged, or not one of ours
        raise StateError(
            f"the snapshot {previous} cannot be compared with: {e}; the state is damaged"
        ) from e
    return found


def part(
    change: Diff,
    kinds: tuple[str, ...],
    provenance: Provenance,
    *,
    old: bool = False,
    both: bool = False,
) -> CohortResult:
    """The series of ``change`` of the ``kinds`` given, in the canonical order, as a result any
    writer takes: their current version, or (``old``) the one the previous snapshot held;
    ``both`` adds the previous version's columns as ``from_...``."""
    from ..engines.base import Rows
    from ..result import CohortResult

    def column(name: str) -> exp.Expr:
        source = f"from_{name}" if old and name in VERSION_COLUMNS else name
        return exp.alias_(exp.column(source, quoted=True), name, quoted=True)

    names = list(KEPT)
    selects = [column(n) for n in KEPT]
    if both:
        names += [f"from_{n}" for n in VERSION_COLUMNS]
        selects += [exp.column(f"from_{n}", quoted=True) for n in VERSION_COLUMNS]
    chosen = (
        exp.select(*selects)
        .from_(change.rows.query.subquery("d"))
        .where(
            exp.In(
                this=exp.column("change"),
                expressions=[exp.Literal.string(k) for k in kinds],
            )
        )
    )
    # renamed in a subquery: a writer replaces the outer query's columns with the names it
    # wants, which must then mean the renamed values
    query = (
        exp.select(*(exp.column(n, quoted=True) for n in names))
        .from_(chosen.subquery("p"))
        .order_by(*(exp.column(c) for c in ORDER))
    )
    rows = Rows(
        change.rows.connection,
        query,
        dict(change.rows.params),
        provenance.settled,
        label=provenance.cohort,
    )
    return CohortResult(rows, tuple(names), provenance)


def totals(rows: Rows, table: str) -> tuple[int, float]:
    """How many series table ``table`` holds and their size (MB)."""
    size = exp.Coalesce(
        this=exp.Sum(this=exp.column("series_size_MB")), expressions=[exp.Literal.number(0)]
    )
    ((series, mb),) = rows.fetch(exp.select(exp.Count(this=exp.Star()), size).from_(table))
    return int(series), float(mb)


def write(rows: Rows, table: str, path: Path, provenance: dict[str, Any]) -> None:
    """Write table ``table`` to the snapshot file ``path``, atomically, with its provenance."""
    from ..outputs import atomic_output, check_output
    from ..writers.copying import option

    metadata = exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=exp.to_identifier(METADATA_KEY),
                expression=exp.Literal.string(json.dumps(provenance, default=str)),
            )
        ]
    )
    with atomic_output(check_output(str(path))) as tmp:
        statement = exp.Copy(
            this=exp.Subquery(this=exp.select(exp.Star()).from_(table)),
            kind=False,
            files=[exp.Literal.string(str(tmp))],
            params=[option("FORMAT", exp.var("parquet")), option("KV_METADATA", metadata)],
        )
        rows.execute(statement)


def provenance_of(path: Path) -> dict[str, Any]:
    """The provenance a snapshot file keeps."""
    import duckdb

    key = exp.Cast(this=exp.column("key"), to=exp.DataType.build("VARCHAR"))
    query = (
        exp.select(exp.column("value"))
        .from_(exp.func("parquet_kv_metadata", exp.Placeholder(this="snapshot")))
        .where(exp.EQ(this=key, expression=exp.Literal.string(METADATA_KEY)))
    )
    try:
        with duckdb.connect(":memory:") as connection:
            found = connection.execute(
                query.sql(dialect="duckdb"), {"snapshot": str(path)}
            ).fetchall()
    except duckdb.Error as e:
        raise StateError(f"the snapshot {path} cannot be read: {e}") from e
    if not found:
        raise StateError(f"{path} is not a snapshot of idc-sql: it has no provenance")
    value = found[0][0]
    record: dict[str, Any] = json.loads(value.decode() if isinstance(value, bytes) else value)
    return record


def read(path: Path, settled: Release, source: str) -> CohortResult:
    """The snapshot at ``path`` as a result any writer takes (its series in their order)."""
    import duckdb

    from ..engines.base import Rows
    from ..result import CohortResult, Provenance

    record = provenance_of(path)
    connection = duckdb.connect(":memory:", config={"threads": 1})
    scan = exp.func("read_parquet", exp.Placeholder(this="snapshot"))
    try:
        described = connection.execute(
            exp.select(exp.Star()).from_(scan.copy()).limit(0).sql(dialect="duckdb"),
            {"snapshot": str(path)},
        ).description
    except duckdb.Error as e:
        raise StateError(f"the snapshot {path} cannot be read: {e}") from e
    names = tuple(d[0] for d in described)
    query = exp.select(*(exp.column(n, quoted=True) for n in names)).from_(scan)
    rows = Rows(connection, query, {"snapshot": str(path)}, settled, label=record["cohort"])
    provenance = Provenance(
        cohort=str(record["cohort"]),
        engine=str(record["engine"]),
        settled=settled,
        source=source,
        digest=str(record["digest"]),
        sql=str(record.get("sql", "")),
        params=dict(record.get("params", {})),
    )
    columns = tuple(record.get("columns") or names)
    return CohortResult(rows, tuple(c for c in columns if c in names), provenance)
