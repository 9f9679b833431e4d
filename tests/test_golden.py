"""Golden SQL: one folder per case under ``tests/golden/<case>/``.

A case holds ``spec.yaml`` (beside it, the member files of a set specification) and, for each
engine (``local``, ``bigquery``), either

- ``<engine>.sql`` and ``<engine>.params.json``: ``idc_sql.compile(spec, engine)``'s SQL and bound
  parameters (a date is written ``{"date": "YYYY-MM-DD"}``), or
- ``<engine>.error.txt``: the exact message when the engine refuses the spec (the local index does
  not carry instance-level fields or other releases).

After a deliberate change to the compiler, regenerate the files, then review the diff by eye::

    IDC_SQL_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
    git diff tests/golden

Whatever the SQL looks like, every stored query must also: parse in its dialect; use exactly the
parameters it binds; hold no value of the spec as a literal (values are always bound); and on
BigQuery read only catalogued columns of ``dicom_all`` that the reference schema has.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import idc_index_data
import pyarrow.parquet as pq
import pytest
import sqlglot
import yaml
from sqlglot import exp

import idc_sql
from idc_sql.catalog import FIELDS
from idc_sql.spec import NODE_KEYS, OPERATORS, SET_KEYS
from idc_sql.targets import target

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.parent.name for p in GOLDEN.glob("*/spec.yaml"))
ENGINES = ("local", "bigquery")
DIALECTS = {"local": "duckdb", "bigquery": "bigquery"}
REGENERATE = os.environ.get("IDC_SQL_REGENERATE_GOLDEN") == "1"

SQL_FILES = sorted(GOLDEN.glob("*/*.sql"))
BIGQUERY_SQL = [p for p in SQL_FILES if p.stem == "bigquery"]


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


# ----------------------------------------------------------------------------- compiling


def _encode(value: Any) -> Any:
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return dt.date.fromisoformat(value["date"])
    return value


def _params_text(params: dict[str, Any]) -> str:
    return json.dumps({k: _encode(v) for k, v in params.items()}, indent=2) + "\n"


@functools.cache
def _outcome(case: str, engine: str) -> dict[str, str]:
    """The files a case should hold for ``engine``: name -> content.

    The spec is compiled from its own folder so that messages name ``spec.yaml``, not a path of
    this machine.
    """
    previous = Path.cwd()
    os.chdir(GOLDEN / case)
    try:
        compiled = idc_sql.compile("spec.yaml", engine)
    except idc_sql.UnsupportedError as e:
        return {f"{engine}.error.txt": f"{e}\n"}
    finally:
        os.chdir(previous)
    return {
        f"{engine}.sql": f"{compiled.sql}\n",
        f"{engine}.params.json": _params_text(compiled.params),
    }


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, engine: str) -> None:
    folder = GOLDEN / case
    expected = _outcome(case, engine)
    kinds = (f"{engine}.sql", f"{engine}.params.json", f"{engine}.error.txt")
    if REGENERATE:
        for name in kinds:
            if name not in expected:
                (folder / name).unlink(missing_ok=True)
        for name, text in expected.items():
            (folder / name).write_text(text, encoding="utf-8")
    present = {name for name in kinds if (folder / name).exists()}
    assert present == set(expected), "regenerate with IDC_SQL_REGENERATE_GOLDEN=1"
    for name, text in expected.items():
        assert (folder / name).read_text(encoding="utf-8") == text, name


def _spec_files() -> Iterator[Path]:
    """Every specification under golden/: the cases and their set members."""
    return GOLDEN.glob("*/*.yaml")


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) of every mapping entry in ``node``, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _leaves(node: Any) -> Iterator[Any]:
    """Every value in ``node`` that is neither a mapping nor a list."""
    if isinstance(node, dict | list):
        for item in node.values() if isinstance(node, dict) else node:
            yield from _leaves(item)
    else:
        yield node


def test_cases_cover_the_grammar() -> None:
    """The golden cases use every operator, node, set operation and instances mode."""
    assert len(CASES) >= 24
    specs = {p: yaml.safe_load(p.read_text(encoding="utf-8")) for p in _spec_files()}
    wheres = [s["where"] for s in specs.values() if "where" in s]
    where_keys = {key for key, _ in _walk(wheres)}
    assert set(OPERATORS) <= where_keys
    assert set(NODE_KEYS) <= where_keys
    assert set(SET_KEYS) <= {key for s in specs.values() for key in s}
    assert {s.get("instances", "any") for s in specs.values()} == {"any", "all"}
    assert {25, 24, "current", None} <= {s.get("idc_version") for s in specs.values()}
    orders = [key for s in specs.values() for key in s.get("order_by", [])]
    assert any(k.startswith("-") for k in orders)
    assert any(not k.startswith("-") for k in orders)
    members = {
        path.parent / rel for path, s in specs.items() for key in SET_KEYS for rel in s.get(key, [])
    }
    assert any("limit" in specs[m] for m in members)
    mappings = [v for _, v in _walk(wheres) if isinstance(v, dict)] + wheres
    assert any(len(m) >= 3 and set(m) <= set(FIELDS) for m in mappings)
    fields = where_keys & set(FIELDS)
    assert {
        "SeriesNumber",
        "StudyDate",
        "patient_age_years",
        "BodyPartExamined",
        "SliceThickness",
        "ImageType",
        "PixelSpacing",
    } <= fields
    assert list(GOLDEN.glob("*/local.error.txt"))


# ----------------------------------------------------------------------------- the SQL itself


def _parse(path: Path) -> exp.Expression:
    return sqlglot.parse_one(path.read_text(encoding="utf-8"), read=DIALECTS[path.stem])


def _params(path: Path) -> dict[str, Any]:
    text = path.with_name(f"{path.stem}.params.json").read_text(encoding="utf-8")
    return {k: _decode(v) for k, v in json.loads(text).items()}


@pytest.mark.parametrize("path", SQL_FILES, ids=_ids(SQL_FILES))
def test_parameters_are_bound(path: Path) -> None:
    """Every parameter the SQL names is bound, and every bound one is used."""
    tree = _parse(path)
    kind = exp.Parameter if path.stem == "bigquery" else exp.Placeholder
    used = {node.name for node in tree.find_all(kind)}
    assert used == set(_params(path))
    other = exp.Placeholder if path.stem == "bigquery" else exp.Parameter
    assert not list(tree.find_all(other))


def _literal(node: exp.Literal) -> object:
    return node.this if node.is_string else float(node.this)


def _normal(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return float(value)
    return value


#: keys whose values say where values are read from, not values themselves
FILE_KEYS = ("in_file", "not_in_file", "column")


def _without_files(node: Any) -> Any:
    """``node`` with the keys naming files of values (and their columns) left out."""
    if isinstance(node, dict):
        return {k: _without_files(v) for k, v in node.items() if k not in FILE_KEYS}
    if isinstance(node, list):
        return [_without_files(v) for v in node]
    return node


def _file_values(folder: Path, node: Any) -> list[object]:
    """The values of the files a spec's conditions read (text: a line each; CSV: a column)."""
    out: list[object] = []
    for _, value in _walk(node):
        if not isinstance(value, dict):
            continue
        for key in ("in_file", "not_in_file"):
            if key not in value:
                continue
            text = (folder / value[key]).read_text(encoding="utf-8")
            if value[key].endswith(".csv"):
                rows = list(csv.DictReader(io.StringIO(text)))
                out += [row[value["column"]] for row in rows]
            else:
                out += [line.strip() for line in text.splitlines() if line.strip()[:1] not in "#"]
    return out


def _spec_values(path: Path) -> list[object]:
    """Every value a spec (and its members) holds: condition values and limits, normalized."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = data.get("where", {})
    # booleans are is_null flags, not values
    values = [v for v in _leaves(_without_files(where)) if not isinstance(v, bool)]
    values += _file_values(path.parent, where)
    if "limit" in data:
        values.append(data["limit"])
    for key in SET_KEYS:
        for rel in data.get(key, []):
            values += _spec_values(path.parent / rel)
    return [_normal(v) for v in values]


def _flatten(params: dict[str, Any]) -> set[object]:
    out: set[object] = set()
    for value in params.values():
        out.update(_normal(v) for v in (value if isinstance(value, list) else [value]))
    return out


def _shift(value: Any) -> Any:
    """Another value of the same type and order: numbers and dates move up, text is wrapped
    (a DICOM UID gets one more group, so that it stays a UID)."""
    if isinstance(value, dict):
        return {k: v if k in FILE_KEYS else _shift(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value + 1000003
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, str):
        try:
            return (dt.date.fromisoformat(value) + dt.timedelta(days=1)).isoformat()
        except ValueError:
            return f"{value}.9" if re.fullmatch(r"[0-9]+(\.[0-9]+)*", value) else f"zz{value}zz"
    raise AssertionError(value)


def _compile_shifted(case: Path, engine: str, folder: Path) -> idc_sql.Compiled:
    """The case compiled with every value of its specs (members too, files of values too)
    replaced by another."""
    for spec in case.glob("*.yaml"):
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
        for key in ("where", "limit"):
            if key in data:
                data[key] = _shift(data[key])
        (folder / spec.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for values in [*case.glob("*.txt"), *case.glob("*.csv")]:
        lines = values.read_text(encoding="utf-8").splitlines()
        first = 1 if values.suffix == ".csv" else 0  # a CSV's header stays
        shifted = [
            line if i < first or not line.strip() or line.startswith("#") else _shift_row(line)
            for i, line in enumerate(lines)
        ]
        (folder / values.name).write_text("\n".join(shifted) + "\n", encoding="utf-8")
    return idc_sql.compile(folder / "spec.yaml", engine)


@pytest.mark.parametrize("path", SQL_FILES, ids=_ids(SQL_FILES))
def test_spec_values_are_bound_not_written(path: Path, tmp_path: Path) -> None:
    """No value of the spec is a literal of the SQL; other values give the very same SQL."""
    text = path.read_text(encoding="utf-8")
    params = _params(path)
    shifted = _compile_shifted(path.parent, path.stem, tmp_path)
    # what the SQL holds whatever the values: catalog constants such as '' or 1000000.0
    constants = {
        _literal(node)
        for node in sqlglot.parse_one(shifted.sql, read=DIALECTS[path.stem]).find_all(exp.Literal)
    }
    values = _spec_values(path.with_name("spec.yaml"))
    assert set(values) <= _flatten(params)
    literals = {_literal(node) for node in _parse(path).find_all(exp.Literal)}
    assert not (set(values) & literals) - constants
    for value in values:
        if isinstance(value, str) and value not in constants:
            assert f"'{value}'" not in text
            assert f'"{value}"' not in text
    assert f"{shifted.sql}\n" == text
    # every parameter carries a value of the spec
    assert not _flatten(params) & _flatten(shifted.params)


def _shift_row(line: str) -> str:
    return ",".join(_shift(cell) for cell in line.split(","))


def _schema_columns(repo_root: Path) -> dict[str, dict[str, str]]:
    path = repo_root.parent / "shared" / "reference" / "dicom_all_schema.json"
    fields = json.loads(path.read_text(encoding="utf-8"))["schema"]["fields"]
    return {f["name"]: f for f in fields}


#: aliases the compiler gives dicom_all and dicom_metadata_curated
SOURCES = {"dicom_all": "dicom_all", "curated": "dicom_metadata_curated"}


def _source_columns(tree: exp.Expr) -> Iterator[exp.Column]:
    """Column references of dicom_all or dicom_metadata_curated."""
    for column in tree.find_all(exp.Column):
        if column.table in SOURCES and not column.args.get("db"):
            yield column


#: the dicom_all columns the catalog's BigQuery readings name
CATALOG_COLUMNS = frozenset(
    column.name
    for f in FIELDS.values()
    for column in _source_columns(target("bigquery").reading(f))
)
#: tables of an IDC release a query may read
IDC_TABLES = {"dicom_all", "dicom_metadata_curated", "segmentations"}


def test_catalog_reads_real_dicom_all_columns(repo_root: Path) -> None:
    schema = _schema_columns(repo_root)
    assert not CATALOG_COLUMNS - set(schema)
    for f in FIELDS.values():
        if f.bq_mode == "REPEATED" and f.name in schema:  # not derived (referenced_series)
            assert schema[f.name]["mode"] == "REPEATED", f.name


#: cases whose BigQuery SQL reads a dicom_all column that no catalog field reads
UNCATALOGUED: dict[str, str] = {}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            marks=[pytest.mark.xfail(strict=True, reason=UNCATALOGUED[p.parent.name])]
            if p.parent.name in UNCATALOGUED
            else [],
        )
        for p in BIGQUERY_SQL
    ],
    ids=_ids(BIGQUERY_SQL),
)
def test_bigquery_reads_only_catalogued_columns(path: Path, repo_root: Path) -> None:
    schema = _schema_columns(repo_root)
    tree = _parse(path)
    for column in _source_columns(tree):
        assert column.name in schema, column.sql("bigquery")
    uncatalogued = {
        c.sql("bigquery") for c in _source_columns(tree) if c.name not in CATALOG_COLUMNS
    }
    ctes = {cte.alias: cte.this for cte in tree.find_all(exp.CTE)}
    series = ctes["series"]
    unnested = {
        name.name
        for unnest in series.find_all(exp.Unnest)
        if (alias := unnest.args.get("alias")) is not None
        for name in alias.columns
    }
    for column in series.find_all(exp.Column):
        assert column.table or column.name in unnested, column.sql("bigquery")
    datasets = set()
    for table in tree.find_all(exp.Table):
        if not table.db:
            assert table.name in ctes, table.sql("bigquery")
            continue
        assert table.catalog == "bigquery-public-data"
        assert table.name in IDC_TABLES
        datasets.add(table.db)
    assert len(datasets) == 1
    assert datasets <= {"idc_current"} | {f"idc_v{n}" for n in range(1, 100)}
    assert not uncatalogued


LOCAL_SQL = [p for p in SQL_FILES if p.stem == "local"]
INDEX_COLUMNS = frozenset(pq.read_schema(idc_index_data.IDC_INDEX_PARQUET_FILEPATH).names)
COLLECTIONS_PARQUET = idc_index_data.INDEX_METADATA["collections_index"]["parquet_filepath"]
COLLECTIONS_COLUMNS = frozenset(pq.read_schema(COLLECTIONS_PARQUET).names)


@pytest.mark.parametrize("path", LOCAL_SQL, ids=_ids(LOCAL_SQL))
def test_local_reads_the_index(path: Path, local_connection: Any) -> None:
    """The local SQL reads only idc_index columns (and the series' collection's in
    collections_index) and binds against the installed index."""
    tree = _parse(path)
    ctes = {cte.alias: cte.this for cte in tree.find_all(exp.CTE)}
    members = {name for name in ctes if name != "series"}
    assert all(re.fullmatch(r"_member\d+", name) for name in members)  # a set's members
    tables = {t.name for t in tree.find_all(exp.Table)} - {"collections_index"}
    assert tables == {"idc_index", "series", *members}
    columns = list(ctes["series"].find_all(exp.Column))
    read = {c.name for c in columns if c.table != "c"}
    assert read <= INDEX_COLUMNS | {"file_row_number"}
    # collections_index is read as "c", by collection_id, only
    assert {c.name for c in columns if c.table == "c"} <= COLLECTIONS_COLUMNS
    local_connection.execute(f"EXPLAIN {path.read_text(encoding='utf-8')}", _params(path))


@pytest.fixture(scope="module")
def local_connection() -> Any:
    from idc_sql.engines.local import LocalEngine

    engine = LocalEngine()
    engine.register({"idc_index", "collections_index"}, engine.settle(None))
    engine.register({"idc_index"}, engine.settle(24))  # idc_v24.idc_index, for version-24
    return engine.connection


# ----------------------------------------------------------------------------- numbers

NUMBER_FIELDS = [f.name for f in FIELDS.values() if f.kind == "number"]


@pytest.mark.parametrize("name", NUMBER_FIELDS)
def test_bigquery_numbers_compare_as_numbers(name: str, repo_root: Path) -> None:
    """A number field whose dicom_all column is text is cast before it is compared."""
    schema = _schema_columns(repo_root)
    field = FIELDS[name]
    compiled = idc_sql.compile({"name": "n", "where": {name: {"gte": 1}}}, "bigquery")
    tree = sqlglot.parse_one(compiled.sql, read="bigquery")
    (compare,) = list(tree.find_all(exp.GTE))
    reading = target("bigquery").reading(field)
    source_types = {schema[c.name]["type"] for c in reading.find_all(exp.Column)}
    numeric = source_types <= {"INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC"}
    casts = (exp.Cast, exp.TryCast, exp.Count)
    assert (
        numeric
        or isinstance(compare.this, exp.Cast | exp.TryCast)
        or any(isinstance(node, casts) for node in reading.walk())
    )


# ----------------------------------------------------------------------------- known bugs


@pytest.mark.parametrize("engine", ENGINES)
def test_order_by_number_stored_as_text_is_numeric(engine: str) -> None:
    spec = {"name": "n", "where": {"Modality": "CT"}, "order_by": ["SeriesNumber"]}
    tree = idc_sql.compile(spec, engine).tree
    key = tree.args["order"].expressions[0].this
    assert isinstance(key, exp.Cast | exp.TryCast)


def test_order_by_series_number_runs_in_numeric_order() -> None:
    spec = {
        "name": "n",
        "where": {"collection_id": "rider_pilot"},
        "columns": ["SeriesNumber"],
        "order_by": ["SeriesNumber"],
    }
    values = idc_sql.run(spec).to_pandas()["SeriesNumber"].astype(float).tolist()
    assert values == sorted(values)


@pytest.mark.parametrize(
    "condition",
    [
        {"Rows": {"in": [256, 512]}},
        {"Rows": [256, 512]},
        {"KVP": {"not_in": [80, 120]}},
        {"SliceThickness": {"between": [0.5, 2]}},
    ],
    ids=["in", "list", "not_in", "between"],
)
def test_instance_level_lists_compile(condition: dict[str, Any]) -> None:
    compiled = idc_sql.compile({"name": "n", "where": condition}, "bigquery")
    assert "LOGICAL_OR" in compiled.sql
    assert {_normal(v) for v in _leaves(condition)} <= _flatten(compiled.params)
