"""The engine interface on the local engine (BigQuery's run in tests/bigquery)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import contract
import pytest

import idc_sql
from idc_sql.engines.base import Engine
from idc_sql.errors import UnsupportedError


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = idc_sql.engine("local")
    yield made
    made.close()


def test_relations(engine: Engine) -> None:
    contract.check_relations(engine)
    names = set(engine.relations(engine.settle(None)))
    assert {"idc_index", "collections_index", "prior_versions_index"} <= names


def test_settle(engine: Engine) -> None:
    contract.check_settle(engine)
    with pytest.raises(
        UnsupportedError, match=r"^spec\.yaml: idc_version: the local index is IDC v25"
    ):
        engine.settle(26, "spec.yaml: idc_version")


def test_estimate_is_free(engine: Engine) -> None:
    contract.check_estimate(engine)
    release = engine.settle(25)
    decision = engine.estimate(contract.by_collection(engine, release, "CT"))
    assert decision.estimate_bytes is None


def test_cohort_and_other_query(engine: Engine) -> None:
    contract.check_cohort_and_other_query(engine)


def test_copy(engine: Engine, tmp_path: Path) -> None:
    contract.check_copy_without_python(engine, tmp_path)


def test_refuses_a_query_for_another_engine(engine: Engine) -> None:
    contract.check_refuses_foreign_query(engine, "bigquery")


def test_close(engine: Engine) -> None:
    contract.check_close(engine)


def test_only_the_tables_a_query_reads_are_opened(engine: Engine) -> None:
    idc_sql.run({"name": "x", "where": {"collection_id": "rider_pilot"}}, engine)
    tables = engine.connection.execute(  # type: ignore[attr-defined]
        "SELECT table_name FROM information_schema.tables"
    ).fetchall()
    assert tables == [("idc_index",)]


def test_an_unknown_table_names_those_there_are(engine: Engine) -> None:
    release = engine.settle(None)
    query = contract.by_collection(engine, release, "CT")
    query.tree = query.tree.from_("sm_index")  # type: ignore[attr-defined]
    with pytest.raises(idc_sql.IdcSqlError, match=r"no table sm_index; it holds idc_index, "):
        engine.execute(query)
