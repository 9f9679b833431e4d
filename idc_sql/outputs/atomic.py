"""Writing an output: :func:`atomic_output`, then the commit of the file into place."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError
from .check import check_output
from .private import _folder_locked, _Private, _sweep
from .signals import _held, _intercepting
from .stdout import copy_to_stdout
from .target import OutputTarget, _kind, _reason


@contextmanager
def atomic_output(target: OutputTarget) -> Iterator[Path]:
    """A path to write the output to; once the block ends without error, it becomes the output.

    The path is in a private folder beside the final file (see the module's documentation);
    the block may create other files in that folder too. Once the block ends, the file at the
    path is flushed and renamed over the final file. On an exception, SIGINT, SIGTERM or SIGHUP
    the folder is removed, the final file is left as it was and the exception propagates
    unchanged (:class:`Terminated` for the two signals).

    The output is checked again first, as it may have changed since :func:`check_output`
    (a :class:`UsageError`). An :class:`OutputError` tells that nothing was written at the path,
    or that the file could not be put in place. For standard output, the path is in a private
    temporary folder and the file is copied to standard output (see :func:`copy_to_stdout`).
    """
    if target.is_stdout:
        with _intercepting(), _staged_for_stdout() as file:
            yield file
            _must_exist(file, target.shown)
            copy_to_stdout(file)
        return
    with _intercepting():
        final = check_output(target.given).path
        assert final is not None
        private: _Private | None = None
        try:
            with _folder_locked(final.parent) as locked:
                if locked:
                    _sweep(final)
                with _held():
                    try:
                        private = _Private(final)
                    except OSError as e:
                        raise OutputError(f"cannot write {target.shown}: {_reason(e)}") from e
            yield private.file
            with _held():
                _commit(private.file, final, target.shown)
                private.remove()
                private = None
        finally:
            if private is not None:
                with _held():
                    private.remove()


@contextmanager
def _staged_for_stdout() -> Iterator[Path]:
    folder: str | None = None
    try:
        with _held():
            folder = tempfile.mkdtemp(prefix="idc-sql-")
        yield Path(folder) / "output"
    finally:
        if folder is not None:
            with _held():
                shutil.rmtree(folder, ignore_errors=True)


def _must_exist(file: Path, shown: str) -> os.stat_result:
    try:
        st = os.lstat(file)
    except FileNotFoundError:
        raise OutputError(f"cannot write {shown}: the writer wrote nothing") from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"cannot write {shown}: the writer made {_kind(st.st_mode)}")
    return st


def _commit(file: Path, final: Path, shown: str) -> None:
    """Flush ``file`` to disk and rename it over ``final``, which keeps its owner and mode."""
    written = _must_exist(file, shown)
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            old: os.stat_result | None = os.lstat(final)
        except FileNotFoundError:
            old = None
        if old is not None and not stat.S_ISREG(old.st_mode):
            raise OutputError(
                f"cannot write {shown}: it became {_kind(old.st_mode)} while the result was "
                "written; it was left as it is"
            )
        if old is not None:
            _keep_owner(file, written, old)
            os.chmod(file, stat.S_IMODE(old.st_mode) & 0o777)
        os.replace(file, final)
    except OSError as e:
        raise OutputError(f"cannot write {shown}: {_reason(e)}") from e
    _flush_folder(final.parent, shown)


def _keep_owner(file: Path, written: os.stat_result, old: os.stat_result) -> None:
    if (written.st_uid, written.st_gid) == (old.st_uid, old.st_gid):
        return
    for uid in (old.st_uid, -1):  # the owner only root may set; the group, a member too
        try:
            os.chown(file, uid, old.st_gid)
            return
        except PermissionError:
            continue


def _flush_folder(folder: Path, shown: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:  # a folder one may write in but not read: the rename is done all the same
        return
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OutputError(f"cannot write {shown}: {_reason(e)}") from e
    finally:
        os.close(fd)


def assemble(path: Path, head: str, body: Path, tail: str = "") -> None:
    """Write ``head``, the bytes of ``body`` and ``tail`` to ``path``, then remove ``body``.

    For a format whose rows DuckDB writes but whose first bytes it cannot (a comment header, a
    JSON document around an array): the rows are copied once, in large blocks.
    """
    try:
        with path.open("wb") as out, body.open("rb") as rows:
            out.write(head.encode("utf-8"))
            shutil.copyfileobj(rows, out, 1 << 20)
            out.write(tail.encode("utf-8"))
    finally:
        body.unlink(missing_ok=True)


def beside(path: Path, what: str) -> Path:
    """A scratch file next to ``path`` (in the output's private folder)."""
    return path.with_name(f"{path.name}.{what}")
