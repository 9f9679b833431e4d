"""What changed in a cohort between two IDC releases: series added, removed and revised.

A series is the same across releases by its SeriesInstanceUID; a revised series keeps it and
gets a new ``crdc_series_uuid`` (new files). The two releases' cohorts are compiled as usual
and joined in ONE query (a full outer join on SeriesInstanceUID), on either engine: BigQuery
reads both ``idc_vNN`` datasets, the local engine both releases of the installed index (see
:mod:`idc_sql.engines.timetravel`). Nothing is stored: the index itself knows every release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import UsageError
from ..query import Query
from ..release import Release, Requested

if TYPE_CHECKING:
    from ..compiler import Compiled
    from ..engines.base import Engine, Rows
    from ..result import CohortResult
    from ..settings import Reporter
    from ..spec import Spec

CHANGES = ("added", "removed", "revised", "unchanged")
#: columns that describe one version of a series (they differ between a series' revisions)
VERSIONED = ("crdc_series_uuid", "aws_bucket", "series_size_MB", "series_aws_url")
KEY = "SeriesInstanceUID"
ORDER = ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID")


@dataclass(frozen=True)
class Counts:
    """How many series of each kind of change, and their size (MB; removed: the old size)."""

    added: int
    removed: int
    revised: int
    unchanged: int
    added_mb: float
    removed_mb: float
    revised_mb: float
    unchanged_mb: float

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.revised)


@dataclass
class Diff:
    """The change of a cohort between two releases; rows read through DuckDB."""

    cohort: str
    before: Release
    after: Release
    rows: Rows
    columns: tuple[str, ...]
    digest: str
    engine: str
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    _groups: list[tuple[str, str, int, float]] | None = None

    def __repr__(self) -> str:  # what a notebook shows: the change, not the query
        c = self.counts
        counts = ", ".join(f"{getattr(c, k):,} {k}" for k in CHANGES)
        return (
            f"<Diff {self.cohort!r} {self.before.label} -> {self.after.label} ({self.engine}): "
            f"{counts}>"
        )

    def _grouped(self) -> list[tuple[str, str, int, float]]:
        """Per collection and kind of change: how many series and their size (MB; removed:
        the old size), read in one pass over the rows (counts and collections share it)."""
        if self._groups is None:
            collection, change = exp.column("collection_id"), exp.column("change")
            size = exp.Coalesce(
                this=exp.column("series_size_MB"), expressions=[exp.column("from_series_size_MB")]
            )
            rows = self.rows.fetch(
                exp.select(collection, change, exp.Count(this=exp.Star()), exp.Sum(this=size))
                .from_(self.rows.query.subquery("d"))
                .group_by(collection, change)
            )
            self._groups = [(c, k, int(n), float(mb or 0)) for c, k, n, mb in rows]
        return self._groups

    @property
    def counts(self) -> Counts:
        n = dict.fromkeys(CHANGES, 0)
        mb = dict.fromkeys(CHANGES, 0.0)
        for _, kind, count, size in self._grouped():
            n[kind] += count
            mb[kind] += size
        return Counts(*(n[c] for c in CHANGES), *(mb[c] for c in CHANGES))

    def by_collection(self) -> list[dict[str, Any]]:
        """Per collection: how many series of each kind of change."""
        found: dict[str, dict[str, Any]] = {}
        for collection, kind, count, _ in self._grouped():
            row = found.setdefault(
                collection, {"collection_id": collection, **dict.fromkeys(CHANGES, 0)}
            )
            row[kind] += count
        return [found[c] for c in sorted(found)]

    def as_dict(self) -> dict[str, Any]:
        c = self.counts
        return {
            "cohort": self.cohort,
            "from": self.before.label,
            "to": self.after.label,
            "engine": self.engine,
            "changed": c.changed,
            "added": c.added,
            "removed": c.removed,
            "revised": c.revised,
            "unchanged": c.unchanged,
            "size_mb": {
                "added": round(c.added_mb, 6),
                "removed": round(c.removed_mb, 6),
                "revised": round(c.revised_mb, 6),
            },
            "collections": self.by_collection(),
        }

    def to_fetch(self) -> CohortResult:
        """The series to download to go from ``before`` to ``after``: added and revised, as
        ``after`` serves them (a result every writer takes)."""
        return self._part(("added", "revised"), self.after, "to fetch", old=False)

    def to_delete(self) -> CohortResult:
        """The series versions ``before`` had that ``after`` does not: removed series, and
        the earlier versions of revised ones (their ``crdc_series_uuid``, bucket and size)."""
        return self._part(("removed", "revised"), self.before, "to delete", old=True)

    def _part(
        self, kinds: tuple[str, ...], release: Release, what: str, *, old: bool
    ) -> CohortResult:
        from ..engines.base import Rows
        from ..result import CohortResult, Provenance

        def column(name: str) -> exp.Expr:
            source = f"from_{name}" if old and name in VERSIONED else name
            return exp.alias_(exp.column(source, quoted=True), name, quoted=True)

        names = tuple(dict.fromkeys((*self.columns, "change")))
        part = (
            exp.select(*(column(n) for n in names))
            .from_(self.rows.query.subquery("d"))
            .where(
                exp.In(
                    this=exp.column("change"),
                    expressions=[exp.Literal.string(k) for k in kinds],
                )
            )
        )
        # the renamed columns are read from outside (a result re-projects its query)
        query = (
            exp.select(*(exp.alias_(exp.column(n, quoted=True), n, quoted=True) for n in names))
            .from_(part.subquery("part"))
            .order_by(*(exp.column(c) for c in ORDER))
        )
        rows = Rows(self.rows.connection, query, dict(self.rows.params), release, label=what)
        provenance = Provenance(
            cohort=f"{self.cohort} {self.before.label}->{self.after.label} {what}",
            engine=self.engine,
            settled=release,
            source=f"the change from {self.before.label} to {self.after.label}",
            digest=self.digest,
            sql=self.sql,
            params=self.params,
        )
        return CohortResult(rows, names, provenance)


def at_release(spec: Spec, version: Requested) -> Spec:
    """``spec`` asking for release ``version`` (its members too, when they name none)."""
    return spec.model_copy(update={"idc_version": version})


def diff(
    spec: Spec,
    engine: Engine,
    before: Requested,
    after: Requested,
    *,
    also: tuple[str, ...] = (),
    report: Reporter | None = None,
) -> Diff:
    """The change of ``spec``'s cohort from release ``before`` to ``after`` on ``engine``."""
    from ..errors import CostError
    from ..pipeline import prepare
    from ..settings import Notice
    from ..spec import digest

    report = report or engine.report
    carried = tuple(dict.fromkeys((*ORDER, *VERSIONED[:3], *also)))
    _, a = prepare(at_release(spec, before), engine, also=carried)
    plan_b, b = prepare(at_release(spec, after), engine, also=carried)
    if a.release.number is not None and a.release.number == b.release.number:
        raise UsageError(
            f"both releases are {a.release.label}: a diff compares two different releases"
        )
    first, then = a.release.number, b.release.number
    if first is not None and then is not None and first > then:
        raise UsageError(
            f"{a.release.label} is newer than {b.release.label}: a diff goes from an "
            f"earlier release to a later one; diff from {b.release.label} to "
            f"{a.release.label} instead (the series {a.release.label} no longer has are "
            "counted there as removed)"
        )
    query = joined(a, b)
    decision = engine.estimate(query)
    if decision.estimate_bytes is not None:
        report(Notice("estimate", decision.pieces, {"bytes": decision.estimate_bytes}))
    if not decision.allowed:
        raise CostError(*decision.pieces)
    # not materialized: counts and collections are read in one pass, and each manifest
    # reads only its series (a table of every series would cost twice the memory of the join)
    rows = engine.execute(query)
    if plan_b.licenses:  # the cohort at the newer release holds to the spec's licenses
        from ..citations.contract import enforce

        gone = exp.EQ(this=exp.column("change"), expression=exp.Literal.string("removed"))
        enforce(rows, plan_b.licenses, exp.Not(this=gone))
    return Diff(
        cohort=spec.name,
        before=a.release,
        after=b.release,
        rows=rows,
        columns=tuple(c for c in b.output),
        digest=digest(spec),
        engine=engine.target.name,
        sql=query.sql,
        params=query.params,
    )


def joined(a: Compiled, b: Compiled) -> Query:
    """One query: the two cohorts joined on SeriesInstanceUID, each series' change named."""
    before, after = a.tree.copy(), b.tree.copy()
    for tree in (before, after):
        if tree.args.get("limit") is None:
            tree.set("order", None)  # order matters to a limit only; the diff is sorted later
    for p in after.find_all(exp.Placeholder):  # the two cohorts' parameters, kept apart
        p.set("this", f"b_{p.name}")
    params = {**a.params, **{f"b_{k}": v for k, v in b.params.items()}}
    col = exp.column

    def side(name: str, table: str) -> exp.Expr:
        return col(name, table=table, quoted=True)

    kind = exp.Case(
        ifs=[
            exp.If(
                this=exp.Is(this=side(KEY, "a"), expression=exp.Null()),
                true=exp.Literal.string("added"),
            ),
            exp.If(
                this=exp.Is(this=side(KEY, "b"), expression=exp.Null()),
                true=exp.Literal.string("removed"),
            ),
            exp.If(
                this=exp.NullSafeNEQ(
                    this=side("crdc_series_uuid", "a"), expression=side("crdc_series_uuid", "b")
                ),
                true=exp.Literal.string("revised"),
            ),
        ],
        default=exp.Literal.string("unchanged"),
    )
    selects: list[exp.Expr] = []
    for name in b.output:
        if name in VERSIONED:
            selects.append(exp.alias_(side(name, "b"), name, quoted=True))
            selects.append(exp.alias_(side(name, "a"), f"from_{name}", quoted=True))
        else:
            both = exp.Coalesce(this=side(name, "b"), expressions=[side(name, "a")])
            selects.append(exp.alias_(both, name, quoted=True))
    selects.append(exp.alias_(kind, "change"))
    tree = (
        exp.select(*selects)
        .from_(exp.table_("a"))
        .join(
            exp.table_("b"),
            on=exp.EQ(this=side(KEY, "a"), expression=side(KEY, "b")),
            join_type="full outer",
        )
        .with_("a", as_=before)
        .with_("b", as_=after)
    )
    return Query(
        engine=b.engine,
        dialect=b.dialect,
        tree=tree,
        params=params,
        release=b.release,
        label=f"{b.label}-diff",
        output=(*b.output, *(f"from_{v}" for v in VERSIONED if v in b.output), "change"),
    )
