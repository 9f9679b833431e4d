"""Templates on the BigQuery emulator: the same rows as the local engine wherever both can
answer, IDC's index SQL inlined for the indices, BigQuery-only templates run, and hostile
parameter values that select exactly their literal on both engines.

The local engine is compared over the fixture's series: it reads an index folder whose
``idc_index.parquet`` holds the fixture's rows (``fixture_series()``), the wheel's other files
beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest

import idc_sql
from idc_sql.engines.bigquery import BigQueryEngine, Settings
from idc_sql.engines.local import LocalEngine
from idc_sql.indexes.wheel import index_dir
from idc_sql.templates.loading import parse_template

from .emulator import Emulator
from .fixture import fixture_series

pytestmark = pytest.mark.bigquery

HOSTILE = [
    "nlst' OR '1'='1",
    "x'; DROP TABLE dicom_all; --",
    "a\\' OR TRUE --",
    "`bigquery-public-data`.idc_v25.dicom_all",
    "/* comment */ nlst",
    "@uids",
    "$1",
    "tab\tnew\nline",
    "ünïcode ☃",
]


@pytest.fixture(scope="module")
def bigquery(bq_emulator: Emulator) -> Iterator[BigQueryEngine]:
    settings = Settings(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10)
    engine = BigQueryEngine(settings)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> LocalEngine:
    """The local engine over the fixture's series (the wheel's other files beside them)."""
    folder = tmp_path_factory.mktemp("fixture-index")
    for path in index_dir().iterdir():
        if path.is_file() and path.name != "idc_index.parquet":
            (folder / path.name).symlink_to(path)
    pq.write_table(fixture_series(), folder / "idc_index.parquet")
    return LocalEngine(directory=folder)


@pytest.fixture(scope="module")
def collections() -> list[str]:
    return sorted(set(fixture_series().column("collection_id").to_pylist()))


def _rows(result: Any) -> list[tuple[Any, ...]]:
    table = result.to_arrow()
    rows = [tuple(_plain(v) for v in row.values()) for row in table.to_pylist()]
    return sorted(rows, key=repr)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _same(local: list[tuple[Any, ...]], remote: list[tuple[Any, ...]]) -> bool:
    if len(local) != len(remote):
        return False
    for a, b in zip(local, remote, strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float | int):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6):
                    return False
            elif x != y:
                return False
    return True


BOTH = [
    ("collection-summary", "collection"),
    ("collections-by-modality", None),
    ("license-breakdown", None),
    ("ct-and-seg-studies", None),
    ("ct-series-with-seg", None),
    ("series-changed-since", None),
    ("patients-by-sex-and-age", "collection"),
    ("releases", None),
]


@pytest.mark.parametrize(("name", "needs"), BOTH, ids=[b[0] for b in BOTH])
def test_same_rows_on_both_engines(
    name: str,
    needs: str | None,
    local: LocalEngine,
    bigquery: BigQueryEngine,
    collections: list[str],
) -> None:
    params = {"collection_id": collections[0]} if needs else None
    here = idc_sql.run_template(name, local, params=params, idc_version=25)
    there = idc_sql.run_template(name, bigquery, params=params, idc_version=25)
    assert here.to_arrow().column_names == there.to_arrow().column_names
    assert here.row_count > 0
    assert _same(_rows(here), _rows(there)), name
    assert there.provenance.release == "v25"
    assert "IDC's SQL over bigquery-public-data.idc_v25" in there.provenance.source


def test_idc_index_through_idc_sql_is_the_local_index(
    bigquery: BigQueryEngine, local: LocalEngine
) -> None:
    template = parse_template("SELECT * FROM idc_index", "all.sql")
    remote = idc_sql.run_template(template, bigquery, idc_version=25).to_arrow()
    expected = fixture_series()
    # the emulator may return names in lower case: compare by position, names case-blind
    assert [n.lower() for n in remote.column_names] == [n.lower() for n in expected.column_names]
    remote_rows = sorted((tuple(r.values()) for r in remote.to_pylist()), key=repr)
    local_rows = sorted((tuple(r.values()) for r in expected.to_pylist()), key=repr)
    assert _same(
        [tuple(_plain(v) for v in r) for r in local_rows],
        [tuple(_plain(v) for v in r) for r in remote_rows],
    )


@pytest.mark.parametrize(
    "name", ["segmentations-and-sources", "segmented-structures", "ct-acquisition-by-collection"]
)
def test_bigquery_only_templates_run(name: str, bigquery: BigQueryEngine) -> None:
    result = idc_sql.run_template(name, bigquery, idc_version=25)
    assert result.row_count > 0
    assert "bigquery-public-data.idc_v25.dicom_all" in result.provenance.source


def test_hostile_values_select_their_literal_on_both_engines(
    local: LocalEngine, bigquery: BigQueryEngine
) -> None:
    real = fixture_series().column("SeriesInstanceUID")[0].as_py()
    echo = parse_template("-- param v STRING\nSELECT @v AS v", "echo.sql")
    for engine in (local, bigquery):
        for value in HOSTILE:
            result = idc_sql.run_template(echo, engine, params={"v": value}, idc_version=25)
            (row,) = result.to_arrow().to_pylist()
            assert row == {"v": value}
        result = idc_sql.run_template(
            "series-by-uid", engine, params={"uids": [real, *HOSTILE]}, idc_version=25
        )
        assert [r["SeriesInstanceUID"] for r in result.to_arrow().to_pylist()] == [real]
        empty = idc_sql.run_template(
            "collection-summary", engine, params={"collection_id": HOSTILE[0]}, idc_version=25
        )
        assert empty.row_count == 0


def test_nul_in_a_value_is_bound_not_spliced(local: LocalEngine) -> None:
    echo = parse_template("-- param v STRING\nSELECT @v = 'a' AS same", "echo.sql")
    (row,) = (
        idc_sql.run_template(echo, local, params={"v": "a\x00' OR TRUE"}).to_arrow().to_pylist()
    )
    assert row == {"same": False}


def test_an_index_the_emulator_cannot_derive_is_an_engine_error(bigquery: BigQueryEngine) -> None:
    # rtstruct_index.sql reads StructureSetROISequence, which the fixture's dicom_all lacks
    with pytest.raises(idc_sql.IdcSqlError):
        idc_sql.run_template("rtstruct-roi-names", bigquery, idc_version=25)
