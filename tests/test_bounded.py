"""Every input costs a bounded, predictable amount: counted here by queries, rows and SQL size.

- the empty-cohort hints look at a fixed number of values whatever the length of a list;
- a set that names the same members many times costs what its distinct members do;
- a BigQuery request past BigQuery's size limits is refused before it is sent.

Nothing here is timed; the figures are in bench/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import idc_index_data
import pytest

import idc_sql
from idc_sql.engines import hints
from idc_sql.engines.bigquery import BigQueryEngine, Settings
from idc_sql.engines.bigquery.params import (
    MAX_PARAMETERS,
    MAX_QUERY_CHARACTERS,
    MAX_REQUEST_BYTES,
    check_request,
)
from idc_sql.engines.local import LocalEngine
from idc_sql.errors import UsageError

INDEX = str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)


@pytest.fixture(scope="module")
def uids() -> list[str]:
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT SeriesInstanceUID FROM read_parquet(?) ORDER BY SeriesInstanceUID", [INDEX]
        ).fetchall()
    return [r[0] for r in rows]


class Counting:
    """Counts the queries the hints send to the engine and the rows they get back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries = 0
        self.rows = 0
        lookup = LocalEngine.lookup

        def counted(engine: LocalEngine, query: Any, params: Any = None) -> list[Any]:
            rows = lookup(engine, query, params)
            self.queries += 1
            self.rows += len(rows)
            return rows

        monkeypatch.setattr(LocalEngine, "lookup", counted)


def test_hints_on_a_long_list_cost_a_fixed_budget(
    uids: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path))  # the values of no field kept yet
    made_up = [f"1.2.826.0.1.3680043.99.{i}" for i in range(200_000)]
    wanted = [*made_up[:3], uids[5], *made_up[3:]]  # one that a series holds
    spec = {"name": "long", "where": {"SeriesInstanceUID": wanted, "Modality": ["ct", "MR"]}}
    counting = Counting(monkeypatch)  # the hints are looked for while the cohort runs
    result = idc_sql.run(spec)
    assert result.summary.series == 0
    notes = result.empty_hints()
    assert list(result.warnings) == notes
    fields = 2
    assert counting.queries <= hints.QUERIES_PER_FIELD * fields
    assert counting.rows <= fields * (hints.FEW + 1 + hints.SHOWN * 4)
    shown = [f"no series has SeriesInstanceUID {u!r}" for u in made_up[: hints.SHOWN]]
    assert notes[: hints.SHOWN] == shown
    assert notes[hints.SHOWN] == (
        f"no series has {200_000 - hints.SHOWN:,} more of the SeriesInstanceUID values asked "
        "for (200,000 of 200,001 in all)"
    )
    assert notes[hints.SHOWN + 1 :] == ["no series has Modality 'ct'; did you mean 'CT'?"]


def test_hints_name_other_cases_of_many_valued_fields(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path))
    spec = {"name": "c", "where": {"SeriesDescription": ["lesion designator", "no such thing"]}}
    for queries in (hints.QUERIES_PER_FIELD, hints.QUERIES_PER_FIELD - 1):
        counting = Counting(monkeypatch)
        result = idc_sql.run(spec)
        assert result.empty_hints() == [
            "no series has SeriesDescription 'lesion designator'; did you mean "
            "'Lesion Designator'?",
            "no series has SeriesDescription 'no such thing'",
        ]
        # the first run learns that the field has many values; the next reads it from the cache
        assert counting.queries == queries


def test_few_valued_fields_cost_no_query_once_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IDC_SQL_CACHE_DIR", str(tmp_path))
    spec = {"name": "c", "where": {"collection_id": ["nlst", "lidc-idri"], "Modality": "CT"}}
    for queries in (2, 0):
        counting = Counting(monkeypatch)
        result = idc_sql.run(spec)
        assert result.warnings == (
            "no series has collection_id 'lidc-idri'; did you mean 'lidc_idri'?",
        )
        assert counting.queries == queries
    (kept,) = (tmp_path / "values").iterdir()
    assert sorted(json.loads(kept.read_text())["fields"]) == ["Modality", "collection_id"]


def _dag(folder: Path, levels: int) -> Path:
    """A set of 2**levels leaves: each level the union of the one below, named twice."""
    (folder / "l0.yaml").write_text("name: l0\nwhere: {collection_id: rider_pilot}\n")
    for i in range(1, levels + 1):
        (folder / f"l{i}.yaml").write_text(f"name: l{i}\nunion: [l{i - 1}.yaml, l{i - 1}.yaml]\n")
    return folder / f"l{levels}.yaml"


def test_a_set_costs_what_its_distinct_members_do(tmp_path: Path) -> None:
    small, large = _dag(tmp_path, 2), _dag(tmp_path, 10)  # 4 and 1,024 leaves
    sql_small = idc_sql.compile(small).sql
    sql_large = idc_sql.compile(large).sql
    # one relation per distinct member: 3 and 11, the SQL grows by one relation a level
    assert sql_small.count(" AS (") == 1 + 2
    assert sql_large.count(" AS (") == 1 + 10
    assert len(sql_large) < 2 * len(sql_small) + 2_000
    rider = idc_sql.count({"name": "r", "where": {"collection_id": "rider_pilot"}})
    assert idc_sql.count(large) == rider


def test_members_named_often_are_planned_once(tmp_path: Path) -> None:
    from idc_sql.plan import plan
    from idc_sql.release import Release
    from idc_sql.targets import target

    spec = idc_sql.load_spec(_dag(tmp_path, 10))
    selection = plan(spec, target("local"), Release(25, "idc_v25", "test")).selection
    seen: dict[int, Any] = {}
    stack = [selection]
    while stack:
        current = stack.pop()
        seen[id(current)] = current
        stack.extend(m for m in current.members if id(m) not in seen)
    assert len(seen) == 11


def _engine() -> BigQueryEngine:
    return BigQueryEngine(Settings(project="idc-sql-tests", endpoint="http://127.0.0.1:9"))


def test_a_bigquery_request_past_its_size_is_refused_before_it_is_sent(uids: list[str]) -> None:
    engine = _engine()
    fits = idc_sql.compile(
        {"name": "f", "where": {"SeriesInstanceUID": uids[:100_000]}}, "bigquery"
    )
    engine.job_config(fits, dry_run=True)  # about 7.5 MB: sent
    large = idc_sql.compile(
        {"name": "l", "where": {"SeriesInstanceUID": uids[:200_000]}}, "bigquery"
    )
    with pytest.raises(UsageError) as caught:
        engine.job_config(large, dry_run=True)
    message = str(caught.value)
    assert message.startswith("the query's request to BigQuery is ")
    assert (
        f"with its 200,000 listed values, over BigQuery's limit of {MAX_REQUEST_BYTES:,} "
        in message
    )
    assert message.endswith("use the local engine (engine='local') for the fields it reads")
    assert caught.value.exit_code == 2


def test_the_command_refuses_a_request_too_large_with_its_flag(
    uids: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from idc_sql.cli import main

    (tmp_path / "uids.txt").write_text("\n".join(uids[:200_000]) + "\n")
    (tmp_path / "s.yaml").write_text("name: s\nwhere: {SeriesInstanceUID: {in_file: uids.txt}}\n")
    code = main(
        [
            "count", str(tmp_path / "s.yaml"), "--engine", "bigquery", "--project", "p",
            "--bigquery-endpoint", "http://127.0.0.1:9",
        ]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "over BigQuery's limit of 10,485,760 bytes a request" in err
    assert err.rstrip().endswith("use the local engine (--engine local) for the fields it reads")


def _config(*parameters: Any) -> Any:
    from google.cloud import bigquery

    return bigquery.QueryJobConfig(query_parameters=list(parameters))


def _sent(sql: str, config: Any) -> int:
    """The request's size, as check_request measures it (the client's JSON)."""
    import json

    body = config.to_api_repr()
    body.setdefault("query", {})["query"] = sql
    return len(json.dumps({"configuration": body}, separators=(",", ":")).encode())


def test_bigquery_query_text_at_and_past_its_limit() -> None:
    check_request("SELECT 1" + " " * (MAX_QUERY_CHARACTERS - 8), _config())
    with pytest.raises(UsageError) as caught:
        check_request("SELECT 1" + " " * (MAX_QUERY_CHARACTERS - 7), _config())
    assert str(caught.value) == (
        f"the query's SQL is {MAX_QUERY_CHARACTERS + 1:,} characters long, over BigQuery's "
        f"limit of {MAX_QUERY_CHARACTERS:,} for the text of a query; make the specification "
        "smaller"
    )
    assert caught.value.exit_code == 2


def test_bigquery_parameters_at_and_past_their_limit() -> None:
    from google.cloud import bigquery

    def config(n: int) -> Any:
        return _config(*(bigquery.ScalarQueryParameter(f"p{i}", "INT64", i) for i in range(n)))

    check_request("SELECT 1", config(MAX_PARAMETERS))
    with pytest.raises(UsageError) as caught:
        check_request("SELECT 1", config(MAX_PARAMETERS + 1))
    assert str(caught.value) == (
        f"the query binds {MAX_PARAMETERS + 1:,} parameters, over BigQuery's limit of "
        f"{MAX_PARAMETERS:,} a query; make the specification smaller"
    )


def test_bigquery_request_at_and_past_its_size_limit() -> None:
    """A request of exactly the limit's bytes is sent; one byte more is refused."""
    from google.cloud import bigquery

    sql = "SELECT _v FROM UNNEST(@p0) AS _v"
    values = ["1.2.840." + "1" * 56] * 129_000  # about 9.9 MB as the client sends them
    base = _sent(sql, _config(bigquery.ArrayQueryParameter("p0", "STRING", [*values, ""])))
    room = MAX_REQUEST_BYTES - base
    assert 0 < room < 1_000_000

    def config(extra: int) -> Any:
        return _config(bigquery.ArrayQueryParameter("p0", "STRING", [*values, "1" * extra]))

    assert _sent(sql, config(room)) == MAX_REQUEST_BYTES
    check_request(sql, config(room))
    with pytest.raises(UsageError) as caught:
        check_request(sql, config(room + 1))
    assert str(caught.value).startswith(
        f"the query's request to BigQuery is {MAX_REQUEST_BYTES + 1:,} bytes with its "
        f"129,001 listed values, over BigQuery's limit of {MAX_REQUEST_BYTES:,} bytes a request"
    )
