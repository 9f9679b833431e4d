"""Outputs: what an output path may name, atomic replacement, signals, stale private folders,
and standard output that is closed, full or broken.

Path checks run as root and as an ordinary user: as root the suite drops to ``nobody`` in a
forked child (the interpreter may live where ``nobody`` cannot start it again); run as an
ordinary user it tests that user and skips root's cases. Processes that are signalled or read
from run as the suite's own user, in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idc_sql.errors import OutputError, UsageError
from idc_sql.outputs import (
    BrokenPipe,
    OutputTarget,
    StdoutError,
    Terminated,
    atomic_output,
    check_output,
    copy_to_stdout,
    header_safe,
)

REPO = Path(__file__).resolve().parent.parent
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
}
OLD = b"the output as it was\n"
NEW = b"the output as written\n"
PART = re.compile(r"\..*\.[0-9a-f]{16}\.part")


# ---------------------------------------------------------------------------------------------
# who runs, and where


def _nobody() -> tuple[int, int] | None:
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


@pytest.fixture(params=["root", "user"])
def who(request: pytest.FixtureRequest) -> str:
    if request.param == "root" and os.geteuid() != 0:
        pytest.skip("root's case: the suite runs as an ordinary user")
    if request.param == "user" and os.geteuid() == 0 and _nobody() is None:
        pytest.skip("no user 'nobody' to drop root's privileges to")
    return str(request.param)


def _runner_ids(who: str) -> tuple[int, int]:
    """The user and group the child runs as."""
    if who == "user" and os.geteuid() == 0:
        ids = _nobody()
        assert ids is not None
        return ids
    return os.geteuid(), os.getegid()


@pytest.fixture
def folders(who: str) -> Iterator[Callable[[], Path]]:
    """Make folders owned by the child's user, in a place every user can reach."""
    made: list[Path] = []
    uid, gid = _runner_ids(who)

    def make() -> Path:
        folder = Path(tempfile.mkdtemp(prefix="outputs-"))
        made.append(folder)
        closed = any(not p.stat().st_mode & stat.S_IXOTH for p in folder.parents)
        if closed and uid != os.geteuid():
            pytest.skip(f"{folder.parent} cannot be reached by other users")
        os.chmod(folder, 0o755)
        os.chown(folder, uid, gid)
        return folder

    yield make
    for folder in made:
        os.chmod(folder, 0o700)
        for inner in folder.iterdir():
            if inner.is_dir() and not inner.is_symlink():
                os.chmod(inner, 0o700)
        shutil.rmtree(folder, ignore_errors=True)


def _as(who: str, func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)`` in a forked child running as ``who``; its result, through JSON."""
    uid, gid = _runner_ids(who)
    read, write = os.pipe()
    with warnings.catch_warnings():
        # the child runs only this module's code and the standard library: no lock another
        # thread might hold (newer Pythons warn about forking a process that has threads)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never return into the test runner
        code = 0
        try:
            os.close(read)
            if uid != os.geteuid():
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            with os.fdopen(write, "wb") as out:
                out.write(json.dumps(func(*args)).encode())
        except BaseException:
            traceback.print_exc()
            code = 70
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as result:
        data = result.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child failed; see its traceback"
    return json.loads(data)


def _attempt(path: str) -> dict[str, Any]:
    """What a command does with ``-o path``: check it, then write it."""
    answer: dict[str, Any] = {"uid": os.geteuid()}
    try:
        target = check_output(path)
    except UsageError as e:
        return {**answer, "refused": str(e), "exit": e.exit_code}
    with atomic_output(target) as tmp:
        tmp.write_bytes(NEW)
    return {**answer, "written": str(target.path)}


def _attempt_as(who: str, path: Path | str) -> dict[str, Any]:
    answer: dict[str, Any] = _as(who, _attempt, str(path))
    assert answer.pop("uid") == _runner_ids(who)[0]
    return answer


def _entry(path: Path) -> tuple[Any, ...]:
    s = os.lstat(path)
    key: tuple[Any, ...] = (
        s.st_mode, s.st_ino, s.st_dev, s.st_rdev, s.st_nlink, s.st_uid, s.st_gid, s.st_size,
        s.st_mtime_ns, s.st_ctime_ns,
    )  # fmt: skip
    if stat.S_ISLNK(s.st_mode):
        key += (os.readlink(path),)
    elif stat.S_ISREG(s.st_mode):
        key += (path.read_bytes(),)
    return key


def _snapshot(folder: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry of ``folder``, and the folder itself, as lstat and content show them."""
    return {".": _entry(folder), **{p.name: _entry(p) for p in folder.iterdir()}}


# ---------------------------------------------------------------------------------------------
# what may not be written: refused before anything runs, and left exactly as it was


def _device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    os.chmod(path, 0o666)


def _fifo(path: Path) -> None:
    os.mkfifo(path, 0o666)
    os.chmod(path, 0o666)


def _socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
    os.chmod(path, 0o666)


def _directory(path: Path) -> None:
    path.mkdir()
    os.chmod(path, 0o777)


NODES: dict[str, tuple[Callable[[Path], None], str]] = {
    "device": (_device, "a character device"),
    "fifo": (_fifo, "a FIFO"),
    "socket": (_socket, "a socket"),
    "directory": (_directory, "a directory"),
}


def _assert_refused(answer: dict[str, Any], shown: str, *words: str) -> str:
    assert "written" not in answer, answer
    message = str(answer["refused"])
    assert answer["exit"] == 2
    assert len(message.splitlines()) == 1
    assert message.startswith(f"cannot write {shown}: ")
    for word in words:
        assert word in message
    return message


@pytest.mark.parametrize("kind", NODES)
def test_a_node_is_refused_and_left_as_it_is(
    kind: str, who: str, folders: Callable[[], Path]
) -> None:
    folder = folders()
    make, named = NODES[kind]
    node = folder / f"out-{kind}"
    make(node)
    before = _snapshot(folder)
    answer = _attempt_as(who, node)
    _assert_refused(answer, str(node), f"it is {named}", "regular file", "- for standard output")
    assert _snapshot(folder) == before


@pytest.mark.parametrize("kind", NODES)
def test_a_symlink_to_a_node_is_refused_and_both_left_as_they_are(
    kind: str, who: str, folders: Callable[[], Path]
) -> None:
    here, there = folders(), folders()
    make, named = NODES[kind]
    make(there / "node")
    (here / "out.s5cmd").symlink_to(there / "node")
    before = _snapshot(here), _snapshot(there)
    answer = _attempt_as(who, here / "out.s5cmd")
    _assert_refused(answer, str(here / "out.s5cmd"), "symlink to", named, "regular file")
    assert (_snapshot(here), _snapshot(there)) == before


def test_a_dangling_symlink_is_refused_and_nothing_is_created(
    who: str, folders: Callable[[], Path]
) -> None:
    # written through, it would create a file wherever the link points: refused instead
    here, there = folders(), folders()
    (here / "out.s5cmd").symlink_to(there / "missing.s5cmd")
    before = _snapshot(here), _snapshot(there)
    answer = _attempt_as(who, here / "out.s5cmd")
    _assert_refused(answer, str(here / "out.s5cmd"), "does not exist")
    assert (_snapshot(here), _snapshot(there)) == before


def test_a_symlink_loop_is_refused(who: str, folders: Callable[[], Path]) -> None:
    here = folders()
    (here / "a").symlink_to("b")
    (here / "b").symlink_to("a")
    before = _snapshot(here)
    _assert_refused(_attempt_as(who, here / "a"), str(here / "a"), "loops")
    assert _snapshot(here) == before


def test_a_symlink_is_written_through_to_its_regular_file(
    who: str, folders: Callable[[], Path]
) -> None:
    here, there = folders(), folders()
    uid, gid = _runner_ids(who)
    final = there / "cohort.s5cmd"
    final.write_bytes(OLD)
    os.chown(final, uid, gid)
    os.chmod(final, 0o640)
    (here / "second").symlink_to(final)
    (here / "out.s5cmd").symlink_to("second")  # a chain, the last hop relative
    before = _snapshot(here)
    answer = _attempt_as(who, here / "out.s5cmd")
    assert answer == {"written": str(final)}
    assert _snapshot(here) == before  # the links are still links, pointing where they did
    assert [p.name for p in there.iterdir()] == ["cohort.s5cmd"]
    assert final.read_bytes() == NEW
    s = final.stat()
    assert (stat.S_IMODE(s.st_mode), s.st_uid, s.st_gid) == (0o640, uid, gid)


def test_a_regular_file_is_replaced_keeping_its_mode(who: str, folders: Callable[[], Path]) -> None:
    folder = folders()
    uid, gid = _runner_ids(who)
    out = folder / "cohort.csv"
    out.write_bytes(OLD)
    os.chown(out, uid, gid)
    os.chmod(out, 0o604)
    inode = out.stat().st_ino
    assert _attempt_as(who, out) == {"written": str(out)}
    assert [p.name for p in folder.iterdir()] == ["cohort.csv"]
    assert out.read_bytes() == NEW
    s = out.stat()
    assert s.st_ino != inode  # a new file, renamed into place
    assert (stat.S_IMODE(s.st_mode), s.st_uid, s.st_gid) == (0o604, uid, gid)


def test_a_new_file_is_created_and_nothing_else(who: str, folders: Callable[[], Path]) -> None:
    folder = folders()
    assert _attempt_as(who, folder / "new.s5cmd") == {"written": str(folder / "new.s5cmd")}
    assert [p.name for p in folder.iterdir()] == ["new.s5cmd"]
    assert (folder / "new.s5cmd").read_bytes() == NEW


def test_a_read_only_file_is_refused_for_everyone(who: str, folders: Callable[[], Path]) -> None:
    # root may write any file, but a file without a write bit says it is not to be replaced
    folder = folders()
    out = folder / "kept.s5cmd"
    out.write_bytes(OLD)
    os.chown(out, *_runner_ids(who))
    os.chmod(out, 0o444)
    before = _snapshot(folder)
    _assert_refused(_attempt_as(who, out), str(out), "read-only")
    assert _snapshot(folder) == before


def test_a_file_of_another_user_that_the_user_may_not_write_is_refused(
    who: str, folders: Callable[[], Path]
) -> None:
    if _runner_ids(who)[0] == 0:
        pytest.skip("root may write every file that has a write bit")
    if os.geteuid() != 0:
        pytest.skip("needs root to make a file of another user")
    folder = folders()
    out = folder / "theirs.s5cmd"
    out.write_bytes(OLD)
    os.chown(out, 0, 0)
    os.chmod(out, 0o644)
    before = _snapshot(folder)
    _assert_refused(_attempt_as(who, out), str(out), "read-only")
    assert _snapshot(folder) == before


def test_a_folder_the_user_may_not_write_in_is_refused(
    who: str, folders: Callable[[], Path]
) -> None:
    if _runner_ids(who)[0] == 0:
        pytest.skip("root may write in every folder of a writable file system")
    folder = folders()
    closed = folder / "closed"
    closed.mkdir()
    os.chown(closed, *_runner_ids(who))
    os.chmod(closed, 0o555)
    before = _snapshot(closed)
    answer = _attempt_as(who, closed / "out.s5cmd")
    _assert_refused(answer, str(closed / "out.s5cmd"), "no permission to write in the folder")
    assert _snapshot(closed) == before


def test_a_missing_folder_is_refused(who: str, folders: Callable[[], Path]) -> None:
    folder = folders()
    before = _snapshot(folder)
    answer = _attempt_as(who, folder / "missing" / "out.s5cmd")
    _assert_refused(answer, str(folder / "missing" / "out.s5cmd"), "does not exist")
    assert _snapshot(folder) == before


@pytest.mark.parametrize("name", ["sub/", ".", "..", "sub/."])
def test_a_path_naming_a_folder_is_refused(name: str, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(UsageError, match=r"names a folder|is a directory"):
        check_output(str(tmp_path / name) if name != "sub/" else f"{tmp_path}/sub/")


@pytest.mark.parametrize("path", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_a_process_stream_is_refused(path: str) -> None:
    if not os.path.exists("/proc/self/fd"):
        pytest.skip("no /proc on this system")
    with pytest.raises(UsageError, match="open file or stream of a process"):
        check_output(path)


def test_the_empty_path_and_a_nul_are_refused() -> None:
    with pytest.raises(UsageError, match="empty"):
        check_output("")
    with pytest.raises(UsageError, match="NUL"):
        check_output("a\0b")


def test_standard_output_is_dash(tmp_path: Path) -> None:
    assert check_output("-") == OutputTarget("-", None, True, "standard output")
    target = check_output(str(tmp_path / "m\nrm *\n.s5cmd"))
    assert target.shown == f"{tmp_path}/m\\nrm *\\n.s5cmd"
    assert target.path == tmp_path / "m\nrm *\n.s5cmd"
    assert not target.is_stdout


# ---------------------------------------------------------------------------------------------
# atomic writes, in this process


def test_an_exception_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_bytes(OLD)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    seen: list[Path] = []

    def fail() -> None:
        with atomic_output(check_output(str(out))) as tmp:
            seen.append(tmp)
            tmp.write_bytes(NEW)
            (tmp.parent / "side.tmp").write_bytes(b"a writer's own temporary file")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail()
    assert PART.fullmatch(seen[0].parent.name)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert out.read_bytes() == OLD
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


def test_handlers_are_installed_only_while_writing(tmp_path: Path) -> None:
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        pytest.skip("SIGTERM has a handler of the test runner's own")
    with atomic_output(check_output(str(tmp_path / "out"))) as tmp:
        assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
        tmp.write_bytes(NEW)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_writer_that_writes_nothing_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_bytes(OLD)
    with pytest.raises(OutputError, match="wrote nothing"), atomic_output(check_output(str(out))):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert out.read_bytes() == OLD


def test_an_output_that_changed_since_its_check_is_checked_again(tmp_path: Path) -> None:
    out = tmp_path / "out.s5cmd"
    out.write_bytes(OLD)
    target = check_output(str(out))
    out.unlink()
    os.mkfifo(out)
    with pytest.raises(UsageError, match="FIFO"), atomic_output(target) as tmp:
        tmp.write_bytes(NEW)
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out.s5cmd"]


def test_an_output_that_became_a_node_while_written_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out.s5cmd"
    out.write_bytes(OLD)

    def swap() -> None:
        with atomic_output(check_output(str(out))) as tmp:
            tmp.write_bytes(NEW)
            out.unlink()
            os.mkfifo(out)

    with pytest.raises(OutputError, match="became a FIFO"):
        swap()
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out.s5cmd"]


def test_a_replaced_file_keeps_its_owner(tmp_path: Path) -> None:
    ids = _nobody()
    if os.geteuid() != 0 or ids is None:
        pytest.skip("needs root, and a user 'nobody', to replace a file of another user")
    out = tmp_path / "theirs.csv"
    out.write_bytes(OLD)
    os.chown(out, *ids)
    with atomic_output(check_output(str(out))) as tmp:
        tmp.write_bytes(NEW)
    assert (out.stat().st_uid, out.stat().st_gid) == ids
    assert out.read_bytes() == NEW


def test_a_long_name_gets_a_pattern_that_fits(tmp_path: Path) -> None:
    name = "é" * 120 + ".s5cmd"  # 246 bytes: the pattern would be 269
    with atomic_output(check_output(str(tmp_path / name))) as tmp:
        assert len(os.fsencode(tmp.parent.name)) <= 255
        assert tmp.name == name
        tmp.write_bytes(NEW)
    assert [p.name for p in tmp_path.iterdir()] == [name]


# ---------------------------------------------------------------------------------------------
# signals, in a process of its own

WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from idc_sql.outputs import atomic_output, check_output

    out, fault = sys.argv[1], sys.argv[2]
    # a hangup as a terminal delivers it, whatever this test run inherited (under nohup, an
    # ignored SIGHUP is inherited, and stays ignored by design)
    signal.signal(signal.SIGHUP, signal.SIG_IGN if fault == "ignore-hup" else signal.SIG_DFL)
    # and a Ctrl-C as Python takes it from a terminal (a test run started in the background by a
    # shell inherits SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if fault in ("term-while-removing", "term-while-renaming"):
        # a SIGTERM that arrives in the middle of removing the private folder, or of
        # renaming the output into place
        patched = "unlink" if fault == "term-while-removing" else "replace"
        real = getattr(os, patched)

        def signalled(*args, **kwargs):
            setattr(os, patched, real)
            os.kill(os.getpid(), signal.SIGTERM)
            return real(*args, **kwargs)

        setattr(os, patched, signalled)
    target = check_output(out)
    try:
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"partial")
            (tmp.parent / "side").write_bytes(b"a writer's own file")
            print(tmp, flush=True)
            if fault == "term-while-removing":
                raise RuntimeError("the writer failed")
            if fault != "term-while-renaming":
                sys.stdin.read()  # until the test closes it, or signals
            tmp.write_bytes(b"written by " + str(os.getpid()).encode())
    except KeyboardInterrupt:
        sys.exit(130)
    except RuntimeError:
        sys.exit(3)
    """
)


def _start_writer(out: Path, fault: str = "none") -> tuple[subprocess.Popen[bytes], Path]:
    """A process writing ``out`` that waits, its private file made, until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out), fault],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert process.stdout is not None
    tmp = Path(process.stdout.readline().decode().rstrip("\n"))
    if not fault.startswith("term-while-"):  # those go on without waiting
        assert tmp.is_file(), process.stderr.read() if process.stderr else ""
    return process, tmp


def _end(process: subprocess.Popen[bytes], *, finish: bool = False) -> tuple[int, bytes]:
    """Wait for ``process`` (closing its stdin first if it is to finish): status, stderr."""
    assert process.stdin is not None
    assert process.stderr is not None
    if finish:
        process.stdin.close()
    try:
        code = process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        raise AssertionError("the writer did not end within 120 s") from None
    err = process.stderr.read()
    if not finish:
        process.stdin.close()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return code, err


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_signal_mid_write_removes_the_private_folder(
    signum: int, code: int, tmp_path: Path
) -> None:
    out = tmp_path / "cohort.s5cmd"
    out.write_bytes(OLD)
    process, tmp = _start_writer(out)
    assert PART.fullmatch(tmp.parent.name)
    os.kill(process.pid, signum)
    status, err = _end(process)
    assert (status, err) == (code, b"")
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.s5cmd"]
    assert out.read_bytes() == OLD


def test_terminated_is_a_system_exit_with_the_shell_status() -> None:
    assert issubclass(Terminated, SystemExit)
    e = Terminated(signal.SIGHUP)
    assert (e.signum, e.code, e.exit_code) == (signal.SIGHUP, 129, 129)


def test_an_ignored_hangup_stays_ignored(tmp_path: Path) -> None:
    # as under nohup: the write goes on and finishes
    out = tmp_path / "cohort.s5cmd"
    process, _ = _start_writer(out, "ignore-hup")
    os.kill(process.pid, signal.SIGHUP)
    status, err = _end(process, finish=True)
    assert (status, err) == (0, b"")
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.s5cmd"]
    assert out.read_bytes() == f"written by {process.pid}".encode()


def test_a_signal_while_the_private_folder_is_removed_waits_for_it(tmp_path: Path) -> None:
    out = tmp_path / "cohort.s5cmd"
    out.write_bytes(OLD)
    process, _ = _start_writer(out, "term-while-removing")
    status, err = _end(process)
    assert (status, err) == (143, b"")
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.s5cmd"]
    assert out.read_bytes() == OLD


def test_a_signal_while_the_output_is_renamed_waits_for_it(tmp_path: Path) -> None:
    out = tmp_path / "cohort.s5cmd"
    out.write_bytes(OLD)
    process, _ = _start_writer(out, "term-while-renaming")
    status, err = _end(process)
    assert (status, err) == (143, b"")
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.s5cmd"]
    assert out.read_bytes() == f"written by {process.pid}".encode()


# ---------------------------------------------------------------------------------------------
# private folders a killed process left


def _killed_writer(out: Path) -> Path:
    """The private folder a process writing ``out`` left when it was killed (-9)."""
    process, tmp = _start_writer(out)
    process.kill()
    status, _ = _end(process)
    assert status == -signal.SIGKILL
    assert tmp.is_file()
    return tmp.parent


def _write(out: Path) -> None:
    with atomic_output(check_output(str(out))) as tmp:
        tmp.write_bytes(NEW)


def test_after_a_kill_the_next_write_leaves_only_the_output(tmp_path: Path) -> None:
    out = tmp_path / "cohort.parquet"
    out.write_bytes(OLD)
    _killed_writer(out)
    assert len(list(tmp_path.iterdir())) == 2
    _write(out)
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.parquet"]
    assert out.read_bytes() == NEW


def test_idc_sql_run_killed_mid_write_then_run_again_leaves_only_the_new_output(
    tmp_path: Path,
) -> None:
    """The command itself: ``idc-sql run`` of all of IDC to parquet, killed (-9) while DuckDB
    writes the rows into the private folder, then a new run to the same output."""
    import time

    import pyarrow.parquet as pq

    (tmp_path / "all.yaml").write_text("name: all\n", encoding="utf-8")
    (tmp_path / "rider.yaml").write_text(
        "name: rider\nwhere: {collection_id: rider_pilot}\n", encoding="utf-8"
    )
    cli = [sys.executable, "-c", "from idc_sql.cli import console; console()", "run"]
    process = subprocess.Popen(
        [*cli, "all.yaml", "-o", "all.parquet"], cwd=tmp_path, env=ENV,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        parts = [p for p in tmp_path.iterdir() if PART.fullmatch(p.name)]
        if any(f.stat().st_size > 0 for p in parts for f in p.iterdir() if f.is_file()):
            process.kill()
            break
        time.sleep(0.005)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the run ended before it was killed"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert [n for n in left if PART.fullmatch(n)], left  # what the killed run left
    assert "all.parquet" not in left
    done = subprocess.run(
        [*cli, "rider.yaml", "-o", "all.parquet"], cwd=tmp_path, env=ENV, capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.parquet", "all.yaml", "rider.yaml"]
    rows = pq.read_table(tmp_path / "all.parquet", columns=["collection_id"])
    assert rows.num_rows > 0
    assert set(rows.column("collection_id").to_pylist()) == {"rider_pilot"}


def test_a_write_removes_only_its_own_outputs_stale_folders(tmp_path: Path) -> None:
    out, other = tmp_path / "cohort.s5cmd", tmp_path / "cohort.s5cmd.csv"
    out.write_bytes(OLD)
    stale = _killed_writer(out)
    stale_other = _killed_writer(other)
    live, live_tmp = _start_writer(out)
    hex16 = "0123456789abcdef"
    decoys = [
        tmp_path / ".cohort.s5cmd.part",
        tmp_path / f".cohort.s5cmd.{hex16[:12]}.part",  # the pattern of an earlier version
        tmp_path / f".cohort.s5cmd.{hex16.upper()}.part",
        tmp_path / f".cohort.s5cmd.{hex16}.part.keep",
        tmp_path / f"x.cohort.s5cmd.{hex16}.part",
    ]
    for decoy in decoys:
        decoy.mkdir()
    a_file = tmp_path / f".cohort.s5cmd.{hex16[::-1]}.part"  # not a folder: not ours
    a_file.write_bytes(b"someone's file")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_bytes(b"kept")
    a_link = tmp_path / f".cohort.s5cmd.{'f' * 16}.part"  # a link to a folder: not ours
    a_link.symlink_to(elsewhere)
    try:
        _write(out)
        left = {p.name for p in tmp_path.iterdir()}
        assert stale.name not in left
        assert {stale_other.name, live_tmp.parent.name} <= left
        assert all(d.is_dir() for d in decoys)
        assert a_file.read_bytes() == b"someone's file"
        assert (a_link / "keep").read_bytes() == b"kept"
        assert out.read_bytes() == NEW
    finally:
        status, err = _end(live, finish=True)
    assert (status, err) == (0, b"")
    assert out.read_bytes() == f"written by {live.pid}".encode()
    assert not live_tmp.parent.exists()
    _write(other)
    assert not stale_other.exists()


def test_a_stale_folder_of_another_user_is_left(tmp_path: Path) -> None:
    ids = _nobody()
    if os.geteuid() != 0 or ids is None:
        pytest.skip("needs root, and a user 'nobody', to make a folder of another user")
    out = tmp_path / "cohort.s5cmd"
    theirs = tmp_path / f".cohort.s5cmd.{'0' * 16}.part"
    theirs.mkdir()
    os.chown(theirs, *ids)
    _write(out)
    assert theirs.is_dir()


def test_long_names_sharing_a_beginning_keep_their_own_stale_folders(tmp_path: Path) -> None:
    first, second = tmp_path / ("a" * 240 + ".s5cmd"), tmp_path / ("a" * 240 + ".csv")
    stale_first, stale_second = _killed_writer(first), _killed_writer(second)
    _write(first)
    assert not stale_first.exists()
    assert stale_second.is_dir()
    _write(second)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, second.name])


# ---------------------------------------------------------------------------------------------
# standard output

COPIER = textwrap.dedent(
    """
    import sys
    from idc_sql.errors import IdcSqlError
    from idc_sql.outputs import BrokenPipe, atomic_output, check_output, copy_to_stdout

    # as the command line does: a broken pipe ends quietly, any other error in one line
    try:
        print("# a line still buffered when the file is copied")
        if sys.argv[1] == "-":
            with atomic_output(check_output("-")) as tmp:
                tmp.write_bytes(b"x" * (4 << 20))
        else:
            copy_to_stdout(sys.argv[1])
    except BrokenPipe as e:
        sys.exit(e.exit_code)
    except IdcSqlError as e:
        print(f"idc-sql: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    """
)


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """A file far larger than a pipe holds."""
    path = tmp_path / "big.s5cmd"
    path.write_bytes(b"cp s3://bucket/uuid/* .\n" * (1 << 18))
    return path


def _copier_env(tmp: Path) -> dict[str, str]:
    """Temporary files in ``tmp``, and standard output buffered as it is by default."""
    env = {**ENV, "TMPDIR": str(tmp)}
    env.pop("PYTHONUNBUFFERED", None)
    return env


def _copier(source: str, tmp: Path, **streams: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", COPIER, source],
        stderr=subprocess.PIPE,
        env=_copier_env(tmp),
        **streams,
    )


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("source", ["file", "-"])
def test_a_closed_stdout_is_one_line(
    source: str, big_file: Path, private_tmp: Path, tmp_path: Path
) -> None:
    script = [sys.executable, "-c", COPIER, str(big_file) if source == "file" else "-"]
    done = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *script],
        capture_output=True,
        env=_copier_env(private_tmp),
    )
    lines = done.stderr.decode().splitlines()
    assert lines == ["idc-sql: error: cannot write to standard output: it is closed"]
    assert done.returncode == StdoutError.exit_code == 1
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("source", ["file", "-"])
def test_a_full_stdout_is_one_line(source: str, big_file: Path, private_tmp: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "wb") as full:
        process = _copier(str(big_file) if source == "file" else "-", private_tmp, stdout=full)
        _, err = process.communicate()
    lines = err.decode().splitlines()
    expected = "idc-sql: error: cannot write to standard output: no space left on the device"
    assert lines == [expected]
    assert process.returncode == 1
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("source", ["file", "-"])
def test_a_broken_pipe_ends_quietly(source: str, big_file: Path, private_tmp: Path) -> None:
    process = _copier(
        str(big_file) if source == "file" else "-", private_tmp, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stderr is not None
    assert process.stdout.read(1) == b"#"  # like `| head -c1`
    process.stdout.close()
    try:
        code = process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        raise AssertionError("the writer did not end within 120 s") from None
    err = process.stderr.read()
    process.stderr.close()
    assert (code, err) == (BrokenPipe.exit_code, b"")
    assert code == 141
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("source", ["file", "-"])
def test_stdout_gets_the_whole_file(source: str, big_file: Path, private_tmp: Path) -> None:
    process = _copier(
        str(big_file) if source == "file" else "-", private_tmp, stdout=subprocess.PIPE
    )
    out, err = process.communicate()
    assert (process.returncode, err) == (0, b"")
    first, rest = out.split(b"\n", 1)
    assert first == b"# a line still buffered when the file is copied"
    assert rest == (big_file.read_bytes() if source == "file" else b"x" * (4 << 20))
    assert list(private_tmp.iterdir()) == []


def test_a_missing_file_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"cannot read .*missing: no such file"):
        copy_to_stdout(tmp_path / "missing")


def test_copy_to_a_captured_stdout(
    big_file: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    copy_to_stdout(big_file)
    assert capsysbinary.readouterr().out == big_file.read_bytes()


# ---------------------------------------------------------------------------------------------
# an output's own name in a header

_UNESCAPE = re.compile(r"\\(?:(\\)|([nrt])|x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m[1]:
            return "\\"
        if m[2]:
            return {"n": "\n", "r": "\r", "t": "\t"}[m[2]]
        return chr(int(m[3] or m[4] or m[5], 16))

    return _UNESCAPE.sub(one, text)


BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # every line break str.splitlines knows
CHARACTERS = st.one_of(
    st.characters(exclude_categories=()),
    # the characters a name is made of by chance too rarely: breaks, escapes, surrogates
    st.sampled_from([*BREAKS, "\\", "\udce9", "\ud800", "\u202e", "\x00"]),
)


@given(st.text(CHARACTERS))
def test_a_header_name_never_breaks_a_line(name: str) -> None:
    safe = header_safe(name)
    assert len(f"# run {safe}".splitlines()) == 1
    safe.encode("utf-8")  # even the surrogates of a name that is not UTF-8
    assert _unescape(safe) == name  # reversible: distinct names stay distinct


@given(st.text(st.sampled_from([*BREAKS, "\\", "a", " ", "é", "\t"]), min_size=1))
def test_every_line_break_is_escaped(name: str) -> None:
    safe = header_safe(name)
    assert len(safe.splitlines()) == 1
    assert _unescape(safe) == name


@pytest.mark.parametrize("brk", list(BREAKS))
def test_each_line_break_is_escaped(brk: str) -> None:
    assert len(header_safe(f"a{brk}b").splitlines()) == 1


def test_the_manifest_injection_of_the_issue_stays_in_its_comment() -> None:
    assert header_safe("m\nrm *\n.s5cmd") == "m\\nrm *\\n.s5cmd"
    assert header_safe("cohort.s5cmd") == "cohort.s5cmd"
    assert header_safe(os.fsdecode(b"caf\xe9.s5cmd")) == "caf\\udce9.s5cmd"
