"""The cost guard and the fault paths of the BigQuery engine, against the emulator.

The emulator reports 0 bytes for every dry run and ignores ``maximum_bytes_billed``, so the
guard is tested on the job configurations the engine sends and on the decisions it takes from
dry-run answers: a large estimate is fed to the real decision code by a client that passes
everything through to the emulator and only rewrites what its dry runs report.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.cloud import bigquery

import idc_sql
from idc_sql.cost import decide
from idc_sql.engines.bigquery import BigQueryEngine, CostError, Settings
from idc_sql.errors import EngineError, UsageError, render
from idc_sql.settings import Notice

from .emulator import Emulator
from .fixture import load_fixture

SPEC = {
    "name": "ct.small",
    "idc_version": 25,
    "where": {"all": [{"Modality": "CT"}, {"SliceThickness": {"lte": 2.5}}]},
    "columns": ["SeriesInstanceUID", "Modality"],
}
TB = 10**12


def _engine(endpoint: str, **overrides: Any) -> BigQueryEngine:
    settings = {"project": "idc-sql-tests", "endpoint": endpoint, "deadline": 10, **overrides}
    return BigQueryEngine(Settings.resolve(**settings))


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


# ----------------------------------------------------------------------------- job configs


def test_job_configurations(bq_emulator: Emulator) -> None:
    engine = _engine(bq_emulator.endpoint, max_gb=12.5)
    recorder = EstimatingClient(bq_emulator.client(), estimate=3 * 10**9)
    engine._client = recorder
    result = idc_sql.run(idc_sql.parse_spec(SPEC), engine)
    assert result.summary.series > 0

    dry, real = recorder.configs[0], recorder.configs[-1]
    assert dry.dry_run is True
    assert dry.use_query_cache is False
    assert real.dry_run is not True
    assert real.maximum_bytes_billed == 12_500_000_000
    assert real.labels == {"tool": "idc-sql", "cohort": "ct_small"}
    params = {p.name: (p.type_, p.value) for p in real.query_parameters}
    assert params == {"p0": ("FLOAT64", 2.5), "p1": ("STRING", "CT")}
    assert all(
        c.maximum_bytes_billed == 12_500_000_000
        for c in recorder.configs
        if c is not None and not c.dry_run
    )


def test_a_large_estimate_is_refused_before_the_query_runs(bq_emulator: Emulator) -> None:
    engine = _engine(bq_emulator.endpoint, max_gb=50)
    recorder = EstimatingClient(bq_emulator.client(), estimate=3 * TB)
    engine._client = recorder
    with pytest.raises(CostError) as caught:
        idc_sql.run(idc_sql.parse_spec(SPEC), engine)
    assert str(caught.value) == (
        "this query would process 3.00 TB (300% of the Sandbox's free 1 TB a month), above the "
        "cap of 50.00 GB; raise the cap with max_gb=3100 if you mean it"
    )
    assert caught.value.exit_code == 2
    assert [c.dry_run for c in recorder.configs] == [True]  # nothing but the dry run was sent


def test_an_estimate_at_the_cap_runs(bq_emulator: Emulator) -> None:
    engine = _engine(bq_emulator.endpoint, max_gb=1)
    engine._client = EstimatingClient(bq_emulator.client(), estimate=10**9)
    assert idc_sql.run(idc_sql.parse_spec(SPEC), engine).summary.series > 0


def test_dry_run_reports_and_stops(bq_emulator: Emulator) -> None:
    engine = _engine(bq_emulator.endpoint)
    recorder = EstimatingClient(bq_emulator.client(), estimate=123 * 10**9)
    engine._client = recorder
    notices: list[Notice] = []
    outcome = idc_sql.estimate(idc_sql.parse_spec(SPEC), engine, report=notices.append)
    assert "dicom_all" in outcome.sql
    # above the cap: the dry run says what a real run would meet
    assert [(n.kind, render(n.pieces)) for n in notices] == [
        (
            "estimate",
            "this query would process 123.00 GB (12% of the Sandbox's free 1 TB a month), above "
            "the cap of 50.00 GB; raise the cap with max_gb=300 if you mean it",
        )
    ]
    assert notices[0].details == {"bytes": 123 * 10**9, "cap": 50 * 10**9}
    assert not outcome.decision.allowed
    assert [c.dry_run for c in recorder.configs] == [True]


@pytest.mark.parametrize(
    ("estimate", "cap_gb", "allowed"),
    [(0, 1, True), (10**9, 1, True), (10**9 + 1, 1, False), (5 * TB, 50, False)],
)
def test_decisions(estimate: int, cap_gb: float, allowed: bool) -> None:
    assert (
        decide(estimate, Settings.resolve(max_gb=cap_gb, environ={}).cap_bytes).allowed is allowed
    )


@pytest.mark.parametrize("bad", [0, -1, 1e-30, 1e7, float("nan"), float("inf")])
def test_a_cap_must_be_a_finite_number_within_bounds(bad: float) -> None:
    with pytest.raises(
        UsageError, match=r"^max_gb=.* is not allowed: give a number from 0\.001 to 1e\+06 GB$"
    ):
        Settings.resolve(max_gb=bad, environ={})


# ----------------------------------------------------------------------------- faults


def test_unknown_release_is_a_plain_not_found(bq_emulator: Emulator) -> None:
    engine = _engine(bq_emulator.endpoint)
    with pytest.raises(EngineError, match=r"not found on BigQuery.*idc_vNN"):
        idc_sql.run(idc_sql.parse_spec({**SPEC, "idc_version": 99}), engine)


def test_unknown_project_is_a_plain_not_found(bq_emulator: Emulator) -> None:
    engine = _engine(bq_emulator.endpoint, data_project="no-such-project")
    with pytest.raises(EngineError, match="not found on BigQuery"):
        idc_sql.run(idc_sql.parse_spec(SPEC), engine)


class _Always500(http.server.BaseHTTPRequestHandler):
    def _fail(self) -> None:
        body = b'{"error": {"code": 500, "message": "backend error", "errors": []}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def failing_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Always500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_500_is_retried_then_reported(failing_endpoint: str) -> None:
    engine = _engine(failing_endpoint, deadline=2)
    gave_up = r"did not succeed: gave up after \d+ s of retries \(deadline 2 s\)"
    with pytest.raises(EngineError, match=gave_up):
        idc_sql.run(idc_sql.parse_spec(SPEC), engine)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "IDC_SQL_BIGQUERY_DEADLINE": "3", **env}
    return subprocess.run(
        [sys.executable, "-m", "idc_sql.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        check=False,
    )


def test_cli_no_endpoint_answering(tmp_path: Path) -> None:
    spec = tmp_path / "ct.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    out = tmp_path / "ct.s5cmd"
    out.write_text("previous manifest\n")
    endpoint = f"http://127.0.0.1:{_free_port()}"
    done = _cli(
        ["run", str(spec), "--engine", "bigquery", "--bigquery-endpoint", endpoint, "-o", str(out)],
        tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("idc-sql: error: the dry run did not succeed: gave up after ")
    assert "s of retries (deadline 3 s): cannot reach BigQuery at" in done.stderr
    assert f"cannot reach BigQuery at {endpoint}" in done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_text() == "previous manifest\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ct.s5cmd", "ct.yaml"]


def test_cli_emulator_stopped_mid_session(tmp_path: Path) -> None:
    spec = tmp_path / "ct.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    out = tmp_path / "ct.s5cmd"
    with Emulator() as emulator:
        load_fixture(emulator.client())
        args = [
            "run",
            str(spec),
            "--engine",
            "bigquery",
            "--bigquery-endpoint",
            emulator.endpoint,
            "-o",
            str(out),
        ]
        first = _cli(args, tmp_path)
        assert first.returncode == 0, first.stderr
        assert "estimate: 0 B" in first.stderr
        manifest = out.read_text()
        emulator.kill()
        second = _cli(args, tmp_path)
    assert second.returncode == 1
    assert "cannot reach BigQuery" in second.stderr
    assert out.read_text() == manifest  # the earlier manifest is untouched
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_cli_query_above_the_cap(bq_emulator: Emulator, tmp_path: Path) -> None:
    spec = tmp_path / "ct.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    out = tmp_path / "ct.s5cmd"
    # the emulator's dry runs report 0 bytes: a cap below that refuses every query
    done = _cli(
        [
            "run",
            str(spec),
            "--engine",
            "bigquery",
            "--bigquery-endpoint",
            bq_emulator.endpoint,
            "--max-gb",
            "0.001",
            "-o",
            str(out),
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr  # 0 bytes is within any positive cap
    bad = _cli(
        [
            "run",
            str(spec),
            "--engine",
            "bigquery",
            "--bigquery-endpoint",
            bq_emulator.endpoint,
            "--max-gb",
            "0",
            "-o",
            str(tmp_path / "x.s5cmd"),
        ],
        tmp_path,
    )
    assert bad.returncode == 2
    assert (
        bad.stderr == "idc-sql: error: --max-gb 0 is not allowed: give a number from 0.001 to "
        "1e+06 GB\n"
    )
    assert not (tmp_path / "x.s5cmd").exists()


def test_cli_bigquery_run_writes_a_manifest_with_provenance(
    bq_emulator: Emulator, tmp_path: Path
) -> None:
    spec = tmp_path / "ct.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    out = tmp_path / "ct.s5cmd"
    done = _cli(
        ["run", str(spec), "--engine", "bigquery", "-o", str(out)],
        tmp_path,
        IDC_SQL_BIGQUERY_ENDPOINT=bq_emulator.endpoint,
        IDC_SQL_PROJECT="idc-sql-tests",
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "# IDC version: v25 (BigQuery bigquery-public-data.idc_v25.dicom_all" in text
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines
    # each series in its own folder of the default layout, named after its uuid
    for line in lines:
        _, source, destination = line.split(" ")
        uuid = source.split("/")[3]
        assert source.endswith("/*")
        assert destination.endswith(f"/CT_{uuid}/")
    local = idc_sql.run({**SPEC, "where": {"Modality": "CT"}})
    assert local.summary.series >= len(lines)


class _SlowJobClient(EstimatingClient):
    """Real jobs, reported as still running once, so that the engine waits on them."""

    def __init__(self, client: bigquery.Client) -> None:
        super().__init__(client, estimate=0)
        self.cancelled: list[str] = []

    def query(self, sql: str, job_config: Any = None, **kwargs: Any) -> Any:
        job = super().query(sql, job_config=job_config, **kwargs)
        if job_config is not None and not job_config.dry_run:
            real_cancel = job.cancel
            job.done = lambda *a, **k: False

            def cancel(*args: Any, **kw: Any) -> Any:
                self.cancelled.append(job.job_id)
                return real_cancel(*args, **kw)

            job.cancel = cancel
        return job


def test_ctrl_c_cancels_the_running_job(
    bq_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(bq_emulator.endpoint)
    client = _SlowJobClient(bq_emulator.client())
    engine._client = client

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("idc_sql.engines.bigquery.time.sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        idc_sql.run(idc_sql.parse_spec(SPEC), engine)
    assert len(client.cancelled) == 1


class _SlowToFinish(EstimatingClient):
    """Real jobs that say they are still running the first two times they are asked."""

    def query(self, sql: str, job_config: Any = None, **kwargs: Any) -> Any:
        job = super().query(sql, job_config=job_config, **kwargs)
        if job_config is not None and not job_config.dry_run:
            asked = [0]
            real_done = job.done

            def done(*args: Any, **kw: Any) -> bool:
                asked[0] += 1
                return asked[0] > 2 and bool(real_done(*args, **kw))

            job.done = done
        return job


def test_progress_reaches_the_reporter_and_nothing_is_printed(
    bq_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("idc_sql.engines.bigquery.PROGRESS_AFTER", -1.0)  # show it at once
    monkeypatch.setattr("idc_sql.engines.bigquery.time.sleep", lambda seconds: None)
    notices: list[Notice] = []
    engine = BigQueryEngine(
        Settings.resolve(project="idc-sql-tests", endpoint=bq_emulator.endpoint, deadline=10),
        report=notices.append,
    )
    engine._client = _SlowToFinish(bq_emulator.client(), estimate=10**9)
    result = idc_sql.run(idc_sql.parse_spec(SPEC), engine)
    assert result.summary.series > 0
    kinds = [n.kind for n in notices]
    assert kinds == ["estimate", "progress", "progress", "progress_done"]
    assert render(notices[1].pieces).startswith("BigQuery job ")
    assert capsys.readouterr() == ("", "")
