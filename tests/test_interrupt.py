"""Ctrl-C at any moment of a run: ``idc-sql: interrupted`` on standard error, status 130, no
traceback, and no file left behind (the output, its private folder) or touched.

A real ``idc-sql run`` of a large cohort is interrupted while it loads, while its query runs
and while it writes its output (its private folder exists); each moment is found by watching
the process, not by timing it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("idc-sql")
#: about 739,000 series: long enough to be caught in each step
LARGE = "name: large\nwhere:\n  Modality: [CT, MR, SM, PT, SEG, DX, CR, MG]\n"
OLD = b"an earlier manifest\n"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/maps").exists(), reason="watches the process through /proc"
)


def _loaded(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")
    except OSError:
        return False


def _wait(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """Wait until ``ready()`` holds (True) or the process ended (False)."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            return True
        time.sleep(0.002)
    return False


def ctrl_c_as_from_a_terminal() -> None:
    """In the child before it runs the command: SIGINT at its default, as a terminal's
    foreground process has it (a test run started in the background by a shell inherits it
    ignored, and an ignored Ctrl-C stays ignored, as it should)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(folder: Path, args: list[str], ready: Callable[[int], bool]) -> tuple[int, str]:
    process = subprocess.Popen(
        [str(SCRIPT), *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_as_from_a_terminal,
    )
    reached = _wait(process, lambda: ready(process.pid))
    assert reached, process.communicate()[1].decode()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    return process.returncode, err.decode()


def _writing(folder: Path) -> Callable[[int], bool]:
    """The output's private folder exists: the query that writes the file runs."""
    return lambda pid: any(p.name.endswith(".part") for p in folder.iterdir())


def _after(folder: Path, delay: float) -> Callable[[int], bool]:
    """``delay`` seconds after the output's private folder appeared."""
    started: list[float] = []

    def ready(pid: int) -> bool:
        if not started and _writing(folder)(pid):
            started.append(time.monotonic())
        return bool(started) and time.monotonic() - started[0] >= delay

    return ready


MOMENTS: dict[str, Callable[[Path], Callable[[int], bool]]] = {
    "loading": lambda folder: lambda pid: _loaded(pid, "pydantic_core"),
    "querying": lambda folder: lambda pid: _loaded(pid, "duckdb"),
    "writing": _writing,
}


@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("output", ["large.parquet", "large.s5cmd"])
def test_ctrl_c_while_running_leaves_nothing(moment: str, output: str, tmp_path: Path) -> None:
    (tmp_path / "large.yaml").write_text(LARGE, encoding="utf-8")
    (tmp_path / output).write_bytes(OLD)
    code, err = _interrupt(tmp_path, ["run", "large.yaml", "-o", output], MOMENTS[moment](tmp_path))
    assert (code, err) == (130, "idc-sql: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["large.yaml", output])
    assert (tmp_path / output).read_bytes() == OLD


def test_ctrl_c_a_little_later_each_time(tmp_path: Path) -> None:
    """Once writing, a signal at a few later moments: interrupted, or (the run over) done."""
    (tmp_path / "large.yaml").write_text(LARGE, encoding="utf-8")
    outcomes = []
    for delay in (0.05, 0.2, 0.5):
        code, err = _interrupt(
            tmp_path, ["run", "large.yaml", "-o", "large.parquet"], _after(tmp_path, delay)
        )
        names = sorted(p.name for p in tmp_path.iterdir())
        if code == 0:  # finished before the signal came: the whole file, nothing else
            assert names == ["large.parquet", "large.yaml"]
            (tmp_path / "large.parquet").unlink()
        else:
            assert (code, err, names) == (130, "idc-sql: interrupted\n", ["large.yaml"])
        outcomes.append(code)
    assert 130 in outcomes


def test_ctrl_c_while_counting(tmp_path: Path) -> None:
    (tmp_path / "large.yaml").write_text(LARGE, encoding="utf-8")
    code, err = _interrupt(tmp_path, ["count", "large.yaml"], MOMENTS["querying"](tmp_path))
    assert (code, err) == (130, "idc-sql: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.yaml"]
