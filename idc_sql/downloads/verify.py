"""What is on disk against what should be: each series' instance count and bytes.

What a series should hold comes from the installed index: its instance count and exact size
for a series of the current release; its size (to within 5,000 bytes: the index rounds it) for
a version only earlier releases served. A series the index does not know should hold at least
one file. Whatever s5cmd said failed for a series is reported with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cost import size
from .disk import OnDisk, files_in, look
from .items import Item


@dataclass(frozen=True)
class Problem:
    """What is wrong with one series (or, with no series, with the source itself)."""

    text: str
    crdc_series_uuid: str | None = None
    origin: str = ""
    folder: str = ""

    def __str__(self) -> str:
        if self.crdc_series_uuid is None:
            return self.text
        return f"series {self.crdc_series_uuid} ({self.origin}, {self.folder}/): {self.text}"


def state(item: Item, on_disk: OnDisk) -> str:
    """``complete``, ``partial`` or ``absent``: what a download must still do for ``item``."""
    if on_disk.files == 0:
        return "absent"
    return "complete" if item.known and not shortfall(item, on_disk) else "partial"


def shortfall(item: Item, on_disk: OnDisk) -> list[str]:
    """How ``on_disk`` falls short of ``item`` (empty: it holds what it should)."""
    found: list[str] = []
    n = item.instances
    if n is not None and on_disk.files != n:
        found.append(f"{on_disk.files:,} of {n:,} instances on disk")
    elif n is None and on_disk.files == 0:
        found.append("no file on disk")
    expected = item.size_bytes
    if expected is not None and abs(on_disk.bytes - expected) > item.tolerance:
        about = "about " if item.tolerance else ""
        found.append(
            f"{on_disk.bytes:,} bytes on disk, {about}{expected:,} expected ({size(expected)})"
        )
    return found


def verify(items: list[Item], dest: Path, failures: dict[str, list[str]]) -> list[Problem]:
    """A problem for each series whose folder does not hold what it should."""
    problems = []
    for item in items:
        found = []
        if item.bucket is None:
            found.append("no bucket is known for it (a bare crdc_series_uuid the index lacks)")
        found += shortfall(item, look(dest / item.folder))
        said = failures.get(item.crdc_series_uuid, [])
        if found and said:
            found.append(
                f"s5cmd: {said[0]}" + (f" (and {len(said) - 1} more)" if len(said) > 1 else "")
            )
        if found:
            problems.append(
                Problem("; ".join(found), item.crdc_series_uuid, item.origin, item.folder)
            )
    return problems


@dataclass
class Report:
    """What a download did and what is on disk."""

    dest: Path
    items: list[Item]
    #: series complete before the download, left alone
    skipped: int = 0
    #: series fetched (in whole or in part)
    fetched: int = 0
    bytes_fetched: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def files(self) -> list[Path]:
        """Every file of every series on disk, series by series."""
        return [f for item in self.items for f in files_in(self.dest / item.folder)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dest": str(self.dest),
            "series": len(self.items),
            "skipped": self.skipped,
            "fetched": self.fetched,
            "bytes_fetched": self.bytes_fetched,
            "seconds": self.seconds,
            "problems": [
                {
                    "crdc_series_uuid": p.crdc_series_uuid,
                    "origin": p.origin,
                    "folder": p.folder,
                    "problem": p.text,
                }
                for p in self.problems
            ],
        }

    @property
    def headline(self) -> str:
        """What is wrong, in one line (empty when nothing is)."""
        series = sum(1 for p in self.problems if p.crdc_series_uuid is not None)
        other = len(self.problems) - series
        parts = (
            [f"{series:,} of {len(self.items):,} series incomplete in {self.dest}"]
            if series
            else []
        )
        parts += (
            [f"{other:,} other problem{'s' if other > 1 else ''} with the source"] if other else []
        )
        return "; ".join(parts)

    def summary(self) -> str:
        return (
            f"{len(self.items):,} series in {self.dest}: {self.fetched:,} fetched "
            f"({size(self.bytes_fetched)} in {self.seconds:.1f} s), "
            f"{self.skipped:,} already complete"
        )

    def lines(self, limit: int = 20) -> list[str]:
        """The report for people (the headline first when something is wrong); at most
        ``limit`` problems are spelled out."""
        if self.ok:
            return [self.summary(), "verified: every series holds the files and bytes it should"]
        out = [self.headline]
        out += [f"  {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            out.append(f"  ... and {len(self.problems) - limit:,} more")
        return [*out, self.summary()]
