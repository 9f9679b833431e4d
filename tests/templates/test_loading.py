"""Loading a template: its header, one read-only query, its parameters and tables; every
problem is one SpecError naming the file and the line, exit status 2."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pytest

from idc_sql import cli
from idc_sql.errors import SpecError
from idc_sql.indexes.wheel import index_dir
from idc_sql.templates.loading import load_template, parse_template
from idc_sql.templates.types import TypeProblem, parse_type


def problem(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_template(text, "t.sql")
    return str(caught.value)


# ----------------------------------------------------------------------------- headers


def test_header_gives_name_description_and_typed_parameters() -> None:
    t = parse_template(
        "-- a free comment before the header\n"
        "-- name: ct-by-site\n"
        "-- description: CT series by site,\n"
        "--   continued here.\n"
        "-- param site STRING DEFAULT 'a:b': a value with a colon\n"
        "-- param n INT64 DEFAULT 3: how many\n"
        "-- param since DATE DEFAULT DATE '2020-01-02'\n"
        "-- param mods ARRAY<STRING> DEFAULT ['CT', 'MR']: modalities\n"
        "--   (two lines)\n"
        "-- param x FLOAT64\n"
        "SELECT @site AS s, @n AS n, @since AS d, @mods AS m, @x AS x\n",
        "dir/file.sql",
    )
    assert t.name == "ct-by-site"
    assert t.description == "CT series by site, continued here."
    p = t.params
    assert [(k, v.type.name, v.required) for k, v in p.items()] == [
        ("site", "STRING", False),
        ("n", "INT64", False),
        ("since", "DATE", False),
        ("mods", "ARRAY<STRING>", False),
        ("x", "FLOAT64", True),
    ]
    assert p["site"].default == "a:b"
    assert p["n"].default == 3
    assert p["since"].default == dt.date(2020, 1, 2)
    assert p["mods"].default == ["CT", "MR"]
    assert p["mods"].description == "modalities (two lines)"


def test_plain_sql_is_a_template_named_by_its_file() -> None:
    t = parse_template("SELECT * FROM idc_index WHERE collection_id = @c", "q/my_query.sql")
    assert t.name == "my_query"
    assert t.description == ""
    assert [(p.name, p.type.name, p.required) for p in t.params.values()] == [("c", "STRING", True)]


@pytest.mark.parametrize(
    ("header", "line", "message"),
    [
        ("-- name: Bad Name", 1, "name 'Bad Name'"),
        ("-- name: a\n-- something else", 2, "expected 'name:'"),
        ("-- param n INT63", 1, "INT63 is not a BigQuery type"),
        ("-- param n STRUCT<a INT64>", 1, "a parameter is a scalar"),
        ("-- param n STRING(10)", 1, "takes no length"),
        ("-- param n INT64 DEFAULT 'x'", 1, "'x' is not an INT64 value"),
        ("-- param n INT64 DEFAULT", 1, "DEFAULT needs a value"),
        ("-- name: a\n-- param n INT64\n-- param n INT64", 3, "declared twice"),
        ("-- param 9n INT64", 1, "a parameter is declared as"),
    ],
)
def test_header_problems_name_the_line(header: str, line: int, message: str) -> None:
    text = problem(f"{header}\nSELECT @n AS n")
    assert text.startswith(f"t.sql:{line}: ")
    assert message in text


# ----------------------------------------------------------------------------- statements


@pytest.mark.parametrize(
    ("sql", "line", "message"),
    [
        ("SELECT 1 AS a;\n\nDELETE FROM t WHERE TRUE", 3, "DELETE changes data (DML)"),
        ("INSERT INTO t SELECT 1", 1, "INSERT changes data"),
        ("UPDATE t SET a = 1 WHERE TRUE", 1, "UPDATE changes data"),
        ("MERGE t USING s ON TRUE WHEN MATCHED THEN DELETE", 1, "MERGE changes data"),
        ("TRUNCATE TABLE t", 1, "TRUNCATE changes data"),
        ("CREATE TABLE x AS SELECT 1 AS a", 1, "CREATE creates, changes or drops objects (DDL)"),
        ("DROP TABLE x", 1, "DROP creates"),
        ("\nEXPORT DATA OPTIONS(uri='gs://b/*.csv') AS SELECT 1 AS a", 2, "EXPORT writes files"),
        ("CALL p.q()", 1, "CALL runs a procedure"),
        ("SELECT 1 AS a;\nSELECT 2 AS b", 2, "a second statement"),
        ("BEGIN\n SELECT 1 AS a;\nEND", 1, "BEGIN is BigQuery scripting"),
        ("DECLARE x INT64;\nSET x = 2;\nSELECT x AS a", 2, "SET is BigQuery scripting"),
        ("EXECUTE IMMEDIATE 'SELECT 1'", 1, "EXECUTE is BigQuery scripting"),
        ("IF TRUE THEN SELECT 1; END IF", 1, "IF is BigQuery scripting"),
        ("GRANT `roles/x` ON TABLE t TO 'user:a@b'", 1, "changes access rights"),
        ("SELECT 1 AS a\nFROM\nWHERE", 3, "syntax error"),
        ("SELECT 'abc\n, 2", 1, "a string opened with ' is never closed"),
        ("SELECT 1 AS a /* unclosed", 1, "a /* comment is never closed"),
        ("", 1, "holds no SQL statement"),
        ("-- only a comment\n", 1, "holds no SQL statement"),
        ("SELECT 1 AS a,\n  COUNT(*)\nFROM idc_index", 2, "column 2 of the result"),
        ("SELECT 1 AS a;\nDECLARE x INT64;", 2, "DECLARE must come before the query"),
        ("DECLARE x INT64 DEFAULT 1;", 1, "declares constants but holds no query"),
    ],
)
def test_only_one_read_only_query(sql: str, line: int, message: str) -> None:
    text = problem(sql)
    assert text.startswith(f"t.sql:{line}: "), text
    assert message in text


def test_declared_constants_become_parameters() -> None:
    t = parse_template(
        "DECLARE tolerance FLOAT64 DEFAULT 0.5;  # a comment\n"
        "DECLARE names ARRAY<STRING> DEFAULT ['a'];\n"
        "SELECT SeriesInstanceUID FROM idc_index\n"
        "WHERE series_size_MB > tolerance AND Modality IN UNNEST(names)",
        "script.sql",
    )
    assert {n: (p.type.name, p.default) for n, p in t.params.items()} == {
        "tolerance": ("FLOAT64", 0.5),
        "names": ("ARRAY<STRING>", ["a"]),
    }
    assert "@tolerance" in t.tree.sql("bigquery")


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("sql", "line", "message"),
    [
        ("-- param a STRING\nSELECT @a AS a, @b AS b", 2, "@b is not declared in the header"),
        (
            "-- param a STRING\n-- param b INT64\nSELECT @a AS a",
            2,
            "b is declared but @b is unused",
        ),
        ("-- param A STRING\nSELECT @a AS a", 2, "(declared: A; names are matched exactly)"),
    ],
)
def test_declared_and_used_parameters_agree(sql: str, line: int, message: str) -> None:
    text = problem(sql)
    assert text.startswith(f"t.sql:{line}: ")
    assert message in text


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("INT64", "-12", -12),
        ("INTEGER", "7", 7),
        ("FLOAT64", "1e3", 1000.0),
        ("NUMERIC", "1.25", decimal.Decimal("1.25")),
        ("BOOL", "TRUE", True),
        ("STRING", "a'b;--`\\", "a'b;--`\\"),
        ("BYTES", "ab", b"ab"),
        ("DATE", "2024-02-29", dt.date(2024, 2, 29)),
        ("DATETIME", "2024-01-02T03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
        ("TIMESTAMP", "2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
        ("TIME", "03:04:05", dt.time(3, 4, 5)),
        ("ARRAY<STRING>", "CT, MR", ["CT", "MR"]),
        ("ARRAY<STRING>", '["a,b", "c"]', ["a,b", "c"]),
        ("ARRAY<INT64>", "", []),
    ],
)
def test_values_are_typed(kind: str, text: str, value: object) -> None:
    assert parse_type(kind).convert(text) == value


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("INT64", "1.5"),
        ("INT64", "9223372036854775808"),
        ("INT64", True),
        ("BOOL", "yes"),
        ("DATE", "2024-02-30"),
        ("DATETIME", "2024-01-02T03:04:05+02:00"),
        ("STRING", 3),
        ("ARRAY<INT64>", "[1, null]"),
        ("ARRAY<INT64>", "[1,"),
        ("NUMERIC", "nan"),
    ],
)
def test_wrong_values_are_refused(kind: str, value: object) -> None:
    with pytest.raises(TypeProblem):
        parse_type(kind).convert(value)


def test_parameter_values_are_checked_against_the_template() -> None:
    t = parse_template(
        "-- param n INT64\n-- param m STRING DEFAULT NULL\nSELECT @n AS n, @m AS m", "v.sql"
    )
    assert t.values({"n": "4"}) == {"n": 4, "m": None}
    with pytest.raises(SpecError, match=r"needs a value for n \(INT64\)"):
        t.values({})
    with pytest.raises(SpecError, match=r"no parameter k \(its parameters: n, m\)"):
        t.values({"n": 1, "k": 2})
    with pytest.raises(SpecError, match="'x' is not an INT64 value"):
        t.values({"n": "x"})


# ----------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("`my-project.lab.cohort`", "is not in one of IDC's datasets"),
        ("lab.cohort", "is not in one of IDC's datasets"),
        ("idc_indx", "unknown table idc_indx; did you mean idc_index?"),
        ("dicom_all", "table dicom_all needs its dataset"),
        ("`bigquery-public-data.idc_current.dicom_al`", "did you mean dicom_all?"),
        ("`bigquery-public-data.idc_v24.idc_index`", "idc_index is an index of idc-index"),
        ("`bigquery-public-data.idc_views.dicom_all`", "idc_views is a dataset of canceridc-data"),
    ],
)
def test_unknown_tables_are_refused_on_their_line(table: str, message: str) -> None:
    text = problem(f"SELECT 1 AS a\nFROM {table}")
    assert text.startswith("t.sql:2: ")
    assert message in text


def test_tables_as_idc_writes_them() -> None:
    t = parse_template(
        "WITH mine AS (SELECT 1 AS a)\n"
        "SELECT s.SeriesInstanceUID FROM `canceridc-data.idc_v24.segmentations` AS s\n"
        "JOIN bigquery-public-data.idc_v24.dicom_all AS d USING (SOPInstanceUID)\n"
        "JOIN `bigquery-public-data.idc_v24_clinical.nlst_*` AS c ON TRUE\n"
        "JOIN seg_index ON TRUE\n"
        "JOIN mine ON TRUE",
        "t.sql",
    )
    assert [(r.name, r.kind, r.release, r.line, r.legacy) for r in t.tables] == [
        ("segmentations", "table", 24, 2, True),
        ("dicom_all", "table", 24, 3, False),
        ("nlst_*", "clinical", 24, 4, False),
        ("seg_index", "index", None, 5, False),
    ]
    assert t.release == 24


def test_a_template_reads_one_release() -> None:
    text = problem(
        "SELECT 1 AS a FROM `bigquery-public-data.idc_v24.dicom_all`\n"
        "UNION ALL SELECT 1 AS a FROM `bigquery-public-data.idc_current.dicom_all`"
    )
    assert text.startswith("t.sql:2: ")
    assert "a template reads one release" in text


# ----------------------------------------------------------------------------- IDC's index SQL


def test_the_index_queries_of_idc_index_data_load_as_templates() -> None:
    loaded = {}
    refused = {}
    for path in sorted(index_dir().glob("*.sql")):
        try:
            loaded[path.stem] = load_template(path, source="idc-index-data")
        except SpecError as e:
            refused[path.stem] = str(e)
    assert len(loaded) + len(refused) == 17
    # prior_versions_index.sql builds its query at run time: refused, saying why
    assert list(refused) == ["prior_versions_index"]
    assert "SET is BigQuery scripting" in refused["prior_versions_index"]
    assert "cannot be checked as read-only" in refused["prior_versions_index"]
    # volume_geometry_index.sql declares constants: they are its parameters
    volume = loaded["volume_geometry_index"]
    assert sorted(volume.params) == [
        "inPlaneTolerance",
        "orientationTolerance",
        "relativeSliceTolerance",
    ]
    assert loaded["idc_index"].release == 25
    assert {r.name for r in loaded["idc_index"].tables} == {
        "dicom_all",
        "dicom_metadata_curated",
        "auxiliary_metadata",
    }


# ----------------------------------------------------------------------------- command line


def test_validate_names_file_and_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("-- name: bad\nSELECT 1 AS a;\nDROP TABLE x\n")
    good = tmp_path / "good.sql"
    good.write_text("SELECT collection_id FROM idc_index\n")
    assert cli.main(["validate", str(good), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert f"ok  {good}" in out
    assert err.strip() == (
        f"idc-sql: error: {bad}:3: DROP creates, changes or drops objects (DDL); "
        "a template only reads"
    )
    assert cli.main(["run", str(bad)]) == 2
