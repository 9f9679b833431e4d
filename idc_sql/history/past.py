"""A cohort's recorded snapshots: the list, and any one of them as a result to write again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Option, StateError, UsageError
from ..release import Release
from . import snapshot
from .state import Entry, State

if TYPE_CHECKING:
    from ..result import CohortResult


def snapshots(cohort: str, state: str | Path) -> list[Entry]:
    """The snapshots of ``cohort`` recorded in the state folder ``state``, oldest first."""
    return State.open(state, create=False).entries(cohort)


def chosen(entries: list[Entry], release: int | None = None, name: str | None = None) -> Entry:
    """The snapshot named ``name``, else the latest of ``release``, else the latest."""
    if not entries:
        raise UsageError("no snapshot is recorded for this cohort in ", Option("state"))
    if name is not None:
        found = [e for e in entries if e.snapshot == name]
        what = f"no snapshot is named {name}"
    elif release is not None:
        found = [e for e in entries if e.release == release]
        what = f"no snapshot is of IDC v{release}"
    else:
        return entries[-1]
    if not found:
        have = ", ".join(f"{e.snapshot} (v{e.release})" for e in entries)
        raise UsageError(f"{what}; the cohort's snapshots are {have}")
    return found[-1]


def recorded(
    cohort: str,
    state: str | Path,
    *,
    release: int | None = None,
    name: str | None = None,
) -> CohortResult:
    """A recorded snapshot of ``cohort`` (see :func:`chosen`) as a result any writer takes:
    every series the cohort had then, with the provenance it had then."""
    folder = State.open(state, create=False)
    entry = chosen(folder.entries(cohort), release, name)
    path = folder.folder(cohort, entry.snapshot) / "snapshot.parquet"
    if not path.is_file():
        raise StateError(f"the snapshot file {path} is missing: the state is damaged")
    record = entry.record
    settled = Release(
        entry.release,
        f"idc_v{entry.release}",
        f"recorded in snapshot {entry.snapshot}",
        requested=record.get("requested", entry.release),
    )
    read_from = record.get("source", record.get("engine", ""))
    source = f"{read_from}; snapshot {entry.snapshot} of {entry.when}"
    result = snapshot.read(path, settled, source)
    if result.provenance.digest != entry.digest:
        raise StateError(
            f"the snapshot file {path} does not hold what the history records: the state is damaged"
        )
    return result
