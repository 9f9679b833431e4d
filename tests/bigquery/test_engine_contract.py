"""The engine interface on BigQuery, through the emulator (the local engine's in tests/)."""

from __future__ import annotations

from pathlib import Path

import contract
import pytest

from idc_sql.engines.bigquery import BigQueryEngine, Settings

from .emulator import Emulator


@pytest.fixture
def engine(bq_emulator: Emulator) -> BigQueryEngine:
    return BigQueryEngine(
        Settings.resolve(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    )


def test_relations(engine: BigQueryEngine) -> None:
    contract.check_relations(engine)
    relations = engine.relations(engine.settle(25))
    assert relations["segmentations"].location == "bigquery-public-data.idc_v25.segmentations"


def test_settle(engine: BigQueryEngine) -> None:
    contract.check_settle(engine)
    assert engine.settle(None).dataset == "idc_current"
    assert engine.settle(None).number is None  # resolved when a query runs


def test_estimate(engine: BigQueryEngine) -> None:
    contract.check_estimate(engine)


def test_cohort_and_other_query(engine: BigQueryEngine) -> None:
    contract.check_cohort_and_other_query(engine)


def test_copy(engine: BigQueryEngine, tmp_path: Path) -> None:
    contract.check_copy_without_python(engine, tmp_path)


def test_refuses_a_query_for_another_engine(engine: BigQueryEngine) -> None:
    contract.check_refuses_foreign_query(engine, "local")


def test_close(engine: BigQueryEngine) -> None:
    contract.check_close(engine)
