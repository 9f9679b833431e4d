"""What every engine promises (the platform's interface), checked the same way on each.

``tests/test_engine_contract.py`` runs these on the local engine, and
``tests/bigquery/test_engine_contract.py`` on BigQuery through the emulator.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlglot import exp

import idc_sql
from idc_sql.cost import CostDecision
from idc_sql.engines.base import Engine, Rows
from idc_sql.errors import UsageError
from idc_sql.query import Query
from idc_sql.release import Release

COHORT = {
    "name": "contract.ct",
    "idc_version": 25,
    "where": {"Modality": "CT"},
    "columns": ["collection_id", "SeriesInstanceUID"],
}


def by_collection(engine: Engine, release: Release, modality: str) -> Query:
    """Not a cohort: series counted by collection, straight over the engine's series source,
    with a bound parameter (what a saved template does)."""
    t = engine.target
    source = t.table(t.series_source, release.dataset, release.project, release.schema)
    series = exp.Count(this=exp.Distinct(expressions=[exp.column("SeriesInstanceUID")]))
    tree = (
        exp.select(exp.column("collection_id"), series.as_("n"))
        .from_(source)
        .where(exp.EQ(this=exp.column("Modality"), expression=exp.Placeholder(this="m")))
        .group_by(exp.column("collection_id"))
        .order_by(exp.column("collection_id"))
    )
    return Query(t.name, t.dialect, tree, {"m": modality}, release, label="by-collection")


def check_relations(engine: Engine) -> None:
    release = engine.settle(25, "spec.yaml: idc_version")
    assert release.number == 25
    relations = engine.relations(release)
    assert engine.target.series_source in relations
    for name, relation in relations.items():
        assert relation.name == name
        assert relation.description
        assert relation.location


def check_settle(engine: Engine) -> None:
    current = engine.settle(None)
    assert current.requested == "current"
    pinned = engine.settle(25)
    assert (pinned.number, pinned.requested, pinned.label) == (25, 25, "v25")
    assert pinned.dataset == "idc_v25"


def check_estimate(engine: Engine) -> None:
    release = engine.settle(25)
    decision = engine.estimate(by_collection(engine, release, "CT"))
    assert isinstance(decision, CostDecision)
    assert decision.allowed
    assert decision.message


def check_cohort_and_other_query(engine: Engine) -> None:
    """A cohort through the pipeline and a grouped query through ``execute`` agree."""
    cohort = idc_sql.run(COHORT, engine)
    counted = Counter(cohort.to_arrow().column("collection_id").to_pylist())
    assert counted, "the cohort is empty"

    rows = engine.execute(by_collection(engine, engine.settle(25), "CT"))
    assert isinstance(rows, Rows)
    assert rows.fields == ("collection_id", "n")
    batches = list(rows.record_batches(rows=2))  # streamed, a batch of at most 2 rows
    assert all(b.num_rows <= 2 for b in batches)
    table = {
        c: n
        for b in batches
        for c, n in zip(b["collection_id"].to_pylist(), b["n"].to_pylist(), strict=True)
    }
    assert table == dict(counted)
    assert list(table) == sorted(table)


def check_copy_without_python(engine: Engine, tmp_path: Any) -> None:
    """Rows are written by DuckDB's COPY (what writers do)."""
    rows = engine.execute(by_collection(engine, engine.settle(25), "CT"))
    out = tmp_path / "by-collection.csv"
    rows.execute(
        exp.Copy(
            this=exp.Subquery(this=rows.query),
            kind=False,
            files=[exp.Literal.string(str(out))],
            params=[exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("csv"))],
        )
    )
    assert out.read_text().splitlines()[0] == "collection_id,n"


def check_refuses_foreign_query(engine: Engine, other: str) -> None:
    release = engine.settle(25)
    query = by_collection(engine, release, "CT")
    query.engine = other
    with pytest.raises(UsageError, match=f"compiled for {other} cannot run on"):
        engine.execute(query)


def check_close(engine: Engine) -> None:
    rows = engine.execute(by_collection(engine, engine.settle(25), "CT"))
    engine.close()
    assert rows.fetch(exp.select(exp.Count(this=exp.Star())).from_(rows.query.subquery("q")))
