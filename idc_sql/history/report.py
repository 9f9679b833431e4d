"""The change summary of a snapshot folder (``changes.txt``): what a person reads first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..summary import human_size

if TYPE_CHECKING:
    from .diff import Diff
    from .refresh import Refreshed
    from .state import Entry

#: what each file of a snapshot folder holds
FILES = {
    "fetch.s5cmd": "what to download: the added series and the new versions of revised ones",
    "added.csv": "the series added",
    "revised.csv": "the series revised: the new version, and the previous one as from_*",
    "removed.csv": "the series removed, as the previous snapshot held them",
    "snapshot.parquet": "every series of the cohort now, with its provenance",
}


def changes_text(
    outcome: Refreshed, source: str, when: str, change: Diff, last: Entry | None
) -> str:
    """The summary of a new snapshot, compared with ``last``."""
    from ..writers.s5cmd import download_command

    lines = [
        f"idc-sql refresh of cohort {outcome.cohort}",
        f"snapshot {outcome.snapshot}, recorded {when}",
        f"IDC v{outcome.release} ({source})",
    ]
    if last is None:
        lines.append("the cohort's first snapshot: every series is added")
    else:
        lines.append(
            f"compared with snapshot {last.snapshot} (IDC v{last.release}, recorded {last.when})"
        )
    digest = outcome.snapshot.rsplit("-", 1)[-1]
    if outcome.spec_changed:
        lines.append(
            f"cohort version {outcome.cohort_version}: the spec changed (digest {digest}, "
            f"was {last.digest if last else '-'})"
        )
    else:
        lines.append(f"cohort version {outcome.cohort_version} (spec digest {digest})")
    mb = outcome.size_mb
    lines += [
        "",
        f"  series now {outcome.series:>12,}  {human_size(mb.get('total', 0.0)):>12}",
        f"  added      {outcome.added:>12,}  {human_size(mb.get('added', 0.0)):>12}",
        f"  removed    {outcome.removed:>12,}  {human_size(mb.get('removed', 0.0)):>12}",
        f"  revised    {outcome.revised:>12,}  {human_size(mb.get('revised', 0.0)):>12}",
        f"  unchanged  {outcome.unchanged:>12,}",
    ]
    kinds = ("added", "removed", "revised")
    rows = [row for row in change.by_collection() if any(row[k] for k in kinds)]
    if rows:
        width = max(len("collection"), *(len(str(r["collection_id"])) for r in rows))
        lines += [
            "",
            "by collection:",
            f"  {'collection':<{width}}  " + "  ".join(f"{k:>9}" for k in kinds),
        ]
        for row in rows:
            counts = "  ".join(f"{row[k]:>9,}" for k in kinds)
            lines.append(f"  {row['collection_id']!s:<{width}}  {counts}")
    lines += ["", "files:"]
    lines += [f"  {name:<17} {what}" for name, what in FILES.items()]
    if outcome.added or outcome.revised:
        lines += ["", "download what changed:", f"  {download_command('fetch.s5cmd')}"]
    return "\n".join(lines) + "\n"


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    from ..outputs import atomic_output, check_output

    with atomic_output(check_output(str(path))) as tmp:
        tmp.write_text(text, encoding="utf-8")
