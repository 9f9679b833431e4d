"""Private folders beside an output: made and locked by a write, swept once their writer died."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

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
