"""Every example cohort in queries/examples compiles for BigQuery; the local ones also run."""

from __future__ import annotations

from pathlib import Path

import pytest

import idc_sql
from idc_sql.errors import UnsupportedError

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "queries" / "examples").glob("*.yaml"))
BIGQUERY_ONLY = {"thin-slice-lung-ct.yaml", "liver-segmented-ct.yaml"}


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_compiles_for_bigquery(path: Path) -> None:
    sql = idc_sql.compile(path, "bigquery").sql
    assert "`bigquery-public-data`.`idc_v25`.`dicom_all`" in sql


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_on_the_local_engine(path: Path) -> None:
    if path.name in BIGQUERY_ONLY:
        with pytest.raises(UnsupportedError, match="engine='bigquery'"):
            idc_sql.compile(path, "local")
        return
    summary = idc_sql.count(path)
    assert summary.series > 0
    assert summary.collections >= 1
