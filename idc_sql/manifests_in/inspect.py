"""What a manifest holds, checked against the installed index: ``idc-sql manifest inspect``.

Every line is counted once: resolved in the installed (current) release, resolved in earlier
releases only (``prior_versions_index``), or unresolved (a line that names no series, or a
crdc_series_uuid no release of the index knows), each unresolved line by its number. The
releases the resolved lines belong to are counted per release, and the release that holds the
most of them is named.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cost import size
from .parse import Entry, Manifest
from .reading import read_manifest
from .resolve import Series, resolve

if TYPE_CHECKING:
    from ..engines.local import LocalEngine

UNKNOWN = "a crdc_series_uuid that no release of the installed index knows"


@dataclass(frozen=True)
class Unresolved:
    """A line that names no series the index knows."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Inspection:
    """A manifest and what the installed index says of its lines."""

    manifest: Manifest
    series: dict[str, Series]
    #: the installed index: release and package
    installed: int
    index: str

    @cached_property
    def current(self) -> list[Entry]:
        """Lines whose series version the installed release serves."""
        return [e for e in self.manifest.entries if self._of(e, current=True)]

    @cached_property
    def earlier(self) -> list[Entry]:
        """Lines whose series version only earlier releases served."""
        return [e for e in self.manifest.entries if self._of(e, current=False)]

    @cached_property
    def unresolved(self) -> list[Unresolved]:
        """Every line that names no known series, in file order."""
        found = [Unresolved(u.line, u.text, u.reason) for u in self.manifest.unreadable]
        found += [
            Unresolved(e.line, e.crdc_series_uuid, UNKNOWN)
            for e in self.manifest.entries
            if e.crdc_series_uuid not in self.series
        ]
        return sorted(found, key=lambda u: u.line)

    @cached_property
    def distinct(self) -> list[Series]:
        """Each resolved series once."""
        seen = dict.fromkeys(e.crdc_series_uuid for e in self.manifest.entries)
        return [self.series[u] for u in seen if u in self.series]

    @cached_property
    def duplicates(self) -> dict[str, list[int]]:
        """Series listed on more than one line, with those lines."""
        counts = Counter(e.crdc_series_uuid for e in self.manifest.entries)
        lines: dict[str, list[int]] = {u: [] for u, n in counts.items() if n > 1}
        for e in self.manifest.entries:
            if e.crdc_series_uuid in lines:
                lines[e.crdc_series_uuid].append(e.line)
        return lines

    @cached_property
    def releases(self) -> dict[int, int]:
        """How many resolved lines each release served, for the releases that served any."""
        # each line adds one to a range of releases: count where ranges start and end
        edges: Counter[int] = Counter()
        for e in (*self.current, *self.earlier):
            s = self.series[e.crdc_series_uuid]
            edges[s.first_release] += 1
            edges[s.last_release + 1] -= 1
        counts, running = {}, 0
        for release in range(min(edges, default=0), max(edges, default=0)):
            running += edges[release]
            if running:
                counts[release] = running
        return counts

    @property
    def resolved_lines(self) -> int:
        return len(self.current) + len(self.earlier)

    @property
    def best_release(self) -> int | None:
        """The newest release serving the most resolved lines."""
        if not self.releases:
            return None
        most = max(self.releases.values())
        return max(r for r, n in self.releases.items() if n == most)

    @property
    def size_bytes(self) -> int:
        return sum(s.size_bytes for s in self.distinct)

    @property
    def instances(self) -> int:
        """Instances of the current-release series (the index counts no others)."""
        return sum(s.instances or 0 for s in self.distinct if s.current)

    def _of(self, entry: Entry, *, current: bool) -> bool:
        series = self.series.get(entry.crdc_series_uuid)
        return series is not None and series.current == current

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        m = self.manifest
        return {
            "manifest": m.name,
            "form": m.form,
            "index": self.index,
            "installed_release": self.installed,
            "lines": m.lines,
            "comment_lines": m.comments,
            "series_lines": len(m.entries) + len(m.unreadable),
            "resolved_lines": self.resolved_lines,
            "current_lines": len(self.current),
            "earlier_release_lines": len(self.earlier),
            "unresolved_lines": len(self.unresolved),
            "series": len(self.distinct),
            "duplicates": self.duplicates,
            "instances_current": self.instances,
            "size_bytes": self.size_bytes,
            "collections": sorted({s.collection_id for s in self.distinct if s.collection_id}),
            "releases": {f"v{r}": n for r, n in self.releases.items()},
            "best_release": self.best_release,
            "declared": {
                "cohort": m.header.cohort,
                "release": m.header.release,
                "digest": m.header.digest,
                "series": m.header.series,
                "size_mb": m.header.size_mb,
            },
            "unresolved": [
                {"line": u.line, "text": u.text, "reason": u.reason} for u in self.unresolved
            ],
        }

    def lines(self, limit: int = 20) -> list[str]:
        """The report for people; at most ``limit`` unresolved lines are spelled out."""
        m = self.manifest
        series_lines = len(m.entries) + len(m.unreadable)
        form = "manifest-json, " if m.form == "manifest-json" else ""
        out = [
            f"{m.name}: {form}{m.lines:,} lines, {series_lines:,} naming series, "
            f"{m.comments:,} comments (checked against {self.index}, IDC v{self.installed})"
        ]
        h = m.header
        if h.release is not None or h.series is not None:
            declared = [
                f"cohort {h.cohort}" if h.cohort else "",
                f"IDC v{h.release}" if h.release else "",
                f"{h.series:,} series" if h.series is not None else "",
            ]
            out.append("  declared     " + ", ".join(d for d in declared if d))
        out.append(
            f"  current      {_lines(len(self.current))} in IDC v{self.installed} "
            f"({self.instances:,} instances)"
        )
        if self.earlier:
            first = min(self.series[e.crdc_series_uuid].first_release for e in self.earlier)
            last = max(self.series[e.crdc_series_uuid].last_release for e in self.earlier)
            out.append(
                f"  earlier      {_lines(len(self.earlier))} in earlier releases only "
                f"(v{first}-v{last}, from prior_versions_index)"
            )
        else:
            out.append(f"  earlier      {_lines(0)} in earlier releases only")
        out.append(f"  unresolved   {_lines(len(self.unresolved))}")
        out.append(
            f"  series       {len(self.distinct):>8,} distinct, {size(self.size_bytes)}, "
            f"{len({s.collection_id for s in self.distinct})} collections"
        )
        best = self.best_release
        if best is not None:
            held = self.releases[best]
            out.append(
                f"  releases     v{min(self.releases)}-v{max(self.releases)}; v{best} holds "
                f"{held:,} of the {self.resolved_lines:,} resolved lines"
            )
            if h.release is not None and h.release != best:
                out.append(f"  note: the header says IDC v{h.release}")
        if h.series is not None and h.series != len(m.entries):
            out.append(
                f"  note: the header declares {h.series:,} series; {len(m.entries):,} "
                "lines name one"
            )
        if self.duplicates:
            out.append(f"  duplicates   {len(self.duplicates):,} series listed more than once")
        for u in self.unresolved[:limit]:
            out.append(f"  line {u.line}: {u.reason}: {u.text[:80]}")
        if len(self.unresolved) > limit:
            out.append(f"  ... and {len(self.unresolved) - limit:,} more unresolved lines")
        return out


def _lines(n: int) -> str:
    return f"{n:>8,} line" + ("" if n == 1 else "s")


def inspect(path: str | Path, engine: LocalEngine | None = None) -> Inspection:
    """Read the manifest at ``path`` and resolve its lines against the installed index."""
    from ..engines.local import LocalEngine

    manifest = read_manifest(path)
    eng = engine or LocalEngine()
    series = resolve((e.crdc_series_uuid for e in manifest.entries), eng)
    return Inspection(manifest, series, eng.idc_version, eng.describe_package())
