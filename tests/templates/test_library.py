"""The templates idc-sql ships: each loads, has a description, compiles for both engines to
the golden SQL, and runs on the local engine wherever its tables are local (else is refused
naming the tables and how to get them). IDC releases are rewritten on the tree.

After a deliberate change, regenerate the golden files and review the diff::

    IDC_SQL_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/templates/test_library.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import idc_index_data
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

import idc_sql
from idc_sql import cli
from idc_sql.errors import SpecError, UnsupportedError
from idc_sql.indexes.wheel import schema
from idc_sql.pipeline import open_engine
from idc_sql.templates.library import PACKAGE_QUERIES, catalog
from idc_sql.templates.loading import parse_template
from idc_sql.templates.run import prepare

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("IDC_SQL_REGENERATE_GOLDEN") == "1"
SHIPPED = sorted(PACKAGE_QUERIES.glob("*.sql"))
# where IDC's index queries are installed differs between machines; golden files name neither
INDEX_QUERIES = Path(idc_index_data.__file__).parent
#: templates whose tables are all local
LOCAL = {
    "analysis-results-of-collection",
    "collection-sources",
    "collection-summary",
    "collections-by-cancer-type",
    "collections-by-modality",
    "ct-and-seg-studies",
    "ct-series-with-seg",
    "license-breakdown",
    "patients-by-sex-and-age",
    "prior-versions",
    "releases",
    "series-by-uid",
    "series-changed-since",
}
EXAMPLE_VALUES = {"uids": ["1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860"]}


def _values(template: Any) -> dict[str, Any]:
    return {n: EXAMPLE_VALUES.get(n, "x") for n, p in template.params.items() if p.required}


def test_the_library_is_large_described_and_loads() -> None:
    found, broken = catalog(with_indices=False)
    assert not broken
    shipped = [t for t in found if t.source == "queries"]
    assert len(shipped) >= 15
    assert {t.name for t in shipped} == {p.stem for p in SHIPPED}
    for t in shipped:
        assert t.description, t.name
        for p in t.params.values():
            assert p.line is not None, f"{t.name}: {p.name} is not declared"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
@pytest.mark.parametrize("engine", ["local", "bigquery"])
def test_golden_sql(path: Path, engine: str) -> None:
    template = idc_sql.load_template(path)
    folder = GOLDEN / template.name
    try:
        query = prepare(template, open_engine(engine), _values(template))
    except UnsupportedError as e:
        message = (
            str(e).replace(str(path), "<template>").replace(str(INDEX_QUERIES), "<idc_index_data>")
        )
        actual, name = message + "\n", f"{engine}.error.txt"
    else:
        # parses in its dialect, and holds no parameter value as a literal
        sqlglot.parse_one(query.sql, read=query.dialect)
        assert {p.name for p in query.tree.find_all(exp.Placeholder)} == set(template.params)
        params = json.dumps(query.params, default=str, sort_keys=True)
        actual, name = f"{query.sql}\n-- parameters: {params}\n", f"{engine}.sql"
    golden = folder / name
    if REGENERATE:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{engine}.*"):
            stale.unlink()
        golden.write_text(actual)
    assert golden.is_file(), f"no golden file {golden}: regenerate"
    assert actual == golden.read_text()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_runs_locally_where_its_tables_are(path: Path) -> None:
    template = idc_sql.load_template(path)
    if template.name not in LOCAL:
        with pytest.raises(UnsupportedError, match="the local engine cannot run this template"):
            idc_sql.run_template(template, params=_values(template))
        return
    result = idc_sql.run_template(template, params=_values(template))
    table = result.to_arrow()
    assert table.num_rows > 0, template.name
    assert result.provenance.release == "v25"
    assert result.provenance.digest == template.digest


def test_refusal_names_tables_lines_and_how_to_get_them() -> None:
    with pytest.raises(UnsupportedError) as caught:
        idc_sql.run_template("segmented-structures")
    assert str(caught.value).endswith(
        "the local engine cannot run this template: it reads dicom_all (line 13), "
        "segmentations (line 10), tables of IDC's BigQuery datasets; run it with "
        "engine='bigquery'"
    )
    assert caught.value.exit_code == 2
    with pytest.raises(UnsupportedError) as caught:
        idc_sql.run_template("slides-by-stain")
    assert "sm_index (line 11), an IDC index the local engine does not hold" in str(caught.value)
    assert "fetch it with idc-index (IDCClient.fetch_index)" in str(caught.value)


def test_a_result_that_is_not_series_is_not_a_manifest(tmp_path: Path) -> None:
    result = idc_sql.run_template("collection-summary", params={"collection_id": "rider_pilot"})
    assert not result.is_series
    with pytest.raises(idc_sql.IdcSqlError, match="a s5cmd file needs rows that are series"):
        result.write(str(tmp_path / "x.s5cmd"))
    result.write(str(tmp_path / "x.csv"))
    lines = (tmp_path / "x.csv").read_text().splitlines()
    header = next(x for x in lines if not x.startswith("#"))
    assert header == "Modality,patients,studies,series,size_gb"
    assert any(x.startswith("# rows: ") for x in lines)  # counted as rows, not series


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl"])
def test_a_report_is_read_once_and_counted_by_writing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """Writing rows that are not series runs their query once: the copy's own count is the
    header's (a GROUP BY run a second time, beside the first, cost twice the memory)."""
    result = idc_sql.run_template("collection-summary", params={"collection_id": "rider_pilot"})
    statements: list[str] = []
    run = result.rows._run

    def counting(statement: Any, how: Any, extra: Any = None) -> Any:
        statements.append(statement.sql(dialect="duckdb"))
        return run(statement, how, extra)

    monkeypatch.setattr(result.rows, "_run", counting)
    result.write(str(tmp_path / f"x.{suffix}"))
    assert len(statements) == 1
    assert statements[0].startswith("COPY ")
    lines = (tmp_path / f"x.{suffix}").read_text().splitlines()
    rows = [x for x in lines if not x.startswith("#")][0 if suffix == "jsonl" else 1 :]
    assert len(rows) == len(result) == 6  # rider_pilot: PR, SEG, CT, SR, DX, CR
    if suffix != "jsonl":
        assert f"# rows: {len(rows)}" in lines


def test_the_values_a_template_ran_with_are_in_its_provenance(tmp_path: Path) -> None:
    """Two runs of one template with other values are told apart by their files: every
    parameter's value (defaults too) is in the header and the record, in JSON (a date as ISO
    8601, NUMERIC as text, not a float that may lose digits)."""
    from idc_sql.outputs.provenance import PARQUET_KEY, read_header

    sql = tmp_path / "typed.sql"
    sql.write_text(
        "-- name: typed\n"
        "-- description: series of a collection since a date, over a size\n"
        "-- param collection_id STRING: the collection\n"
        "-- param since DATE DEFAULT '2000-01-01': series dated on or after\n"
        "-- param min_mb NUMERIC DEFAULT 0.1: the smallest series, in MB\n"
        "SELECT collection_id, SeriesInstanceUID, series_size_MB\n"
        "FROM idc_index\n"
        "WHERE collection_id = @collection_id AND SAFE_CAST(SeriesDate AS DATE) >= @since\n"
        "  AND series_size_MB >= @min_mb\n"
    )
    records = {}
    for collection in ("rider_pilot", "nlst"):
        result = idc_sql.run_template(
            str(sql), params={"collection_id": collection, "min_mb": "12345678.000000001"}
        )
        csv, parquet = tmp_path / f"{collection}.csv", tmp_path / f"{collection}.parquet"
        result.write(str(csv))
        result.write(str(parquet))
        records[collection, "csv"] = read_header(csv.read_text())
        metadata = pq.read_schema(parquet).metadata
        records[collection, "parquet"] = json.loads(metadata[PARQUET_KEY.encode()])
    wanted = {"since": "2000-01-01", "min_mb": "12345678.000000001"}
    for (collection, _), record in records.items():
        assert record["params"] == {"collection_id": collection, **wanted}
    line = (
        '# parameters: {"collection_id": "nlst", "since": "2000-01-01", '
        '"min_mb": "12345678.000000001"}'
    )
    assert line in (tmp_path / "nlst.csv").read_text().splitlines()
    assert records["nlst", "csv"]["digest"] == records["rider_pilot", "csv"]["digest"]


def test_a_result_of_series_is_a_manifest(tmp_path: Path) -> None:
    result = idc_sql.run_template(
        "ct-series-with-seg", params={"collection_id": "nlst", "max_series": 5}
    )
    assert result.is_series
    assert result.summary.series == 5 == len(result)
    result.write(str(tmp_path / "x.s5cmd"))
    lines = [x for x in (tmp_path / "x.s5cmd").read_text().splitlines() if x.startswith("cp ")]
    assert len(lines) == 5


# ----------------------------------------------------------------------------- releases


def _bigquery_sql(text: str, **kwargs: Any) -> str:
    template = parse_template(text, "r.sql")
    return prepare(template, open_engine("bigquery"), {}, **kwargs).sql


def test_release_is_rewritten_on_the_tree_never_in_text() -> None:
    text = (
        "SELECT 'bigquery-public-data.idc_v24.dicom_all' AS note, d.SeriesInstanceUID\n"
        "FROM `canceridc-data.idc_views.dicom_all` AS d\n"
        "JOIN `bigquery-public-data.idc_current_clinical.nlst_prsn` AS c\n"
        "  ON c.dicom_patient_id = d.PatientID"
    )
    sql = _bigquery_sql(text, idc_version=21)
    assert "FROM `bigquery-public-data`.`idc_v21`.`dicom_all` AS d" in sql
    assert "JOIN `bigquery-public-data`.`idc_v21_clinical`.`nlst_prsn` AS c" in sql
    assert "'bigquery-public-data.idc_v24.dicom_all' AS note" in sql  # a value is a value
    current = _bigquery_sql(text)
    assert "`bigquery-public-data`.`idc_current`.`dicom_all`" in current


def test_a_pinned_release_is_read_unless_another_is_asked_for() -> None:
    text = "SELECT SeriesInstanceUID FROM bigquery-public-data.idc_v18.dicom_all"
    template = parse_template(text, "r.sql")
    engine = open_engine("bigquery")
    assert prepare(template, engine).release.dataset == "idc_v18"
    assert prepare(template, engine, idc_version=23).release.dataset == "idc_v23"


def test_indices_on_bigquery_are_idc_sql_at_the_release() -> None:
    sql = _bigquery_sql("SELECT collection_id FROM idc_index", idc_version=20)
    assert "WITH idc_index__aux_series AS (" in sql
    assert "FROM `bigquery-public-data`.`idc_v20`.`auxiliary_metadata`" in sql
    assert "`idc_v25`" not in sql
    with pytest.raises(UnsupportedError, match="IDC's SQL for it is not a single query"):
        _bigquery_sql("SELECT SeriesInstanceUID FROM prior_versions_index")


def test_local_engine_reads_its_own_release_only() -> None:
    # at an earlier release, the local engine holds idc_index as that release served it, and
    # prior_versions_index; the rest of the index is the installed release's
    refused = "the local engine cannot run this template: it reads version_metadata_index"
    with pytest.raises(idc_sql.IdcSqlError, match=refused):
        idc_sql.run_template("releases", idc_version=24)


# ----------------------------------------------------------------------------- index folders


def _sm_index(path: Path, series: list[str], *, drop: str | None = None, meta: Any = None) -> None:
    columns = schema("sm_index")["columns"]  # type: ignore[index]
    arrays = {}
    for c in columns:
        if c["name"] == drop:
            continue
        kind = {"STRING": pa.string(), "INTEGER": pa.int64(), "FLOAT": pa.float64()}[c["type"]]
        repeated = c["mode"] == "REPEATED"
        if c["name"] == "SeriesInstanceUID":
            values: list[Any] = series
        elif c["name"] == "staining_usingSubstance_CodeMeaning":
            values = [["hematoxylin stain", "water soluble eosin stain"]] * len(series)
        elif c["name"] == "primaryAnatomicStructure_CodeMeaning":
            values = ["Lung"] * len(series)
        else:
            values = [[] if repeated else None] * len(series)
        arrays[c["name"]] = pa.array(values, pa.list_(kind) if repeated else kind)
    table = pa.table(arrays)
    if meta is not None:
        table = table.replace_schema_metadata({"idc_sql": json.dumps(meta)})
    pq.write_table(table, path)


@pytest.fixture(scope="module")
def sm_series() -> list[str]:
    result = idc_sql.run_template(
        parse_template(
            "SELECT SeriesInstanceUID FROM idc_index WHERE Modality = 'SM'\n"
            "ORDER BY SeriesInstanceUID LIMIT 3",
            "sm.sql",
        )
    )
    return [str(v) for v in result.to_arrow().column("SeriesInstanceUID").to_pylist()]


def test_an_index_in_the_index_folder_is_read(tmp_path: Path, sm_series: list[str]) -> None:
    _sm_index(tmp_path / "sm_index.parquet", sm_series)
    result = idc_sql.run_template("slides-by-stain", index_dir=str(tmp_path))
    rows = result.to_arrow().to_pylist()
    assert sum(r["sm_series"] for r in rows) == 2 * len(sm_series)
    assert {r["stain"] for r in rows} == {"hematoxylin stain", "water soluble eosin stain"}
    assert str(tmp_path / "sm_index.parquet") in result.provenance.source


def test_an_index_unlike_its_schema_or_of_another_release_is_not_read(
    tmp_path: Path, sm_series: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _sm_index(tmp_path / "sm_index.parquet", sm_series, drop="ObjectiveLensPower")
    with pytest.raises(UnsupportedError, match="lacks ObjectiveLensPower"):
        idc_sql.run_template("slides-by-stain", index_dir=str(tmp_path))
    _sm_index(tmp_path / "sm_index.parquet", sm_series, meta={"idc_version": 24})
    with pytest.raises(UnsupportedError, match="was built from IDC v24; the local index is v25"):
        idc_sql.run_template("slides-by-stain", index_dir=str(tmp_path))
    assert cli.main(["tables", "--engine", "local", "--index-dir", str(tmp_path)]) == 0
    assert "sm_index" in capsys.readouterr().out


# ----------------------------------------------------------------------------- command line


def test_template_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["template", "list"]) == 0
    out = capsys.readouterr().out
    assert "collection-summary  [queries]  (collection_id STRING='nlst')" in out
    assert "seg_index  [idc-index-data]" in out
    assert cli.main(["template", "show", "releases"]) == 0
    out = capsys.readouterr().out
    assert "-- local (v25): runs it" in out
    assert "-- bigquery (current): runs it" in out
    output = tmp_path / "r.csv"
    code = cli.main(["template", "run", "releases", "-p", "from_version=24", "-o", str(output)])
    assert code == 0
    assert [x for x in output.read_text().splitlines() if not x.startswith("#")] == [
        "idc_version,release_date",
        "24,2026-04-16",
        "25,2026-09-26",
    ]
    assert cli.main(["template", "run", "releases", "-p", "from_version=x"]) == 2
    assert "--param from_version=x: 'x' is not an INT64 value" in capsys.readouterr().err
    assert cli.main(["template", "run", "relases"]) == 2
    assert "no template 'relases'; did you mean releases?" in capsys.readouterr().err


def test_a_template_folder_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "releases.sql").write_text("-- name: releases\nSELECT 1 AS one\n")
    assert idc_sql.load_template("releases", templates=[tmp_path]).source == "folder"
    monkeypatch.setenv("IDC_SQL_TEMPLATES", str(tmp_path))
    assert idc_sql.load_template("releases").path == tmp_path / "releases.sql"
    (tmp_path / "broken.sql").write_text("DROP TABLE x\n")
    _, broken = catalog(with_indices=False)
    assert [b.path.name for b in broken] == ["broken.sql"]
    with pytest.raises(SpecError, match=r"broken\.sql:1: DROP"):
        idc_sql.load_template("broken")


def test_a_templates_folder_that_is_not_there_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt folder would hide its templates without a word: it is refused, naming where
    it was given (the option or IDC_SQL_TEMPLATES)."""
    missing = tmp_path / "nosuchdir"
    assert cli.main(["template", "list", "--templates", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"idc-sql: error: --templates: {missing} does not exist; templates are .sql files in "
        "a folder\n"
    )
    afile = tmp_path / "a.sql"
    afile.write_text("SELECT 1 AS one\n")
    monkeypatch.setenv("IDC_SQL_TEMPLATES", os.pathsep.join([str(tmp_path), str(afile)]))
    with pytest.raises(idc_sql.IdcSqlError, match=f"IDC_SQL_TEMPLATES: {afile} is not a folder"):
        idc_sql.load_template("releases")


def test_a_column_the_index_lacks_is_the_templates_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt column passes the static checks (a template may read any table) and is found
    when DuckDB binds the query: it is reported on the template's line that names it, with
    DuckDB's candidates, exit 2, and no file written (not DuckDB's view of the rewritten SQL)."""
    sql = tmp_path / "broken.sql"
    sql.write_text(
        "-- name: broken\n"
        "-- param coll STRING DEFAULT 'nlst': the collection\n"
        "SELECT COUNT(*) AS n\n"
        "FROM idc_index\n"
        "WHERE collection_id = @coll\n"
        "GROUP BY Modalty\n"
    )
    out = tmp_path / "b.csv"
    assert cli.main(["run", str(sql), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"idc-sql: error: {sql}:6: the local engine cannot run it: Referenced column "
        '"Modalty" not found in FROM clause; candidate bindings: "Modality"'
    ), err
    assert len(err.splitlines()) == 1
    assert not out.exists()
