"""Long lists and files of values on BigQuery (the emulator) against the local engine.

A list of more than 1,000 values is bound as one array parameter and joined as a relation,
``x IN (SELECT _v FROM UNNEST(@p) AS _v)``: the same series must come back as on the local
engine, in ``in``, ``not_in`` and under ``not`` (the null rule), from a spec or from a file.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import duckdb
import idc_index_data
import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine

from .test_equivalence import COMPARED, _bigquery, _local, assert_same, engine, series_uids

__all__ = ["engine", "series_uids"]  # fixtures


@pytest.fixture(scope="module")
def mixed(series_uids: list[str]) -> list[str]:
    """2,000 SeriesInstanceUIDs: 1,500 of the emulator's series and 500 it does not hold."""
    with duckdb.connect() as con:
        others = [
            r[0]
            for r in con.execute(
                "SELECT SeriesInstanceUID FROM read_parquet(?) ORDER BY SeriesInstanceUID "
                "LIMIT 3000",
                [str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)],
            ).fetchall()
        ]
    held = set(series_uids)
    values = (
        random.Random(7).sample(series_uids, 1_500) + [u for u in others if u not in held][:500]
    )
    random.Random(8).shuffle(values)
    assert len(values) == 2_000
    return values


@pytest.mark.parametrize(
    "where",
    [
        lambda v: {"SeriesInstanceUID": v},
        lambda v: {"SeriesInstanceUID": {"not_in": v}},
        lambda v: {"not": {"SeriesInstanceUID": {"in": v}}},
        lambda v: {"all": [{"Modality": "CT"}, {"SeriesInstanceUID": {"not_in": v[:1200]}}]},
        lambda v: {"study_has": {"SeriesInstanceUID": v[:1100]}},
    ],
    ids=["in", "not_in", "not-in", "and-not_in", "study_has"],
)
def test_a_long_list_agrees_with_the_local_engine(
    where: Any, mixed: list[str], engine: BigQueryEngine, series_uids: list[str]
) -> None:
    spec = {"name": "long", "idc_version": 25, "where": where(mixed), "columns": COMPARED}
    compiled = idc_sql.compile(spec, "bigquery")
    assert re.search(r"IN \(\s+SELECT\s+_v\s+FROM UNNEST\(@p\d+\) AS _v\s+\)", compiled.sql)
    local, remote = _local(spec, series_uids), _bigquery(spec, engine)
    assert remote.num_rows > 0
    assert_same(local, remote, "long list")


def test_a_file_of_values_agrees_with_the_local_engine(
    mixed: list[str],
    engine: BigQueryEngine,
    series_uids: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "split.csv").write_text(
        "SeriesInstanceUID,split\n" + "".join(f"{u},train\n" for u in mixed), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    spec = {
        "name": "file",
        "idc_version": 25,
        "where": {"SeriesInstanceUID": {"in_file": "split.csv"}},
        "columns": COMPARED,
    }
    assert_same(_local(spec, series_uids), _bigquery(spec, engine), "in_file")


@pytest.mark.parametrize("op", ["in", "not_in"])
def test_a_list_of_100000_values_agrees_with_the_local_engine(
    op: str, engine: BigQueryEngine, series_uids: list[str]
) -> None:
    # the emulator's series among 100,000 real UIDs of the index: a request of about 6 MB,
    # within BigQuery's 10 MB (a list this long is refused only past that, see test_bounded)
    held = set(series_uids)
    with duckdb.connect() as con:
        others = [
            r[0]
            for r in con.execute(
                "SELECT SeriesInstanceUID FROM read_parquet(?) ORDER BY SeriesInstanceUID "
                "LIMIT 110000",
                [str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)],
            ).fetchall()
            if r[0] not in held
        ]
    values = series_uids[: len(series_uids) // 2] + others[: 100_000 - len(series_uids) // 2]
    random.Random(9).shuffle(values)
    assert len(values) == 100_000
    spec = {
        "name": "very-long",
        "idc_version": 25,
        "where": {"SeriesInstanceUID": {op: values}},
        "columns": COMPARED,
    }
    local, remote = _local(spec, series_uids), _bigquery(spec, engine)
    assert remote.num_rows > 0
    assert_same(local, remote, f"100,000 values, {op}")
