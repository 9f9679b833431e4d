"""``idc-sql index build`` on the BigQuery emulator: IDC's own SQL for an index run over a
release's tables, written as parquet in an index folder, then read by the local engine, offline,
with the same rows as BigQuery gives for a template over it.

The index built is ``clinical_index``: of the indices whose SQL idc-index-data ships and that the
local engine does not have from the wheel, it is the one the emulator can derive (the others
need ``dicom_all`` columns the fixture lacks, or ``ARRAY_AGG(... IGNORE NULLS ORDER BY ...)``,
which the emulator's rewriter breaks). Its table, ``idc_vNN_clinical.column_metadata``, is made
here for two releases: v25 (the installed index's) and v23.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from google.cloud import bigquery

import idc_sql
from idc_sql import cli
from idc_sql.engines.base import Rows
from idc_sql.engines.bigquery import BigQueryEngine, CostError, Settings
from idc_sql.engines.local import LocalEngine
from idc_sql.errors import EngineError
from idc_sql.indexes.wheel import index_dir
from idc_sql.templates.loading import parse_template

from .emulator import FAST_RETRY, Emulator
from .fixture import FIXTURE_PROJECT, fixture_series

pytestmark = pytest.mark.bigquery

TB = 10**12
COLUMN_METADATA = [
    bigquery.SchemaField("collection_id", "STRING"),
    bigquery.SchemaField("table_name", "STRING"),
    bigquery.SchemaField("column", "STRING"),
    bigquery.SchemaField("column_label", "STRING"),
    bigquery.SchemaField(
        "values",
        "RECORD",
        mode="REPEATED",
        fields=[
            bigquery.SchemaField("option_code", "STRING"),
            bigquery.SchemaField("option_description", "STRING"),
        ],
    ),
]
#: a template over the built index and the series: clinical columns of each collection
CLINICAL_COLUMNS = """\
-- param collection_id STRING DEFAULT NULL: one collection (NULL: every one)
SELECT
  c.collection_id,
  c.short_table_name,
  c.`column`,
  c.column_label,
  ARRAY_LENGTH(c.`values`) AS n_values,
  COUNT(DISTINCT i.PatientID) AS patients
FROM clinical_index AS c
JOIN idc_index AS i ON i.collection_id = c.collection_id
WHERE @collection_id IS NULL OR c.collection_id = @collection_id
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3
"""
#: the index alone, for a release the fixture has no dicom_all of
CLINICAL_ONLY = "SELECT collection_id, table_name, `column`, column_label FROM clinical_index"


def _column_rows(release: int, collections: list[str]) -> list[dict[str, Any]]:
    rows = []
    for collection in collections:
        table = f"{FIXTURE_PROJECT}.idc_v{release}_clinical.{collection}_clinical"
        rows.append(
            {
                "collection_id": collection,
                "table_name": table,
                "column": "age_at_diagnosis",
                "column_label": "Age at diagnosis",
                "values": [],
            }
        )
        rows.append(
            {
                "collection_id": collection,
                "table_name": table,
                "column": "gender",
                "column_label": "",  # IDC's SQL makes it NULL
                "values": [
                    {"option_code": "1", "option_description": "Male"},
                    {"option_code": "2", "option_description": "Female"},
                ],
            }
        )
        if release != 25:
            continue
        rows.append(
            {
                "collection_id": collection,
                "table_name": table,
                "column": "smoking_status",
                "column_label": "Smoking; 'status' -- \"quoted\"",
                "values": [{"option_code": "0", "option_description": None}],
            }
        )
    return rows


@pytest.fixture(scope="module")
def collections() -> list[str]:
    return sorted(set(fixture_series().column("collection_id").to_pylist()))


@pytest.fixture(scope="module")
def clinical(bq_emulator: Emulator, collections: list[str]) -> dict[int, int]:
    """``idc_v25_clinical`` and ``idc_v23_clinical``, each with a ``column_metadata`` table:
    the number of rows of each release."""
    client = bq_emulator.client()
    counts = {}
    for release, chosen in ((25, collections[:3]), (23, collections[:1])):
        dataset = bigquery.Dataset(f"{FIXTURE_PROJECT}.idc_v{release}_clinical")
        client.delete_dataset(dataset, delete_contents=True, not_found_ok=True, retry=FAST_RETRY)
        client.create_dataset(dataset, retry=FAST_RETRY)
        table = client.create_table(
            bigquery.Table(
                f"{FIXTURE_PROJECT}.idc_v{release}_clinical.column_metadata",
                schema=COLUMN_METADATA,
            ),
            retry=FAST_RETRY,
        )
        rows = _column_rows(release, chosen)
        assert not client.insert_rows_json(table, rows, retry=FAST_RETRY)
        counts[release] = len(rows)
    return counts


@pytest.fixture(scope="module")
def bigquery_engine(bq_emulator: Emulator) -> Iterator[BigQueryEngine]:
    engine = BigQueryEngine(_settings(bq_emulator))
    yield engine
    engine.close()


def _settings(bq_emulator: Emulator, **more: Any) -> Settings:
    return Settings.resolve(
        project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10, **more
    )


@pytest.fixture(scope="module")
def wheel_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel's files, with the fixture's series as idc_index (as test_templates does)."""
    folder = tmp_path_factory.mktemp("fixture-wheel")
    for path in index_dir().iterdir():
        if path.is_file() and path.name != "idc_index.parquet":
            (folder / path.name).symlink_to(path)
    pq.write_table(fixture_series(), folder / "idc_index.parquet")
    return folder


def _local(wheel_like: Path, folder: Path) -> LocalEngine:
    return LocalEngine(Settings.local(index_dir=folder), directory=wheel_like)


def _rows(result: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(_plain(v) for v in r.values()) for r in result.to_arrow().to_pylist()), key=repr
    )


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else value
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    return value


def _metadata(path: Path) -> dict[str, Any]:
    meta = pq.read_schema(path).metadata or {}
    found: dict[str, Any] = json.loads(meta[b"idc_sql"])
    return found


# ----------------------------------------------------------------------------- round trip


def test_a_built_index_is_read_by_the_local_engine_with_the_rows_bigquery_gives(
    clinical: dict[int, int],
    bigquery_engine: BigQueryEngine,
    wheel_like: Path,
    tmp_path: Path,
    collections: list[str],
) -> None:
    folder = tmp_path / "indices"  # made by the build
    (built,) = idc_sql.build_index("clinical_index", bigquery_engine, index_dir=folder)
    assert built.path == folder / "clinical_index.parquet"
    assert (built.rows, built.release.label, built.not_read) == (clinical[25], "v25", None)
    assert sorted(p.name for p in folder.iterdir()) == ["clinical_index.parquet"]

    # the wheel's schema, as it names the columns, and the provenance in the metadata
    table = pq.read_table(built.path)
    schema = json.loads((index_dir() / "clinical_index_schema.json").read_text())
    assert table.column_names == [c["name"] for c in schema["columns"]]
    meta = _metadata(built.path)
    assert meta["tool"] == "idc-sql"
    assert meta["version"] == idc_sql.__version__
    assert (meta["index"], meta["idc_version"], meta["release"]) == ("clinical_index", 25, "v25")
    assert meta["engine"] == "bigquery"
    assert meta["rows"] == clinical[25]
    assert meta["written_at"].endswith("Z")
    assert len(meta["digest"]) == 64
    assert len(meta["index_sql_digest"]) == 64
    assert "idc_v25_clinical" in meta["sql"]
    assert "column_metadata" in meta["sql"]
    assert meta["index_package"].startswith("25.")
    labels = dict(
        zip(
            table.column("column").to_pylist(),
            table.column("column_label").to_pylist(),
            strict=True,
        )
    )
    assert labels["gender"] is None  # IDC's NULLIF ran

    # the local engine reads it, offline, and a template over it gives BigQuery's rows
    local = _local(wheel_like, folder)
    assert "clinical_index" in local.relations(local.settle(None))
    template = parse_template(CLINICAL_COLUMNS, "clinical-columns.sql")
    for params in ({}, {"collection_id": collections[1]}):
        here = idc_sql.run_template(template, local, params=params)
        there = idc_sql.run_template(template, bigquery_engine, params=params, idc_version=25)
        assert here.row_count > 0
        assert [n.lower() for n in here.to_arrow().column_names] == [
            n.lower() for n in there.to_arrow().column_names
        ]
        assert _rows(here) == _rows(there)
    here = idc_sql.run_template(template, local)
    assert str(built.path) in here.provenance.source
    assert "built from IDC v25" in here.provenance.source
    assert here.provenance.release == "v25"


def test_another_release_goes_to_its_own_folder_and_is_read_for_that_release_only(
    clinical: dict[int, int], bigquery_engine: BigQueryEngine, wheel_like: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "indices"
    (v25,) = idc_sql.build_index("clinical_index", bigquery_engine, index_dir=folder)
    (v23,) = idc_sql.build_index(
        "clinical_index", bigquery_engine, index_dir=folder, idc_version=23
    )
    assert v23.path == folder / "idc_v23" / "clinical_index.parquet"
    assert (v23.rows, v23.release.label) == (clinical[23], "v23")
    assert _metadata(v23.path)["idc_version"] == 23
    assert _metadata(v25.path)["idc_version"] == 25  # the installed release's file is kept

    local = _local(wheel_like, folder)
    only = parse_template(CLINICAL_ONLY, "clinical-only.sql")
    at25 = idc_sql.run_template(only, local)
    at23 = idc_sql.run_template(only, local, idc_version=23)
    assert (at25.row_count, at23.row_count) == (clinical[25], clinical[23])
    assert at23.provenance.release == "v23"
    assert str(v23.path) in at23.provenance.source
    assert "built from IDC v23" in at23.provenance.source
    there = idc_sql.run_template(only, bigquery_engine, idc_version=23)
    assert _rows(at23) == _rows(there)

    # v23's file where v25's is kept is not read, and the engine says why
    v25.path.unlink()
    v23.path.rename(v25.path)
    with pytest.raises(
        idc_sql.UnsupportedError, match="was built from IDC v23; the local index is v25"
    ):
        idc_sql.run_template(only, _local(wheel_like, folder))


def test_the_command_builds_and_tables_lists(
    clinical: dict[int, int],
    bq_emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "indices"
    flags = [
        "--engine",
        "bigquery",
        "--bigquery-endpoint",
        bq_emulator.endpoint,
        "--project",
        "idc-sql-tests",
    ]
    args = ["index", "build", "clinical_index", "idc_index", *flags, "--index-dir", str(folder)]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert f"wrote {folder / 'clinical_index.parquet'} (clinical_index, IDC v25, " in out
    assert f"wrote {folder / 'idc_index.parquet'} (idc_index, IDC v25, " in out
    assert "note: the local engine reads the idc_index that idc-index-data ships" in out
    # idc_index as IDC builds it: the wheel's names (the emulator lower-cases some), IDC's order
    built, expected = pq.read_table(folder / "idc_index.parquet"), fixture_series()
    assert built.column_names == expected.column_names
    assert sorted(built.column("SeriesInstanceUID").to_pylist()) == sorted(
        expected.column("SeriesInstanceUID").to_pylist()
    )
    key = ["collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"]
    order = list(zip(*(built.column(k).to_pylist() for k in key), strict=True))
    assert order == sorted(order)
    assert cli.main(["tables", "--engine", "local", "--index-dir", str(folder)]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "clinical_index" in line]
    assert len(listed) == 1
    assert f"{clinical[25]:>12,}" in listed[0]

    assert cli.main(["index", "build", "clinical_index", *flags, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- clinical_index build (IDC v25)\n")
    assert "idc_v25_clinical" in out


# ----------------------------------------------------------------------------- failures


class EstimatingClient:
    """The real client, whose dry runs report ``estimate`` bytes; records every job config."""

    def __init__(self, client: bigquery.Client, estimate: int) -> None:
        self._client = client
        self.estimate = estimate
        self.configs: list[Any] = []

    def query(self, sql: str, job_config: Any = None, **kwargs: Any) -> Any:
        self.configs.append(job_config)
        job = self._client.query(sql, job_config=job_config, **kwargs)
        if job_config is not None and job_config.dry_run:
            stats = job._properties.setdefault("statistics", {})
            stats["totalBytesProcessed"] = str(self.estimate)
            stats.setdefault("query", {})["totalBytesProcessed"] = str(self.estimate)
        return job

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_above_the_cap_nothing_runs_and_nothing_is_written(
    clinical: dict[int, int], bq_emulator: Emulator, tmp_path: Path
) -> None:
    folder = tmp_path / "indices"
    folder.mkdir()
    old = folder / "clinical_index.parquet"
    old.write_bytes(b"an earlier build")
    engine = BigQueryEngine(_settings(bq_emulator, max_gb=50))
    recorder = EstimatingClient(bq_emulator.client(), estimate=3 * TB)
    engine._client = recorder
    with pytest.raises(CostError) as caught:
        idc_sql.build_index(["idc_index", "clinical_index"], engine, index_dir=folder)
    assert caught.value.exit_code == 2
    assert str(caught.value) == (
        "idc_index build: this query would process 3.00 TB (300% of the Sandbox's free 1 TB a "
        "month), above the cap of 50.00 GB; raise the cap with max_gb=3100 if you mean it; no "
        "index was built or written"
    )
    assert [c.dry_run for c in recorder.configs] == [True, True]  # every estimate, no query
    assert sorted(p.name for p in folder.iterdir()) == ["clinical_index.parquet"]
    assert old.read_bytes() == b"an earlier build"
    # a new folder is not even made
    with pytest.raises(CostError):
        idc_sql.build_index("clinical_index", engine, index_dir=tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_a_file_is_replaced_only_by_a_finished_build(
    clinical: dict[int, int],
    bigquery_engine: BigQueryEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "indices"
    folder.mkdir()
    old = folder / "clinical_index.parquet"
    old.write_bytes(b"an earlier build")
    real = Rows.execute

    def interrupted(self: Rows, statement: Any) -> None:
        real(self, statement)  # the whole file is written, then Ctrl-C before it is renamed
        raise KeyboardInterrupt

    monkeypatch.setattr(Rows, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        idc_sql.build_index("clinical_index", bigquery_engine, index_dir=folder)
    assert sorted(p.name for p in folder.iterdir()) == ["clinical_index.parquet"]
    assert old.read_bytes() == b"an earlier build"

    # a release BigQuery does not have: the dry run fails, nothing changes
    monkeypatch.setattr(Rows, "execute", real)
    with pytest.raises(EngineError, match="not found on BigQuery"):
        idc_sql.build_index("clinical_index", bigquery_engine, index_dir=folder, idc_version=21)
    assert sorted(p.name for p in folder.iterdir()) == ["clinical_index.parquet"]
    assert old.read_bytes() == b"an earlier build"

    (built,) = idc_sql.build_index("clinical_index", bigquery_engine, index_dir=folder)
    assert built.path == old
    assert pq.read_table(old).num_rows == clinical[25]
    assert sorted(p.name for p in folder.iterdir()) == ["clinical_index.parquet"]
