"""Checking an output path before anything runs: :func:`check_output` and its checks."""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from ..errors import StdoutError, UsageError
from .target import OutputTarget, _kind, _reason, header_safe

_Refuse = Callable[..., UsageError]
_ALLOWED = (
    "an output is a regular file (new or existing), a symlink to one, or - for standard output"
)


def check_output(path: str) -> OutputTarget:
    """The output ``path`` names, or a :class:`UsageError` saying why it may not be written.

    ``-`` is standard output (a :class:`StdoutError` if it is closed). See the module's
    documentation for what else is accepted. Nothing is created or changed.
    """
    if path == "-":
        if sys.stdout is None:
            raise StdoutError("cannot write to standard output: it is closed")
        return OutputTarget(given="-", path=None, is_stdout=True, shown="standard output")
    shown = header_safe(path)

    def refuse(*why: str) -> UsageError:
        return UsageError(f"cannot write {shown}: ", *why)

    if not path:
        raise UsageError("the output path is empty; ", _ALLOWED)
    if "\0" in path:
        raise refuse("the path holds a NUL character")
    if path.endswith(os.sep) or os.path.basename(path) in (".", ".."):
        raise refuse("it names a folder; ", _ALLOWED)
    if _names_an_open_file(path):
        raise refuse(
            "it is an open file or stream of a process (/dev/fd, /dev/stdout, >(...)); "
            "write to - and pipe standard output instead"
        )
    folder = os.path.dirname(path) or "."
    try:
        st: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise refuse(f"{header_safe(folder)} is not a folder") from None
    except OSError as e:
        raise refuse(_reason(e)) from None
    final = Path(os.path.realpath(path))
    if st is not None and stat.S_ISLNK(st.st_mode):
        st = _follow(path, refuse)
        final = Path(os.path.realpath(path, strict=True))
        if not stat.S_ISREG(st.st_mode):
            raise refuse(
                f"it is a symlink to {header_safe(str(final))}, which is {_kind(st.st_mode)}; ",
                _ALLOWED,
            )
        folder = str(final.parent)
    elif st is not None and not stat.S_ISREG(st.st_mode):
        raise refuse(f"it is {_kind(st.st_mode)}; ", _ALLOWED)
    _check_folder(final.parent, header_safe(folder), refuse)
    if st is not None:
        _check_replaceable(st, final, refuse)
    return OutputTarget(given=path, path=final, is_stdout=False, shown=shown)


_STREAMS = ("/dev/stdin", "/dev/stdout", "/dev/stderr")


def _names_an_open_file(path: str) -> bool:
    """Whether ``path`` goes through a process's descriptors (``/dev/fd``, ``/proc``) on Linux.

    Written through, such a path would replace the file a shell redirected a stream to, under
    the feet of whoever holds it open.
    """
    seen = [os.path.abspath(path), os.path.realpath(path)]
    with suppress(OSError):
        seen.append(os.path.abspath(os.path.join(os.path.dirname(path), os.readlink(path))))
    return any(p in _STREAMS or p.startswith(("/dev/fd/", "/proc/")) for p in seen)


def _follow(link: str, refuse: _Refuse) -> os.stat_result:
    """The status of the file at the end of the symlink ``link``, or why there is none."""
    try:
        return os.stat(os.path.realpath(link, strict=True))
    except FileNotFoundError:
        try:
            points = os.readlink(link)
        except OSError:
            points = "?"
        raise refuse(
            f"it is a symlink to {header_safe(points)}, which does not exist; name the file "
            "itself to create it"
        ) from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise refuse("it is a symlink that loops") from None
        raise refuse(f"it is a symlink that cannot be followed: {_reason(e)}") from None


def _check_folder(folder: Path, shown: str, refuse: _Refuse) -> None:
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        raise refuse(f"the folder {shown} does not exist") from None
    except OSError as e:
        raise refuse(f"the folder {shown} cannot be reached: {_reason(e)}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise refuse(f"{shown} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise refuse(f"no permission to write in the folder {shown}")


def _check_replaceable(st: os.stat_result, final: Path, refuse: _Refuse) -> None:
    if not st.st_mode & 0o222 or not os.access(final, os.W_OK):
        raise refuse("the file is read-only; make it writable to replace it")
    parent = os.stat(final.parent)
    uid = os.geteuid()
    if parent.st_mode & stat.S_ISVTX and uid not in (0, st.st_uid, parent.st_uid):
        raise refuse(
            "the file belongs to another user, in a folder where only a file's owner may replace it"
        )
