"""Scheduled refreshes: run cohorts at a release, compare with their last snapshot, record what
changed (see :mod:`.state` for the folder a refresh keeps).

A refresh of a cohort runs it at its target release (the one asked for, else the newest the
engine serves: the installed index, or what ``idc_current`` resolves to on BigQuery) and joins
its series with the cohort's last snapshot in DuckDB. When anything changed, or the spec did,
it writes a new snapshot folder, one file at a time and each atomically, then records it with
a line in the history (the commit point). When nothing changed it writes nothing.

Safe to run from a scheduler: the whole refresh holds the state's lock; an interruption at any
moment (``kill -9`` included) leaves the recorded snapshots and the history as they were, and
the next refresh does the same work again, to the same files.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import EngineError, Option, SpecError, UsageError
from ..release import Release
from ..settings import Notice
from . import snapshot
from .diff import at_release
from .state import DEFAULT_WAIT, State, snapshot_name

if TYPE_CHECKING:
    from ..engines.base import Engine, Rows
    from ..release import Requested
    from ..result import CohortResult, Provenance
    from ..settings import Reporter
    from ..spec import Spec
    from .diff import Diff
    from .state import Entry

#: the files of a snapshot folder, in the order they are written
FILES = ("snapshot.parquet", "added.csv", "revised.csv", "removed.csv", "fetch.s5cmd")
SUMMARY = "changes.txt"
KINDS = ("added", "removed", "revised")


def _checkpoint(step: str) -> None:
    """Called after each step of a refresh that writes (each file, then the commit): nothing
    happens here; a test may stop a refresh at any of them."""


@dataclass(frozen=True)
class Refreshed:
    """What a refresh of one cohort found, and did."""

    cohort: str
    #: a new snapshot was recorded (the series or the spec changed, or it is the first)
    changed: bool
    #: the release read
    release: int
    #: the cohort's last snapshot now: the new one when ``changed``
    snapshot: str
    #: the snapshot it was compared with (None: the cohort's first)
    previous: str | None
    added: int
    removed: int
    revised: int
    unchanged: int
    series: int
    cohort_version: int
    spec_changed: bool
    #: the last snapshot's folder
    folder: Path
    size_mb: dict[str, float] = field(default_factory=dict)

    @property
    def fetch(self) -> Path:
        """The manifest of what to download since the previous snapshot."""
        return self.folder / "fetch.s5cmd"

    def as_dict(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort,
            "changed": self.changed,
            "release": self.release,
            "added": self.added,
            "removed": self.removed,
            "revised": self.revised,
            "unchanged": self.unchanged,
            "series": self.series,
            "size_mb": {k: round(v, 6) for k, v in self.size_mb.items()},
            "snapshot": self.snapshot,
            "previous": self.previous,
            "cohort_version": self.cohort_version,
            "spec_changed": self.spec_changed,
            "folder": str(self.folder),
            "fetch": str(self.fetch) if self.changed else None,
        }


def cohort_digest(spec: Spec) -> str:
    """The spec's digest without its release: a refresh decides the release, so a spec that
    only names another one is the same cohort."""
    from ..spec import digest

    return digest(spec.model_copy(update={"idc_version": None}))


def refresh(
    specs: Sequence[Spec],
    engine: Engine,
    state: str | Path,
    *,
    idc_version: Requested = None,
    wait: float = DEFAULT_WAIT,
    destination: str | None = None,
    layout: str | None = None,
    cloud: str | None = None,
    report: Reporter | None = None,
) -> list[Refreshed]:
    """Refresh each of ``specs`` in the state folder ``state`` (made if missing), holding its
    lock (waiting at most ``wait`` seconds for another refresh of it). ``destination``,
    ``layout`` and ``cloud`` shape the download manifests, as for any manifest."""
    from ..writers import needs

    manifest = {"destination": destination, "layout": layout, "cloud": cloud}
    needs("s5cmd", **manifest)  # checked before anything runs
    unique_names(specs)
    folder = State.open(state, create=True)
    with folder.locked(wait):
        return [
            refresh_cohort(
                spec,
                engine,
                folder,
                idc_version=idc_version,
                manifest=manifest,
                report=report,
            )
            for spec in specs
        ]


def unique_names(specs: Sequence[Spec]) -> None:
    """Refuse two specs of one name: a state keeps a cohort by its name."""
    from ..errors import UsageError

    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen:
            raise UsageError(
                f"{seen[spec.name] or 'a spec'} and {spec.origin or 'another'} are both named "
                f"{spec.name!r}; a state keeps one cohort of each name"
            )
        seen[spec.name] = spec.origin


def refresh_cohort(
    spec: Spec,
    engine: Engine,
    state: State,
    *,
    idc_version: Requested = None,
    manifest: Mapping[str, str | None] | None = None,
    report: Reporter | None = None,
) -> Refreshed:
    """Refresh one cohort; the caller holds the state's lock."""
    from ..pipeline import run
    from ..result import CohortResult
    from ..writers import needs

    report = report or engine.report
    requested: Requested = idc_version or "current"
    state.sweep(spec.name)
    last = state.last(spec.name)
    manifest = dict(manifest or {})
    also = tuple(dict.fromkeys((*snapshot.KEPT, *needs("s5cmd", **manifest))))
    result = run(at_release(spec, requested), engine, also=also, report=report)
    assert isinstance(result, CohortResult)
    rows = result.rows
    release: Release = rows.release
    if release.number is None:
        raise EngineError(
            f"{spec.name}: which release idc_current is could not be told; name it with ",
            Option("idc_version"),
        )
    if last is not None and release.number < last.release:
        raise UsageError(
            f"its last snapshot ({last.snapshot}) is of v{last.release}, and a "
            f"refresh moves a cohort forward: v{release.number} is older. Keep a cohort at an "
            "earlier release in a state folder of its own (",
            Option("state"),
            ")",
        )
    if spec.idc_version not in (None, "current", release.number):
        report(
            Notice(
                "note",
                (
                    f"{spec.name}: the spec names idc_version {spec.idc_version}; a refresh "
                    "reads the release it is given (",
                    Option("idc_version"),
                    f"), else the newest: v{release.number}",
                ),
            )
        )
    digest = cohort_digest(spec)
    now = snapshot.materialized(rows, "refresh_now")
    try:
        before = _release_of(last)
        previous = state.folder(spec.name, last.snapshot) / FILES[0] if last else None
        change = snapshot.compare(
            rows,
            now,
            previous,
            cohort=spec.name,
            before=before,
            digest=digest,
            engine=engine.target.name,
        )
        series, total_mb = snapshot.totals(rows, now)
        counts = change.counts
        spec_changed = last is not None and last.digest != digest
        if series == 0 and result.warnings and (last is None or spec_changed):
            # a new cohort (version) that selects nothing because values it asks for match
            # nothing: a misspelling, which an unattended refresh would record as a snapshot
            raise SpecError(
                spec.origin or spec.name,
                "the cohort selects no series, and values it asks for match nothing (the "
                "warnings above): nothing was recorded; correct the values, or check them with "
                "`idc-sql values FIELD`",
            )
        version = (last.cohort_version + spec_changed) if last else 1
        sizes = {
            "total": total_mb,
            "added": counts.added_mb,
            "removed": counts.removed_mb,
            "revised": counts.revised_mb,
        }
        outcome = Refreshed(
            cohort=spec.name,
            changed=last is None or counts.changed or spec_changed,
            release=release.number,
            snapshot=last.snapshot if last else "",
            previous=last.snapshot if last else None,
            added=counts.added,
            removed=counts.removed,
            revised=counts.revised,
            unchanged=counts.unchanged,
            series=series,
            cohort_version=version,
            spec_changed=spec_changed,
            folder=state.folder(spec.name, last.snapshot) if last else state.root,
            size_mb=sizes,
        )
        if not outcome.changed:
            return outcome
        name = snapshot_name(len(state.entries(spec.name)) + 1, release.number, digest)
        folder = state.folder(spec.name, name)
        outcome = replace(outcome, snapshot=name, folder=folder)
        _write(spec, result, state, outcome, change, rows, now, manifest, last)
        return outcome
    finally:
        snapshot.drop(rows, now)


def _release_of(entry: Entry | None) -> Release:
    if entry is None:
        return Release(None, "", "no snapshot yet")
    return Release(
        entry.release,
        f"idc_v{entry.release}",
        f"snapshot {entry.snapshot}",
        requested=entry.release,
    )


def _write(
    spec: Spec,
    result: CohortResult,
    state: State,
    outcome: Refreshed,
    change: Diff,
    rows: Rows,
    now: str,
    manifest: Mapping[str, str | None],
    last: Entry | None,
) -> None:
    """Write the snapshot folder, file by file, then commit its line to the history."""
    from ..spec.loading import _canonical  # the digest's own body, recorded with it
    from ..writers import write

    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    stamp = when.isoformat().replace("+00:00", "Z")
    folder = state.make_folder(spec.name, outcome.snapshot)
    p = result.provenance
    release = rows.release
    provenance = {
        "cohort": spec.name,
        "snapshot": outcome.snapshot,
        "when": stamp,
        "release": outcome.release,
        "requested": release.requested,
        "engine": p.engine,
        "source": p.source,
        "index_package": release.index_package,
        "digest": outcome_digest(outcome),
        "cohort_version": outcome.cohort_version,
        "spec": _canonical(spec, {}),
        "columns": list(result.columns),
        "sql": p.sql,
        "params": {k: _jsonable(v) for k, v in p.params.items()},
        "idc_sql": __version__,
    }
    snapshot.write(rows, now, folder / FILES[0], provenance)
    _checkpoint(FILES[0])
    since = f"since {outcome.previous}" if outcome.previous else "in its first snapshot"
    base = _replace_provenance(p, outcome, since)
    parts = {
        "added.csv": snapshot.part(change, ("added",), base("added")),
        "revised.csv": snapshot.part(change, ("revised",), base("revised"), both=True),
        "removed.csv": snapshot.part(
            change, ("removed",), base("removed", _release_of(last)), old=True
        ),
        "fetch.s5cmd": snapshot.part(change, ("added", "revised"), base("to fetch")),
    }
    for name, part in parts.items():
        fmt = "s5cmd" if name.endswith(".s5cmd") else "csv"
        write(part, str(folder / name), fmt, **(manifest if fmt == "s5cmd" else {}))
        _checkpoint(name)
    from .report import changes_text, write_text

    write_text(folder / SUMMARY, changes_text(outcome, p.source, stamp, change, last))
    _checkpoint(SUMMARY)
    record = {
        "when": stamp,
        "cohort": spec.name,
        "snapshot": outcome.snapshot,
        "release": outcome.release,
        "requested": release.requested,
        "engine": p.engine,
        "source": p.source,
        "digest": provenance["digest"],
        "cohort_version": outcome.cohort_version,
        "spec_changed": outcome.spec_changed,
        "previous": outcome.previous,
        "counts": {
            "series": outcome.series,
            "added": outcome.added,
            "removed": outcome.removed,
            "revised": outcome.revised,
            "unchanged": outcome.unchanged,
        },
        "bytes": {
            k: round(v * 1e6)
            for k, v in {
                **outcome.size_mb,
                "fetch": outcome.size_mb["added"] + outcome.size_mb["revised"],
            }.items()
        },
        "spec_origin": spec.origin or None,
        "idc_sql": __version__,
    }
    state.commit(record)
    _checkpoint("history")


def outcome_digest(outcome: Refreshed) -> str:
    return outcome.snapshot.rsplit("-", 1)[-1]


def _replace_provenance(p: Provenance, outcome: Refreshed, since: str) -> Any:
    """Provenance of a delta file: the cohort's, named for what the file holds."""

    def make(what: str, settled: Release | None = None) -> Provenance:
        return replace(
            p,
            cohort=f"{outcome.cohort} ({what} {since})",
            digest=outcome_digest(outcome),
            settled=settled or p.settled,
        )

    return make


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
