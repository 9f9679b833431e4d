"""How far a download is: bytes and series done of the known total, rate and time left,
handed to a :data:`~idc_sql.settings.Reporter` a few times a second (the command line shows
it on a terminal only).

>>> seen = []
>>> p = Progress(seen.append, {"a": (2, 2000), "b": (1, 1000)}, clock=iter([0, 1]).__next__)
>>> p.add("a", 1000); p.add("a", 1000); p.tick()
>>> print(seen[-1].pieces[0])
2.00 KB of 3.00 KB, 1 of 2 series, 2.00 KB/s, 1 s left
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping

from ..cost import size
from ..settings import Notice, Reporter


def duration(seconds: float) -> str:
    """``3 h 5 min``, ``4 min 10 s``, ``12 s``."""
    s = int(seconds + 0.5)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{s} s"


class Progress:
    """Counts what s5cmd reports against what is expected.

    ``expected`` maps each series being fetched to (files, bytes) still to come; None for a
    series whose count the index does not give (it counts as done at the end).
    """

    def __init__(
        self,
        report: Reporter,
        expected: Mapping[str, tuple[int | None, int | None]],
        *,
        clock: Callable[[], float] = time.monotonic,
        every: float = 0.25,
    ) -> None:
        self.report = report
        self.expected = dict(expected)
        self.clock = clock
        self.every = every
        self.start = clock()
        self.shown = -every
        self.files: Counter[str] = Counter()
        self.bytes = 0
        self.done: set[str] = set()
        self.total = sum(b or 0 for _, b in self.expected.values())
        #: whether the totals are known (a download may start before the index is read)
        self.totals = any(b is not None for _, b in self.expected.values())

    def expect(self, expected: Mapping[str, tuple[int | None, int | None]]) -> None:
        """What each series will bring, once known."""
        self.expected = dict(expected)
        self.total = sum(b or 0 for _, b in self.expected.values())
        self.totals = True
        self.done = {
            u
            for u, (files, _) in self.expected.items()
            if files is not None and self.files[u] >= files
        }

    def add(self, uuid: str, nbytes: int) -> None:
        """One more file of series ``uuid``, of ``nbytes``."""
        self.bytes += nbytes
        self.files[uuid] += 1
        files = self.expected.get(uuid, (None, None))[0]
        if files is not None and self.files[uuid] >= files:
            self.done.add(uuid)

    def tick(self) -> None:
        """Report, unless it was done less than ``every`` seconds ago."""
        now = self.clock()
        if now - self.shown < self.every:
            return
        self.shown = now
        elapsed = max(now - self.start, 1e-9)
        rate = self.bytes / elapsed
        parts = [
            f"{size(self.bytes)} of {size(self.total)}" if self.totals else size(self.bytes),
            f"{len(self.done):,} of {len(self.expected):,} series",
            f"{size(rate)}/s",
        ]
        if rate > 0 and self.totals and self.total > self.bytes:
            parts.append(f"{duration((self.total - self.bytes) / rate)} left")
        details = {
            "bytes": self.bytes,
            "bytes_total": self.total,
            "series": len(self.done),
            "series_total": len(self.expected),
            "rate": rate,
            "elapsed": elapsed,
        }
        self.report(Notice("progress", (", ".join(parts),), details))

    def finish(self) -> None:
        self.shown = -self.every
        self.done = set(self.expected)
        self.tick()
        self.report(Notice("progress_done"))
