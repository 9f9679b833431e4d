"""A refresh interrupted at any point (``kill -9`` after each step or at random moments, an
exception at each write) leaves the previous snapshot and the history as they were, and the next
refresh ends in the same state as an uninterrupted one. Two refreshes of one state at once
never interleave."""

from __future__ import annotations

import itertools
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from refresh_support import state_signature

import idc_sql
from idc_sql.cli import main
from idc_sql.errors import OutputError
from idc_sql.history import refresh as refresh_module

SPEC = {"name": "ohsu", "where": {"collection_id": "htan_ohsu"}}
#: where a refresh can be stopped: after each file, then after its history line
STEPS = (*refresh_module.FILES, refresh_module.SUMMARY, "history")
#: a refresh killed after its step k (the argument), in a process of its own
KILLED_AT = """
import os, signal, sys
from idc_sql.history import refresh
def stop(step):
    if step == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)
refresh._checkpoint = stop
from idc_sql.cli import main
sys.exit(main(["refresh", sys.argv[2], "--state", sys.argv[3]]))
"""


class Case:
    """A spec, a state made at v24 to copy, and the state an uninterrupted refresh at v25
    leaves (reduced by :func:`state_signature`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spec = root / "ohsu.yaml"
        self.spec.write_text(yaml.safe_dump(SPEC))
        self.template = root / "template"
        self.copies = itertools.count()
        idc_sql.refresh(str(self.spec), self.template, idc_version=24)
        self.before = state_signature(self.template)
        reference = self.copy("reference")
        start = time.monotonic()
        done = self.cli(reference)
        self.seconds = time.monotonic() - start  # how long a refresh runs, to kill it within
        assert done.returncode == 3, done.stderr
        self.after = state_signature(reference)
        assert len(self.after["history"]) == len(self.before["history"]) + 1

    def copy(self, name: str | None = None) -> Path:
        """A copy of the v24 state, to refresh."""
        target = self.root / (name or f"state{next(self.copies)}")
        shutil.copytree(self.template, target)
        return target

    def cli(self, state: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "idc_sql.cli", "refresh", str(self.spec), "--state", str(state)],
            capture_output=True,
            text=True,
            check=False,
        )

    def intact(self, state: Path) -> None:
        """The previous snapshot and the history are as they were (leftovers aside)."""
        now = state_signature(state)
        assert now["history"] == self.before["history"]
        assert now["files"] == self.before["files"]

    def finish(self, state: Path, capsys: pytest.CaptureFixture[str], expect: int) -> None:
        """The next refresh completes the work: the state an uninterrupted one leaves."""
        code = main(["refresh", str(self.spec), "--state", str(state)])
        out = capsys.readouterr().out
        assert code == expect, out
        assert state_signature(state) == self.after


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return Case(tmp_path_factory.mktemp("crash"))


@pytest.mark.parametrize("step", STEPS)
def test_killed_after_each_step(case: Case, step: str, capsys: pytest.CaptureFixture[str]) -> None:
    state = case.copy()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT, step, str(case.spec), str(state)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if step == "history":  # killed after its commit: the change is recorded, nothing is left
        assert state_signature(state) == case.after
        case.finish(state, capsys, expect=0)
        return
    case.intact(state)
    assert state_signature(state)["stray"]  # what it wrote is there, and not recorded
    case.finish(state, capsys, expect=3)


def test_killed_at_random_moments(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(20250611)
    for _ in range(5):
        state = case.copy()
        process = subprocess.Popen(
            [sys.executable, "-m", "idc_sql.cli", "refresh", str(case.spec), "--state", str(state)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.0, case.seconds * 1.1))
        process.kill()
        code = process.wait()
        recorded = state_signature(state)["history"]
        if recorded == case.before["history"]:  # killed before its commit
            case.intact(state)
            case.finish(state, capsys, expect=3)
        else:  # it had committed (or finished)
            assert code in (-signal.SIGKILL, 3)
            case.finish(state, capsys, expect=0)


@pytest.mark.parametrize("step", STEPS)
def test_an_exception_after_each_step(
    case: Case, step: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = case.copy()

    def fail(at: str) -> None:
        if at == step:
            raise RuntimeError(f"injected after {at}")

    monkeypatch.setattr(refresh_module, "_checkpoint", fail)
    with pytest.raises(RuntimeError, match="injected"):
        main(["refresh", str(case.spec), "--state", str(state)])
    monkeypatch.undo()
    if step == "history":
        case.finish(state, capsys, expect=0)
        return
    case.intact(state)
    case.finish(state, capsys, expect=3)


@pytest.mark.parametrize("write", range(len(STEPS)))
def test_a_failure_inside_each_write(
    case: Case, write: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The k-th file fails as it is put in place (e.g. the disk is full)."""
    from idc_sql.outputs import atomic

    state = case.copy()
    calls: list[Any] = []
    commit = atomic._commit

    def failing(*args: Any) -> None:
        calls.append(args)
        if len(calls) == write + 1:
            raise OutputError("cannot write it: injected")
        commit(*args)

    monkeypatch.setattr(atomic, "_commit", failing)
    code = main(["refresh", str(case.spec), "--state", str(state)])
    monkeypatch.undo()
    assert code == 1
    assert "injected" in capsys.readouterr().err
    case.intact(state)
    assert not [s for s in state_signature(state)["stray"] if ".part" in s]
    case.finish(state, capsys, expect=3)


def test_two_refreshes_at_once_do_not_interleave(case: Case) -> None:
    state = case.copy()
    command = [sys.executable, "-m", "idc_sql.cli", "refresh", str(case.spec), "--state"]
    processes = [
        subprocess.Popen(
            [*command, str(state), "--wait", "300"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    done = [(p.wait(), *p.communicate()) for p in processes]
    # one recorded the change; the other waited for it, then found nothing new
    assert sorted(code for code, _, _ in done) == [0, 3], done
    assert state_signature(state) == case.after


def test_what_an_interrupted_refresh_left_is_swept(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed while writing a v25 snapshot, then refreshed at v24 (nothing changed since the
    v24 snapshot): the unrecorded v25 folder goes, and nothing else is written."""
    state = case.copy()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT, "fetch.s5cmd", str(case.spec), str(state)],
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert state_signature(state)["stray"]
    code = main(["refresh", str(case.spec), "--state", str(state), "--idc-version", "24"])
    assert code == 0
    assert "unchanged at IDC v24" in capsys.readouterr().out
    assert state_signature(state) == case.before
