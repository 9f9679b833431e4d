"""A refresh state: a folder that keeps each cohort's snapshots, what changed, and a history.

A state folder ``DIR``, made by the first refresh that names it::

    DIR/.lock                    held (flock) by the one refresh working in DIR
    DIR/history.jsonl            one JSON object a line per snapshot recorded: the commit point
    DIR/<cohort>/<NNN>-v<release>-<digest>/
        snapshot.parquet         the cohort's series; provenance in the file's key-value metadata
        fetch.s5cmd              what to download since the previous snapshot (added + revised)
        added.csv revised.csv removed.csv
        changes.txt              the change, for people

A snapshot is part of the state once its line is in ``history.jsonl``, and only then: the line
is written last, when every file of the snapshot is in place, by replacing the log atomically
(a copy with the new line, flushed to disk, renamed over the old one; see
:mod:`idc_sql.outputs`). A snapshot folder without a line is what an interrupted refresh left;
the next refresh of that cohort removes it, or writes the same one again, as its name is made
of the snapshot's number in its cohort, the release and the spec's digest: nothing that an
interruption can change.

>>> snapshot_name(2, 25, "0123456789abcdef")
'002-v25-0123456789abcdef'
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BusyError, Option, StateError, UsageError

LOG = "history.jsonl"
LOCK = ".lock"
#: a snapshot folder's name: its number in the cohort, the release, the spec's digest
SNAPSHOT_NAME = re.compile(r"(\d{3,})-v(\d+)-([0-9a-f]{16})")
#: how often a refresh that waits for the lock tries again, in seconds
POLL = 0.1
#: how long a refresh waits for another one of the same state, in seconds
DEFAULT_WAIT = 60.0


def snapshot_name(sequence: int, release: int, digest: str) -> str:
    """The folder of a cohort's ``sequence``-th snapshot, at ``release``, of spec ``digest``."""
    return f"{sequence:03d}-v{release}-{digest}"


@dataclass(frozen=True)
class Entry:
    """One line of the history: a snapshot recorded."""

    record: Mapping[str, Any]

    @property
    def cohort(self) -> str:
        return str(self.record["cohort"])

    @property
    def snapshot(self) -> str:
        return str(self.record["snapshot"])

    @property
    def release(self) -> int:
        return int(self.record["release"])

    @property
    def digest(self) -> str:
        return str(self.record["digest"])

    @property
    def cohort_version(self) -> int:
        return int(self.record["cohort_version"])

    @property
    def when(self) -> str:
        return str(self.record["when"])

    @property
    def series(self) -> int:
        return int(self.record["counts"]["series"])

    def count(self, kind: str) -> int:
        return int(self.record["counts"][kind])

    def check(self) -> None:
        """Raise KeyError, TypeError or ValueError unless the record has what is read of it."""
        if not SNAPSHOT_NAME.fullmatch(self.snapshot):
            raise ValueError(self.snapshot)
        for kind in ("series", "added", "removed", "revised", "unchanged"):
            self.count(kind)
        if not (self.cohort and self.digest and self.when and self.release >= 1):
            raise ValueError(self.record)
        self.cohort_version  # noqa: B018 - an int, or it raises


class State:
    """A state folder (see the module's documentation)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / LOG

    @classmethod
    def open(cls, path: str | Path, *, create: bool) -> State:
        """The state at ``path``; ``create`` makes the folder (and its parents) if missing.
        Its paths are absolute, so that what a refresh reports may be used from anywhere."""
        root = Path(path).absolute()
        if create:
            try:
                root.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise UsageError(Option("state", str(path)), " is a file, not a folder") from None
            except OSError as e:
                raise UsageError(
                    "cannot make the state folder ", Option("state", str(path)), f": {e.strerror}"
                ) from None
        elif not root.is_dir():
            raise UsageError(
                Option("state", str(path)),
                " is not a refresh state: no such folder (a refresh makes it)",
            )
        return cls(root)

    def folder(self, cohort: str, snapshot: str) -> Path:
        return self.root / cohort / snapshot

    def make_folder(self, cohort: str, snapshot: str) -> Path:
        """The snapshot's folder, made (with its cohort's) and flushed to disk."""
        folder = self.folder(cohort, snapshot)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for made in (folder.parent, self.root):
                _flush(made)
        except OSError as e:
            raise StateError(f"cannot make the folder {folder}: {e.strerror}") from None
        return folder

    # ---- the lock

    @contextmanager
    def locked(self, wait: float) -> Iterator[None]:
        """Hold the state's lock for the block, waiting at most ``wait`` seconds for it.

        The lock is an ``flock`` on ``DIR/.lock``: the system releases it when its holder ends,
        however it ends. A refresh that cannot have it in time raises :class:`BusyError`.
        """
        path = self.root / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise StateError(f"cannot open the lock file {path}: {e.strerror}") from None
        try:
            deadline = time.monotonic() + max(0.0, wait)
            while not _try_lock(fd, path):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BusyError(
                        f"another refresh of the state {self.root} is running "
                        f"({_holder(fd)}); gave up after {wait:g} s: nothing was done, run it "
                        "again later (",
                        Option("wait"),
                        " sets how long to wait)",
                    )
                time.sleep(min(POLL, left))
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"process {os.getpid()} on {os.uname().nodename}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock

    # ---- the history

    def entries(self, cohort: str | None = None) -> list[Entry]:
        """The snapshots recorded, oldest first (of ``cohort`` only, when given)."""
        try:
            text = self.log.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as e:
            raise StateError(f"cannot read {self.log}: {e}") from None
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = Entry(json.loads(line))
                entry.check()
            except (ValueError, KeyError, TypeError):
                raise StateError(
                    f"{self.log} line {number} is not a snapshot record: the state is damaged"
                ) from None
            if cohort is None or entry.cohort == cohort:
                found.append(entry)
        return found

    def last(self, cohort: str) -> Entry | None:
        """The cohort's latest snapshot, or None before its first."""
        entries = self.entries(cohort)
        return entries[-1] if entries else None

    def commit(self, record: Mapping[str, Any]) -> None:
        """Add ``record`` to the history: the log is replaced by a copy with one more line,
        flushed to disk before it is renamed into place (the refresh's commit point)."""
        from ..outputs import atomic_output, check_output

        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            old = self.log.read_bytes()
        except FileNotFoundError:
            old = b""
        except OSError as e:
            raise StateError(f"cannot read {self.log}: {e.strerror}") from None
        if old and not old.endswith(b"\n"):
            old += b"\n"
        with atomic_output(check_output(str(self.log))) as tmp, tmp.open("wb") as out:
            out.write(old)
            out.write(line.encode("utf-8"))

    def sweep(self, cohort: str) -> list[str]:
        """Remove the cohort's snapshot folders that no history line records (what an
        interrupted refresh left); returns their names."""
        folder = self.root / cohort
        if not folder.is_dir():
            return []
        recorded = {e.snapshot for e in self.entries(cohort)}
        removed = []
        for child in sorted(folder.iterdir()):
            if not SNAPSHOT_NAME.fullmatch(child.name) or child.name in recorded:
                continue
            if child.is_symlink() or not child.is_dir():
                continue
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
        return removed


def _try_lock(fd: int, path: Path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise StateError(
            f"cannot lock {path}: {e.strerror} (a state needs a file system with locks)"
        ) from None
    return True


def _flush(folder: Path) -> None:
    """Flush a folder's entries to disk (where the file system can)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "its process is unknown"
