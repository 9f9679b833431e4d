"""A local BigQuery API for tests: bqemulator 1.4.0 in a virtual environment of its own.

The emulator pins old versions of its dependencies and registers a pytest plugin, so it never goes
into the project's environment. It lives under ``<repo>/.cache/bqemulator``: ``venv`` (the
interpreter and packages), ``home`` (its ``$HOME``, where DuckDB keeps the pre-installed spatial
extension, so that start-up needs no network). Data lives in the emulator's memory only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import requests
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "bqemulator"
VENV_DIR = CACHE_DIR / "venv"
HOME_DIR = CACHE_DIR / "home"
STAMP_FILE = CACHE_DIR / "installed.stamp"
LOCK_FILE = CACHE_DIR / ".lock"

REQUIREMENTS = (
    "bqemulator==1.4.0",
    "duckdb==1.5.5",
    "duckdb-extension-spatial==1.5.5",
    "numpy",  # needed by bqemulator at run time, not declared by it
)

_PIP_INSTALL = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")

# Runs inside the emulator's venv: installs the spatial extension from the wheel's file, because
# the emulator runs INSTALL spatial at start-up, which would otherwise download it.
_INSTALL_SPATIAL = """
import pathlib, duckdb, duckdb_extension_spatial as m
ext = pathlib.Path(m.__file__).parent / "extensions" / ("v" + duckdb.__version__)
duckdb.connect().execute("INSTALL '%s'" % (ext / "spatial.duckdb_extension"))
"""

# Without a short deadline, an HTTP 500 from the emulator makes the client retry for 600 s.
FAST_RETRY = bigquery.DEFAULT_RETRY.with_deadline(10)

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
STOP_GRACE_S = 5.0
LOG_TAIL_BYTES = 4000
PORT_ATTEMPTS = 3  # another process may take a free port before the emulator binds it
PORT_IN_USE = "address already in use"


class EmulatorError(RuntimeError):
    """The emulator could not be installed, started or reached."""


def run_query(
    client: bigquery.Client,
    sql: str,
    parameters: Sequence[bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter] = (),
) -> list[bigquery.Row]:
    """Run ``sql`` and return every row, failing fast instead of retrying for minutes.

    ``query(...).result()`` rather than ``query_and_wait``, which returns no rows on errors.
    """
    job_config = bigquery.QueryJobConfig(query_parameters=list(parameters))
    job = client.query(sql, job_config=job_config, retry=FAST_RETRY, job_retry=None)
    return list(job.result(retry=FAST_RETRY))


def ensure_emulator_venv() -> Path:
    """Install bqemulator in its own venv under ``.cache/bqemulator`` unless already done.

    Returns the path of the ``bqemulator`` executable. The stamp file, which records the pinned
    requirements, is written last: an install that was interrupted, or whose pins changed, is
    redone from scratch.
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with _locked(LOCK_FILE):
        if not _stamp_is_current():
            _install_from_scratch()
    return VENV_DIR / "bin" / "bqemulator"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise installs between concurrent test sessions."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stamp_text() -> str:
    return "\n".join(REQUIREMENTS) + "\n"


def _stamp_is_current() -> bool:
    return STAMP_FILE.is_file() and STAMP_FILE.read_text() == _stamp_text()


def _install_from_scratch() -> None:
    STAMP_FILE.unlink(missing_ok=True)
    shutil.rmtree(VENV_DIR, ignore_errors=True)
    shutil.rmtree(HOME_DIR, ignore_errors=True)
    HOME_DIR.mkdir(parents=True)
    python = VENV_DIR / "bin" / "python"
    _run([sys.executable, "-m", "venv", str(VENV_DIR)])
    _run([str(python), *_PIP_INSTALL, *REQUIREMENTS])
    _run([str(python), "-c", _INSTALL_SPATIAL], env=_emulator_env())
    STAMP_FILE.write_text(_stamp_text())


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-LOG_TAIL_BYTES:]
        raise EmulatorError(f"{command[:3]} failed with exit code {result.returncode}:\n{output}")


def _emulator_env() -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(HOME_DIR)
    env["BQEMU_ENABLE_FORMAT_EXTENSIONS"] = "false"
    return env


def _free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now (all held open together, so they differ)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


class Emulator:
    """One ``bqemulator start`` process on 127.0.0.1, used as a context manager, e.g.
    ``with Emulator() as emulator: run_query(emulator.client(), "SELECT 1 AS one")``.
    """

    def __init__(
        self,
        *,
        project: str = "test-project",
        startup_timeout: float = STARTUP_TIMEOUT_S,
        stop_grace: float = STOP_GRACE_S,
    ) -> None:
        self.project = project
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.rest_port = 0  # chosen by start()
        self.grpc_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """Base URL of the REST API, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{HOST}:{self.rest_port}"

    @property
    def grpc_endpoint(self) -> str:
        """``host:port`` of the gRPC (Storage Read API) server."""
        return f"{HOST}:{self.grpc_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Emulator:
        """Start the process on free ports and wait until ``/healthz`` answers."""
        if self._process is not None:
            raise EmulatorError("emulator already started")
        executable = ensure_emulator_venv()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self._launch(executable)
            try:
                self._wait_healthy()
                return self
            except EmulatorError:
                lost_port_race = PORT_IN_USE in self.log_tail()
                self.stop()
                self._process = None
                if not lost_port_race or attempt == PORT_ATTEMPTS:
                    raise
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _launch(self, executable: Path) -> None:
        self.rest_port, self.grpc_port = _free_ports(2)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open while the process runs
        self._process = subprocess.Popen(
            [str(executable), "start", *self._options()],
            env=_emulator_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, signalled as a whole
        )

    def _options(self) -> list[str]:
        return [
            *("--rest-host", HOST, "--rest-port", str(self.rest_port)),
            *("--grpc-host", HOST, "--grpc-port", str(self.grpc_port)),
            *("--project", self.project, "--log-level", "warning"),
        ]

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise EmulatorError(f"bqemulator exited during start-up:\n{self.log_tail()}")
            if self._healthz_answers():
                return
            time.sleep(0.1)
        raise EmulatorError(
            f"bqemulator did not answer {self.endpoint}/healthz within "
            f"{self.startup_timeout:.0f} s:\n{self.log_tail()}"
        )

    def _healthz_answers(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.endpoint}/healthz", timeout=1.0) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self) -> str:
        """The last few kilobytes the emulator wrote to stdout and stderr."""
        if self._log is None:
            return ""
        self._log.flush()
        size = self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, size - LOG_TAIL_BYTES))
        return self._log.read().decode(errors="replace")

    def client(self, project: str = "idc-sql-tests") -> bigquery.Client:
        """An official BigQuery client talking to this emulator, never through a proxy."""
        session = requests.Session()
        session.trust_env = False  # ignore HTTP(S)_PROXY: only 127.0.0.1 is ever reached
        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=self.endpoint),
            _http=session,
        )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period (SIGTERM has been seen to hang)."""
        if self.running:
            self._signal(signal.SIGTERM)
            try:
                self._wait(self.stop_grace)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def kill(self) -> None:
        """SIGKILL at once, e.g. to test what callers do when the service dies mid-session."""
        if self.running:
            self._signal(signal.SIGKILL)
            self._wait(self.stop_grace)

    def _signal(self, signum: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)  # its own session: the group is ours alone

    def _wait(self, timeout: float) -> None:
        assert self._process is not None
        self._process.wait(timeout=timeout)

    def _close_log(self) -> None:
        if self._log is not None and not self.running:
            self._log.close()
            self._log = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
