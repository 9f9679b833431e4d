"""Where each series goes under the destination folder: a folder of its own.

By default ``<collection_id>/<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>``, each value
made safe for a path (:func:`component`). A manifest whose lines give every series a folder of
its own inside the destination (``cp s3://.../* data/nlst/100002/.../``) keeps its folders;
one whose series share a folder (``.``, as the IDC Portal writes) or whose folders would leave
the destination gets the default layout.

>>> component("ZZ RIDER 1"), component(".."), component("a/../b"), component(None)
('ZZ_RIDER_1', '_', 'a_.._b', '_')
>>> manifest_folder("data/x/./y/"), manifest_folder("../up"), manifest_folder("/abs")
('data/x/y', None, None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import UsageError

#: what may appear in a folder name as is; anything else becomes ``_``
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=@,-]")
#: longest folder name kept (file systems allow 255 bytes)
_LONGEST = 200


def component(value: str | None) -> str:
    """``value`` as one folder name: no separator, no control or shell character, never
    ``.`` or ``..``, never empty."""
    text = _UNSAFE.sub("_", value or "")[:_LONGEST]
    return "_" if text in ("", ".", "..") else text


def default_folder(
    crdc_series_uuid: str,
    collection_id: str | None,
    patient: str | None,
    study: str | None,
    series: str | None,
) -> str:
    """The default folder of a series (its crdc_series_uuid when the index does not know it)."""
    if None in (collection_id, patient, study, series):
        return component(crdc_series_uuid)
    return "/".join(component(v) for v in (collection_id, patient, study, series))


def manifest_folder(destination: str | None) -> str | None:
    """A manifest line's destination as a folder inside the destination folder, or None when
    it cannot be one (absent, absolute, leaving it, or holding characters s5cmd misreads)."""
    if not destination or destination.startswith(("/", "~")):
        return None
    parts = [p for p in destination.split("/") if p not in ("", ".")]
    if any(p == ".." or _UNSAFE.search(p) for p in parts):
        return None
    return "/".join(parts)


def own_folders(destinations: Iterable[str | None]) -> bool:
    """Whether these destinations give every series a usable folder of its own."""
    seen: set[str] = set()
    for destination in destinations:
        folder = manifest_folder(destination)
        if not folder or folder in seen:
            return False
        seen.add(folder)
    return True


def check_distinct(folders: dict[str, tuple[str, str]]) -> None:
    """Refuse two series in one folder; ``folders`` maps uuid -> (folder, where it is from)."""
    owner: dict[str, str] = {}
    for uuid, (folder, _) in folders.items():
        other = owner.setdefault(folder, uuid)
        if other != uuid:
            raise UsageError(
                f"series {other} ({folders[other][1]}) and {uuid} ({folders[uuid][1]}) "
                f"would both be downloaded into {folder}/: list one version of a series only"
            )
