"""The scheduling examples of docs/refresh.md: systemd units that systemd accepts, the CI
workflow's refresh step run as the workflow runs it, the Airflow task's callable run against a
real state (tests/s3/test_refresh_download.py runs the script and the cron line)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
SITE = "/srv/cohorts"
SPEC = {"name": "kich-sm", "where": {"collection_id": "tcga_kich", "Modality": "SM"}}


def test_the_docs_show_the_example_files_as_they_are() -> None:
    """Every example the page quotes is the file's content (less its opening comments)."""
    page = (ROOT / "docs" / "refresh.md").read_text()
    blocks = re.findall(r"```(?:ini|yaml|python)\n(.*?)```", page, re.S)
    for name in ("idc-sql-refresh.service", "idc-sql-refresh.timer", "refresh-cohorts.yml"):
        body = [
            line
            for line in (EXAMPLES / name).read_text().splitlines()
            if not line.startswith("#") and "SuccessExitStatus" not in line
        ]
        shown = [b for b in blocks if body[1] in b]
        assert shown, name
        assert [line for line in shown[0].splitlines() if not line.startswith("#")] == [
            line for line in body if not line.startswith("#")
        ], name
    dag = (EXAMPLES / "airflow_refresh_dag.py").read_text()
    (quoted,) = [b for b in blocks if "def refresh_cohorts" in b]
    assert quoted in dag


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(EXAMPLES / "refresh-cohorts.sh", site)
    for name in ("idc-sql-refresh.service", "idc-sql-refresh.timer"):
        text = (EXAMPLES / name).read_text().replace(SITE, str(site))
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "idc-sql-refresh.service", "idc-sql-refresh.timer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", "Mon *-*-* 04:30:00"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert calendar.returncode == 0


def test_the_ci_workflow_refresh_step(tmp_path: Path) -> None:
    workflow = yaml.safe_load((EXAMPLES / "refresh-cohorts.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    (schedule,) = triggers["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert workflow["concurrency"]["cancel-in-progress"] is False
    steps = workflow["jobs"]["refresh"]["steps"]
    (step,) = [s for s in steps if s.get("id") == "refresh"]
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "kich-sm.yaml").write_text(yaml.safe_dump(SPEC))
    output = tmp_path / "github-output"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
    }

    def run_step() -> subprocess.CompletedProcess[str]:
        # GitHub runs a `run:` script with bash -e
        return subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    first = run_step()
    assert first.returncode == 0, first.stderr
    assert output.read_text() == "changed=true\n"
    assert list((tmp_path / "state" / "kich-sm").glob("001-v25-*/fetch.s5cmd"))
    second = run_step()
    assert second.returncode == 0, second.stderr
    assert output.read_text() == "changed=true\nchanged=false\n"
    (tmp_path / "specs" / "broken.yaml").write_text("name: [")
    third = run_step()
    assert third.returncode == 2  # a failure fails the job


class _Operator:
    """What the DAG file uses of Airflow's operators."""

    def __init__(self, task_id: str, **kwargs: Any) -> None:
        self.task_id = task_id
        self.kwargs = kwargs
        self.downstream: list[_Operator] = []
        _Dag.current.tasks.append(self)

    def __rshift__(self, other: _Operator) -> _Operator:
        self.downstream.append(other)
        return other


class _Dag:
    current: _Dag

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.tasks: list[_Operator] = []

    def __enter__(self) -> _Dag:
        _Dag.current = self
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_the_airflow_task_refreshes_with_the_python_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow itself is not installed here: its DAG and operators are stood in for by the
    little the DAG file uses of them; the task's callable and its template are the real ones."""
    airflow = types.ModuleType("airflow")
    airflow.DAG = _Dag  # type: ignore[attr-defined]
    operators = types.ModuleType("airflow.operators")
    python = types.ModuleType("airflow.operators.python")
    python.PythonOperator = _Operator  # type: ignore[attr-defined]
    bash = types.ModuleType("airflow.operators.bash")
    bash.BashOperator = _Operator  # type: ignore[attr-defined]
    for name, module in {
        "airflow": airflow,
        "airflow.operators": operators,
        "airflow.operators.python": python,
        "airflow.operators.bash": bash,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "kich-sm.yaml").write_text(yaml.safe_dump(SPEC))
    for name, value in (("COHORTS", specs), ("STATE", tmp_path / "state")):
        monkeypatch.setenv(f"IDC_{name}", str(value))
    monkeypatch.setenv("IDC_DATA", str(tmp_path / "data"))

    loaded = importlib.util.spec_from_file_location("dag", EXAMPLES / "airflow_refresh_dag.py")
    assert loaded is not None
    assert loaded.loader is not None
    dag_module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(dag_module)
    dag = dag_module.dag
    assert dag.kwargs["max_active_runs"] == 1
    refresh, download = dag.tasks
    assert (refresh.task_id, download.task_id) == ("refresh", "download")
    assert refresh.downstream == [download]

    manifests = refresh.kwargs["python_callable"]()
    (manifest,) = manifests
    assert Path(manifest).is_file()
    assert "kich-sm/001-v25-" in manifest
    assert refresh.kwargs["python_callable"]() == []  # unchanged: nothing to download

    class TaskInstance:
        def xcom_pull(self, task_ids: str) -> list[str]:
            assert task_ids == "refresh"
            return manifests

    command = jinja2.Template(download.kwargs["bash_command"]).render(
        ti=TaskInstance(), params=download.kwargs["params"]
    )
    assert command == (
        f"set -e; mkdir -p {tmp_path / 'data'}; cd {tmp_path / 'data'}; "
        f"s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run {manifest}; true"
    )
