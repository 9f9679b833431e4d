"""Outputs: which paths a result may be written to, and writing them without harm.

What an output path may name, checked by :func:`check_output` before anything runs:

* ``-``: standard output.
* A regular file, new or existing. An existing one is replaced whole, atomically, and keeps its
  permission bits (set-id bits excepted) and, where the writer may set them, its owner and group.
  Other hard links to it keep the old content: a rename gives the name a new file.
* A symlink is written THROUGH: the regular file at the end of its chain is replaced, in that
  file's own folder, and the link stays a link pointing where it pointed. A link that dangles or
  loops is refused (following it would create a file wherever it points), and so is a link to
  anything that may not be written itself.

Refused with a :class:`~idc_sql.errors.UsageError` (exit status 2), before anything is created:
a directory, a character or block device, a FIFO, a socket, or a link to one of them; a path
that ends in a slash or names ``.`` or ``..``; an open file of a process (``/dev/stdout``,
``/dev/fd/N``, what ``>(...)`` expands to, ``/proc/...``: use ``-`` and a pipe instead, as
written through they would replace a file a shell redirected a stream to); a folder that does not
exist or that the user may not write in; and an existing file that is read-only, either for the
user or for everyone (no write bit at all: then root is refused too).

How a file is written, by :func:`atomic_output`: into a private folder (mode 0700) beside the
final file, named ``.<NAME>.<16 hex digits>.part`` after the final file's name, where the writer
may also put anything it makes on the way; then the file is flushed to disk, renamed over the
final name, and the folder holding the final file is flushed too. On any exception, and on
SIGINT, SIGTERM or SIGHUP, the private folder is removed and the final file is left as it was.
Nothing else is ever created, renamed or removed. (A name too long to fit in that pattern is
shortened and followed by ``~`` and 16 hex digits of its digest, so that two outputs never share
a pattern.)

A private folder belongs to the process that holds an ``flock`` on it. A process killed while
writing (``kill -9``, a power cut) leaves its folder behind; the next write to the SAME output
removes such folders, but only those of that output's pattern, owned by the same user and whose
lock no live process holds. The sweep and the making of a new folder happen under a short lock
on the parent folder, so no sweeper can take a folder that is being made for its lock.

Signals: while a write is in progress in the main thread, SIGTERM and SIGHUP raise
:class:`Terminated`, a :class:`SystemExit` whose code is 128 + the signal's number (143, 129),
and SIGINT raises :class:`KeyboardInterrupt` as usual; the private folder is removed on the way
out. A signal that arrives while the output is being renamed into place or a private folder
removed waits until that step is done. Handlers are installed only over the default ones (a
signal that is ignored, as under ``nohup``, stays ignored; a handler of the application's own is
kept) and the previous ones are restored afterwards. Writes from other threads are still cleaned
up on exceptions, but signals are not intercepted there.

Standard output: :func:`copy_to_stdout` copies a finished file to it. A closed standard output,
a full device behind it or a reader that went away end in :class:`StdoutError` (exit status 1,
one line) or :class:`BrokenPipe` (exit status 141, to be reported by nothing at all), never in
a traceback, and nothing further is written to that stream.

>>> check_output("-").is_stdout
True
>>> header_safe("m\\nrm *\\n.s5cmd")
'm\\\\nrm *\\\\n.s5cmd'
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import secrets
import select
import shutil
import signal
import stat
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .errors import OutputError, UsageError

__all__ = [
    "BrokenPipe",
    "OutputTarget",
    "StdoutError",
    "Terminated",
    "atomic_output",
    "check_output",
    "copy_to_stdout",
    "header_safe",
]

_Refuse = Callable[..., UsageError]
_ALLOWED = (
    "an output is a regular file (new or existing), a symlink to one, or - for standard output"
)


@dataclass(frozen=True)
class OutputTarget:
    """An output that :func:`check_output` accepted.

    ``given`` is the path as the user wrote it; ``path`` the regular file that will be replaced
    or created (a symlink's final target), absolute, or ``None`` for standard output; ``shown``
    the output's name made safe for a message or a comment header (see :func:`header_safe`).
    """

    given: str
    path: Path | None
    is_stdout: bool
    shown: str


class StdoutError(OutputError):
    """Standard output cannot be written: it is closed, or its device failed or is full."""

    exit_code = 1


class BrokenPipe(OutputError):
    """The reader of standard output went away (``| head``): stop quietly, as Unix tools do."""

    exit_code = 141


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived while an output was written; its exit status is 128 + signum."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(self.exit_code)


# ---------------------------------------------------------------------------------------------
# names in messages and headers

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# control, format, surrogate, private-use and unassigned characters, line and paragraph
# separators: every character str.splitlines breaks at is among them
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def header_safe(name: str) -> str:
    """``name`` with every character that could break a line, or hide, written as an escape.

    Backslash, newline, carriage return and tab become ``\\\\``, ``\\n``, ``\\r``, ``\\t``; other
    control, format and separator characters (U+2028, U+2029, U+0085, bidirectional marks),
    surrogates (bytes of a name that is not UTF-8) and unassigned characters become ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN``. Every other character is kept, so readable names read the
    same; the escaping is reversible, so distinct names stay distinct.

    >>> header_safe("données/cohort.s5cmd")
    'données/cohort.s5cmd'
    >>> header_safe("a\\u2028b\\x0bc")
    'a\\\\u2028b\\\\x0bc'
    """
    return "".join(_escape(c) for c in name)


def _escape(c: str) -> str:
    if c in _ESCAPES:
        return _ESCAPES[c]
    if unicodedata.category(c) not in _UNSAFE_CATEGORIES:
        return c
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


# ---------------------------------------------------------------------------------------------
# checking a path before anything runs

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symlink"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


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


def _reason(e: OSError) -> str:
    return e.strerror.lower() if e.strerror else str(e)


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


# ---------------------------------------------------------------------------------------------
# signals: end the process, but only once the private folder is gone


class _Signals:
    """The handlers installed while writes are in progress (in the main thread)."""

    def __init__(self) -> None:
        self.depth = 0  # atomic writes in progress
        self.held = 0  # steps in progress that a signal must not cut short
        self.pending: int | None = None
        self.previous: dict[int, signal._HANDLER] = {}

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.held:
            self.pending = self.pending or signum
            return
        raise _ending(signum)


_signals = _Signals()


def _ending(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _intercepting() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise while the block runs, where their handler is the default."""
    if not _in_main_thread():
        yield
        return
    if _signals.depth == 0:
        defaults = (
            (signal.SIGINT, signal.default_int_handler),
            (signal.SIGTERM, signal.SIG_DFL),
            (signal.SIGHUP, signal.SIG_DFL),
        )
        for signum, default in defaults:
            if signal.getsignal(signum) == default:
                _signals.previous[signum] = signal.signal(signum, _signals.handle)
    _signals.depth += 1
    try:
        yield
    finally:
        _signals.depth -= 1
        if _signals.depth == 0:
            for number, previous in _signals.previous.items():
                signal.signal(number, previous)
            _signals.previous.clear()
            pending, _signals.pending = _signals.pending, None
            if pending is not None:
                raise _ending(pending)


@contextmanager
def _held() -> Iterator[None]:
    """A step a signal waits for; a signal that came meanwhile is raised once it is done."""
    if not _in_main_thread():
        yield
        return
    _signals.held += 1
    try:
        yield
    finally:
        _signals.held -= 1
    if _signals.held == 0 and _signals.pending is not None:
        pending, _signals.pending = _signals.pending, None
        raise _ending(pending)


# ---------------------------------------------------------------------------------------------
# private folders beside an output

_NAME_MAX = 255  # bytes in a file name, on every common file system
_HEX = 16
_ROOM = _NAME_MAX - len("..") - _HEX - len(".part")  # for the output's name in the pattern
_SUFFIX = re.compile(rf"[0-9a-f]{{{_HEX}}}\.part")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def _token(name: str) -> str:
    """The output's name as it appears in its private folders' pattern.

    A name that fits is used as it is; a longer one is cut, then followed by ``~`` and 16 hex
    digits of its digest, to exactly ``_ROOM`` bytes, a length no name used as it is has.
    """
    raw = os.fsencode(name)
    if len(raw) < _ROOM:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:_HEX]
    return os.fsdecode(raw[: _ROOM - _HEX - 1]) + "~" + digest


def _prefix(final: Path) -> str:
    return f".{_token(final.name)}."


class _Private:
    """A private folder beside the output, locked by this process while it exists."""

    def __init__(self, final: Path) -> None:
        for _ in range(16):
            folder = final.parent / f"{_prefix(final)}{secrets.token_hex(_HEX // 2)}.part"
            try:
                os.mkdir(folder, 0o700)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 16 collisions of 64 random bits
            raise FileExistsError(errno.EEXIST, "no free name for a temporary folder")
        try:
            self.fd = os.open(folder, _DIR_FLAGS)
        except BaseException:
            os.rmdir(folder)
            raise
        # on a file system without locks no process can sweep the folder either
        with suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.folder = folder
        self.file = folder / final.name

    def remove(self) -> None:
        """Remove the folder and whatever is in it; what cannot be removed is left to a sweep."""
        try:
            _empty(self.fd)
            os.rmdir(self.folder)
        except OSError:
            pass
        finally:
            os.close(self.fd)


def _empty(fd: int) -> None:
    """Remove everything in the folder open as ``fd``, never following a symlink."""
    for entry in os.scandir(fd):
        if entry.is_dir(follow_symlinks=False):
            inner = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
            try:
                _empty(inner)
            finally:
                os.close(inner)
            os.rmdir(entry.name, dir_fd=fd)
        else:
            os.unlink(entry.name, dir_fd=fd)


@contextmanager
def _folder_locked(folder: Path) -> Iterator[bool]:
    """Hold a lock on ``folder`` for the block; False where it cannot be had (then no sweep)."""
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _sweep(final: Path) -> None:
    """Remove the private folders of ``final`` that a process killed while writing left.

    Only folders of this output's exact pattern, owned by this user, that no live process holds
    a lock on. The caller holds the lock on the parent folder.
    """
    prefix = _prefix(final)
    try:
        names = os.listdir(final.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and _SUFFIX.fullmatch(name, len(prefix))):
            continue
        try:  # a symlink, a file, a FIFO of that name is not one of ours
            fd = os.open(final.parent / name, _DIR_FLAGS)
        except OSError:
            continue
        try:
            if os.fstat(fd).st_uid != os.geteuid():
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a live process writes there (or there are no locks here)
                continue
            try:
                _empty(fd)
                os.rmdir(final.parent / name)
            except OSError:
                pass
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------------------------
# writing


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


# ---------------------------------------------------------------------------------------------
# standard output


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
