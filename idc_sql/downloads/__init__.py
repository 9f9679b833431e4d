"""Downloads: a manifest or a cohort to files on disk, every series checked.

:func:`fetch` reads the source (:mod:`.items`), looks at what the destination already holds
(:mod:`.disk`), runs the real s5cmd on what is missing (:mod:`.transfer`, with progress from
:mod:`.progress`), then checks every series against the instance count and size the index gives
(:mod:`.verify`). A series already complete is not fetched again; one partly there is completed
(s5cmd skips the files it already has whole). :func:`plan` says what a download would fetch;
:func:`download` returns the files on disk, or raises when anything is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clouds import CLOUDS, DEFAULT_CLOUD, DEFAULT_RETRIES, DEFAULT_TIMEOUT, Cloud
from ..cost import size
from ..errors import IncompleteDownload, Option, UsageError
from ..manifests_in import Entry, Manifest, Series, names_a_spec, read_manifest, resolve
from ..settings import Notice, Reporter, silent
from .disk import OnDisk, look, sweep
from .items import Item, first_entries, from_manifest, from_source
from .layout import manifest_folder, own_folders
from .progress import Progress
from .transfer import Outcome, Transfer
from .verify import Problem, Report, state, verify

if TYPE_CHECKING:
    from ..engines.local import LocalEngine

__all__ = ["Plan", "Problem", "Report", "download", "fetch", "plan"]


@dataclass(frozen=True)
class Step:
    """One series and what a download must do for it."""

    item: Item
    on_disk: OnDisk
    #: ``complete``, ``partial`` or ``absent``
    state: str

    @property
    def missing_bytes(self) -> int | None:
        expected = self.item.size_bytes
        return None if expected is None else max(expected - self.on_disk.bytes, 0)

    def command(self) -> str:
        """The s5cmd line that completes this series (``-s``: skip files already whole)."""
        assert self.item.bucket is not None
        skip = " -s" if self.state == "partial" else ""
        folder = f"./{self.item.folder}/" if self.item.folder else "./"
        return f"cp{skip} s3://{self.item.bucket}/{self.item.crdc_series_uuid}/* {folder}"


@dataclass
class Plan:
    """What a download into ``dest`` would do."""

    dest: Path
    endpoint: str
    steps: list[Step]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def to_fetch(self) -> list[Step]:
        return [s for s in self.steps if s.state != "complete" and s.item.bucket is not None]

    @property
    def bytes_to_fetch(self) -> int:
        return sum(s.missing_bytes or 0 for s in self.to_fetch)

    def lines(self) -> list[str]:
        """One line per series to fetch, then the total (``--dry-run``)."""
        out = []
        for s in self.to_fetch:
            left = "size unknown" if s.missing_bytes is None else size(s.missing_bytes)
            partly = f", {s.on_disk.files:,} files already there" if s.state == "partial" else ""
            out.append(f"{s.command()}    # {left}{partly}")
        complete = sum(1 for s in self.steps if s.state == "complete")
        out.append(
            f"# would fetch {len(self.to_fetch):,} of {len(self.steps):,} series, "
            f"{size(self.bytes_to_fetch)}, from {self.endpoint} into {self.dest}; "
            f"{complete:,} already complete"
        )
        return out


def _cloud(name: str) -> Cloud:
    if name not in CLOUDS:
        raise UsageError(
            Option("cloud", name), f" is not a cloud; choose one of {', '.join(CLOUDS)}"
        )
    return CLOUDS[name]


def _dest(dest: str | Path) -> Path:
    path = Path(dest).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(Option("dest", str(dest)), " is not a folder")
    return path.resolve()


def plan(
    source: Any,
    dest: str | Path,
    *,
    cloud: str = DEFAULT_CLOUD,
    endpoint_url: str | None = None,
    engine: LocalEngine | None = None,
) -> Plan:
    """What downloading ``source`` (a manifest path or one read, or a cohort specification)
    into ``dest`` would fetch; fetches nothing."""
    where = _dest(dest)
    chosen = _cloud(cloud)
    found = from_source(source, chosen, engine)
    steps = []
    for item in found.items:
        on_disk = look(where / item.folder)
        steps.append(Step(item, on_disk, state(item, on_disk)))
    return Plan(where, endpoint_url or chosen.endpoint, steps, found.notes, found.problems)


def fetch(
    source: Any,
    dest: str | Path,
    *,
    cloud: str = DEFAULT_CLOUD,
    endpoint_url: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    timeout: float = DEFAULT_TIMEOUT,
    sign_requests: bool = False,
    report: Reporter = silent,
    engine: LocalEngine | None = None,
) -> Report:
    """Download ``source`` into ``dest`` and check every series; the report says what is
    where and what is missing (a failure to reach the endpoint raises
    :class:`~idc_sql.errors.DownloadError`).

    A manifest whose lines give every series a folder of its own, none of which exists yet,
    starts downloading at once: the index is read meanwhile, on another thread.
    """
    _check(workers, retries, timeout)
    started = time.monotonic()
    chosen = _cloud(cloud)
    transfer = Transfer(endpoint_url or chosen.endpoint, workers, retries, timeout, sign_requests)
    if not names_a_spec(source):
        source = read_manifest(source)  # once
    if isinstance(source, Manifest) and _fresh(source, _dest(dest), chosen):
        p, outcome, progress = _fetch_fresh(source, _dest(dest), chosen, transfer, report, engine)
    else:
        p = plan(source, dest, cloud=cloud, endpoint_url=endpoint_url, engine=engine)
        for note in p.notes:
            report(Notice("note", (note,)))
        for step in p.to_fetch:
            if step.on_disk.leftovers:
                sweep(p.dest / step.item.folder)
        progress = Progress(report, {s.item.crdc_series_uuid: _expected(s) for s in p.to_fetch})
        outcome = _transfer(p.to_fetch, p.dest, transfer, progress)
    for said in outcome.other[:5]:  # what s5cmd said of no series in particular
        report(Notice("note", (f"s5cmd: {said}",)))
    problems = [Problem(text) for text in p.problems]
    problems += verify([s.item for s in p.steps], p.dest, outcome.failures)
    return Report(
        dest=p.dest,
        items=[s.item for s in p.steps],
        skipped=sum(1 for s in p.steps if s.state == "complete"),
        fetched=len(p.to_fetch),
        bytes_fetched=progress.bytes,
        seconds=time.monotonic() - started,
        problems=problems,
        notes=p.notes,
    )


def _expected(step: Step) -> tuple[int | None, int | None]:
    """The files and bytes a step still has to bring."""
    n = step.item.instances
    return (None if n is None else max(n - step.on_disk.files, 0), step.missing_bytes)


def _transfer(
    steps: list[Step],
    dest: Path,
    transfer: Transfer,
    progress: Progress,
    tick: Callable[[], None] | None = None,
    started: Callable[[], None] | None = None,
) -> Outcome:
    if not steps:
        if started is not None:
            started()
        return Outcome()
    from ..outputs.signals import _intercepting

    dest.mkdir(parents=True, exist_ok=True)
    with _intercepting():  # SIGTERM and SIGHUP end s5cmd too, then the command
        commands = [s.command() for s in steps]
        outcome = transfer.run(commands, dest, progress.add, tick or progress.tick, started)
    progress.finish()
    return outcome


def _fresh(manifest: Manifest, dest: Path, cloud: Cloud) -> bool:
    """Whether the download of ``manifest`` can start before the index is read: it is in
    ``cloud``'s own URLs and gives every series a folder of its own, none there yet."""
    entries = first_entries(manifest)[0]
    if not entries or not own_folders(e.destination for e in entries.values()):
        return False
    if any(e.scheme != cloud.scheme for e in entries.values()):
        return False
    return not any((dest / str(manifest_folder(e.destination))).exists() for e in entries.values())


def _fetch_fresh(
    manifest: Manifest,
    dest: Path,
    cloud: Cloud,
    transfer: Transfer,
    report: Reporter,
    engine: LocalEngine | None,
) -> tuple[Plan, Outcome, Progress]:
    """Download every series of ``manifest`` into its own (new) folder while the index says
    what each must hold; then the plan it amounts to."""
    from concurrent.futures import Future, ThreadPoolExecutor

    entries = first_entries(manifest)[0]
    steps = [
        Step(
            Item(u, e.bucket, str(manifest_folder(e.destination)), f"line {e.line}", None),
            OnDisk(0, 0),
            "absent",
        )
        for u, e in entries.items()
    ]
    progress = Progress(report, {u: (None, None) for u in entries})
    with ThreadPoolExecutor(1) as pool:
        # the index is read once s5cmd runs: reading it before would hold up s5cmd's start
        known: list[Future[dict[str, Series]]] = []

        def started() -> None:
            known.append(pool.submit(resolve, list(entries), engine))

        def tick() -> None:
            ready = known and known[0].done() and known[0].exception() is None
            if not progress.totals and ready:
                found = known[0].result()
                progress.expect({u: _known(found.get(u), e) for u, e in entries.items()})
            progress.tick()

        outcome = _transfer(steps, dest, transfer, progress, tick, started)
        found = from_manifest(manifest, cloud, engine, known=known[0].result())
    for note in found.notes:
        report(Notice("note", (note,)))
    final = [Step(item, OnDisk(0, 0), "absent") for item in found.items]
    return Plan(dest, transfer.endpoint, final, found.notes, found.problems), outcome, progress


def _known(series: Series | None, entry: Entry) -> tuple[int | None, int | None]:
    """The files and bytes a series holds: as the index says, else as its line says."""
    if series is None:
        return (entry.instances, entry.size_bytes)
    return (series.instances, series.size_bytes)


def download(source: Any, dest: str | Path, **options: Any) -> list[Path]:
    """Download ``source`` (a manifest path or a cohort specification) into ``dest``: the
    paths of every file on disk. Raises :class:`~idc_sql.errors.IncompleteDownload` (with the
    report) when any series lacks files. Options: those of :func:`fetch`."""
    done = fetch(source, dest, **options)
    if not done.ok:
        first = done.problems[0]
        more = f" (and {len(done.problems) - 1:,} more)" if len(done.problems) > 1 else ""
        raise IncompleteDownload(f"{done.headline}: {first}{more}", report=done)
    return done.files()


def _check(workers: int | None, retries: int, timeout: float) -> None:
    if workers is not None and not (isinstance(workers, int) and 1 <= workers <= 4096):
        raise UsageError(Option("workers", workers), " is not allowed: give 1 to 4096")
    if not (isinstance(retries, int) and 0 <= retries <= 100):
        raise UsageError(Option("retries", retries), " is not allowed: give 0 to 100")
    if not (isinstance(timeout, int | float) and 1 <= timeout <= 86_400):
        raise UsageError(Option("timeout", timeout), " is not allowed: give 1 to 86400 seconds")
