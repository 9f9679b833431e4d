"""What a series' folder holds: its DICOM files (``*.dcm``, as IDC names its objects).

s5cmd writes each file under a temporary name (the file's name followed by digits) and renames
it when it is complete, so a file under its own name is whole; a temporary one left by an
interrupted download is removed (:func:`sweep`) before the series is completed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

#: a file s5cmd was writing when it was stopped
_PARTIAL = re.compile(r".+\.dcm\d+")


class OnDisk(NamedTuple):
    """How many DICOM files a folder holds, their bytes, and how many files an interrupted
    s5cmd left half-written there."""

    files: int
    bytes: int
    leftovers: int = 0


def look(folder: Path) -> OnDisk:
    """The ``*.dcm`` regular files directly in ``folder`` (none when it does not exist)."""
    files = size = leftovers = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".dcm") and entry.is_file(follow_symlinks=False):
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size
                elif _PARTIAL.fullmatch(entry.name):
                    leftovers += 1
    except (FileNotFoundError, NotADirectoryError):
        pass
    return OnDisk(files, size, leftovers)


def files_in(folder: Path) -> list[Path]:
    """The series' files, sorted."""
    try:
        with os.scandir(folder) as entries:
            return sorted(
                Path(e.path)
                for e in entries
                if e.name.endswith(".dcm") and e.is_file(follow_symlinks=False)
            )
    except (FileNotFoundError, NotADirectoryError):
        return []


def sweep(folder: Path) -> int:
    """Remove the files an interrupted s5cmd left half-written in ``folder``; how many."""
    removed = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if _PARTIAL.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed += 1
    except (FileNotFoundError, NotADirectoryError):
        pass
    return removed
