"""What to download: each series once, with its bucket, its folder and what it must hold.

From a manifest (any form :mod:`idc_sql.manifests_in` reads) or from a cohort specification,
which is run first. Either way every series is looked up in the installed index (one query),
which says how many instances and bytes a complete download of it holds, in this release or an
earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..clouds import Cloud
from ..errors import UsageError
from ..manifests_in import Entry, Manifest, Series, names_a_spec, read_manifest, resolve
from ..targets import DEFAULT
from .layout import check_distinct, default_folder, manifest_folder, own_folders

if TYPE_CHECKING:
    from ..engines.local import LocalEngine

#: what a cohort's rows must carry to be downloaded
COHORT_FIELDS = (
    "crdc_series_uuid",
    "aws_bucket",
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
)


@dataclass(frozen=True)
class Item:
    """One series to have on disk."""

    crdc_series_uuid: str
    #: the bucket in the cloud downloaded from (None: no line or index row says)
    bucket: str | None
    #: its folder, relative to the destination (``/``-separated)
    folder: str
    #: where it came from: ``line 12`` of the manifest, or the cohort
    origin: str
    #: what the index says of it (None: a series the installed index does not know)
    series: Series | None
    #: what the manifest says it holds (a manifest-json's instance_count and size_bytes),
    #: for what the index does not say
    declared: tuple[int | None, int | None] = (None, None)

    @property
    def instances(self) -> int | None:
        if self.series is not None and self.series.instances is not None:
            return self.series.instances
        return self.declared[0]

    @property
    def size_bytes(self) -> int | None:
        return self.declared[1] if self.series is None else self.series.size_bytes

    @property
    def known(self) -> bool:
        """Whether what a complete download of it holds is known (the index says, or the
        manifest gives its instance count and size)."""
        return self.series is not None or None not in self.declared

    @property
    def tolerance(self) -> int:
        return 0 if self.series is None else self.series.size_tolerance


@dataclass
class Items:
    """The series of a source, and what was noticed while reading it."""

    items: list[Item]
    #: things to tell (a layout replaced, duplicate lines), and problems to report at the end
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    manifest: Manifest | None = None


def from_source(source: Any, cloud: Cloud, engine: LocalEngine | None = None) -> Items:
    """The items of a manifest file, or of a specification (run on the local engine)."""
    if isinstance(source, Manifest):
        return from_manifest(source, cloud, engine)
    if names_a_spec(source):
        return from_cohort(source, cloud, engine)
    return from_manifest(read_manifest(source), cloud, engine)


def first_entries(manifest: Manifest) -> tuple[dict[str, Entry], list[str]]:
    """Each series of ``manifest`` once, by uuid (its first line), and notes on repeats."""
    entries: dict[str, Entry] = {}
    notes = []
    for entry in manifest.entries:
        kept = entries.setdefault(entry.crdc_series_uuid, entry)
        if kept is not entry:
            notes.append(f"line {entry.line} repeats the series of line {kept.line}")
    return entries, notes


def from_manifest(
    manifest: Manifest,
    cloud: Cloud,
    engine: LocalEngine | None = None,
    *,
    known: dict[str, Series] | None = None,
) -> Items:
    """The items of ``manifest``; ``known``: what the index says of its series, when it was
    read already (without the layout's columns: the manifest's folders are kept)."""
    if not manifest.entries:
        first = manifest.unreadable[0] if manifest.unreadable else None
        why = f": line {first.line}: {first.reason}" if first else ""
        raise UsageError(f"{manifest.name} names no series{why}")
    problems = [
        f"line {u.line} names no series ({u.reason}): {u.text[:80]}" for u in manifest.unreadable
    ]
    entries, notes = first_entries(manifest)
    keep = own_folders(e.destination for e in entries.values())
    if not keep and any(e.destination not in (None, ".", "./") for e in entries.values()):
        notes.append(
            "the manifest's destinations do not give every series a folder of its own "
            "inside the destination: using collection/patient/study/series folders"
        )
    if known is None or not keep:
        known = resolve(entries, engine, places=not keep)
    items = []
    for uuid, entry in entries.items():
        series = known.get(uuid)
        if series is not None and series.aws_bucket is not None:
            bucket: str | None = cloud.bucket(series.aws_bucket, series.gcs_bucket)
        elif entry.bucket is not None:
            bucket = cloud.bucket_from(entry.scheme, entry.bucket)
        else:
            bucket = None
        if keep:
            folder = manifest_folder(entry.destination) or ""
        elif series is not None:
            folder = default_folder(
                uuid,
                series.collection_id,
                series.PatientID,
                series.StudyInstanceUID,
                series.SeriesInstanceUID,
            )
        else:
            folder = default_folder(uuid, None, None, None, None)
        holds = (entry.instances, entry.size_bytes)
        items.append(Item(uuid, bucket, folder, f"line {entry.line}", series, holds))
    unknown = [i for i in items if i.series is None]
    if unknown:
        unchecked = sum(1 for i in unknown if i.size_bytes is None)
        how = (
            "checked only for having files"
            if unchecked == len(unknown)
            else "checked against what the manifest says they hold"
            if not unchecked
            else f"checked against what the manifest says they hold ({unchecked:,} only for "
            "having files)"
        )
        notes.append(
            f"{len(unknown):,} series are in no release of the installed index: they "
            f"are downloaded as listed, and {how}"
        )
    declared = manifest.header.series
    if declared is not None and declared != len(manifest.entries):
        problems.append(
            f"the manifest's header declares {declared:,} series but "
            f"{len(manifest.entries):,} lines name one: it may be cut short"
        )
    check_distinct({i.crdc_series_uuid: (i.folder, i.origin) for i in items})
    return Items(items, notes, problems, manifest)


def from_cohort(spec: Any, cloud: Cloud, engine: LocalEngine | None = None) -> Items:
    from ..api import run

    result = run(spec, engine or DEFAULT, also=COHORT_FIELDS)
    rows = result.fetch(result.select(COHORT_FIELDS))
    known = resolve((r[0] for r in rows), engine)
    items = []
    for uuid, aws, collection, patient, study, series_uid in rows:
        series = known.get(uuid)
        gcs = series.gcs_bucket if series is not None else None
        folder = default_folder(uuid, collection, patient, study, series_uid)
        items.append(Item(uuid, cloud.bucket(aws, gcs), folder, "the cohort", series))
    check_distinct({i.crdc_series_uuid: (i.folder, i.origin) for i in items})
    return Items(items)
