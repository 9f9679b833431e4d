"""Standard output: copying a finished file to it, and telling its failures apart."""

from __future__ import annotations

import errno
import os
import select
import shutil
import sys

from ..errors import BrokenPipe, OutputError, StdoutError
from .target import _reason, header_safe


def copy_to_stdout(path: str | os.PathLike[str]) -> None:
    """Copy the finished file at ``path`` to standard output's bytes, then flush it.

    Raises :class:`StdoutError` if standard output is closed, full or failing, and
    :class:`BrokenPipe` if its reader went away; standard output is then pointed at the null
    device, so that nothing buffered fails again when the process ends.
    """
    stream = sys.stdout
    if stream is None:
        raise StdoutError("cannot write to standard output: it is closed")
    try:
        source = open(path, "rb")  # noqa: SIM115 - closed below, its errors told apart
    except OSError as e:
        raise OutputError(f"cannot read {header_safe(os.fsdecode(path))}: {_reason(e)}") from e
    with source:
        try:
            stream.flush()
            fd = _fileno(stream)
            if fd is None:
                shutil.copyfileobj(source, stream.buffer, 1 << 20)
                stream.buffer.flush()
            else:
                _copy_to_fd(source.fileno(), fd)
        except (OSError, ValueError) as e:
            _silence(stream)
            raise _stdout_error(e) from e


def _fileno(stream: object) -> int | None:
    try:
        fileno = stream.fileno  # type: ignore[attr-defined]
        return int(fileno())
    except (AttributeError, OSError, ValueError):
        return None


def _copy_to_fd(source: int, fd: int) -> None:
    while chunk := os.read(source, 1 << 20):
        view = memoryview(chunk)
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:  # a non-blocking descriptor: wait until it takes more
                select.select([], [fd], [])


def _stdout_error(e: OSError | ValueError) -> OutputError:
    number = getattr(e, "errno", None)
    if isinstance(e, BrokenPipeError) or number == errno.EPIPE:
        return BrokenPipe("standard output was closed by its reader")
    if isinstance(e, ValueError) or number == errno.EBADF:
        return StdoutError("cannot write to standard output: it is closed")
    if number == errno.ENOSPC:
        return StdoutError("cannot write to standard output: no space left on the device")
    assert isinstance(e, OSError)
    return StdoutError(f"cannot write to standard output: {_reason(e)}")


def _silence(stream: object) -> None:
    """Point ``stream``'s descriptor at the null device: what is still buffered goes nowhere."""
    fd = _fileno(stream)
    if fd is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def leave(code: int) -> None:
    """Flush the output and leave with ``code``, skipping the interpreter's teardown: freeing
    every module and object of pydantic, sqlglot and DuckDB one by one costs 30-50 ms and does
    nothing for a command whose files are already closed and renamed into place."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the stream closed (`2>&-`)
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            code = code or 141
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)
