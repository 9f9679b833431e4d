"""Credit, offline: the collections and analysis results a cohort or manifest draws from, with
the DOI, citation text and license the local index ships for each, IDC's own publication, and
the license split of every run (a non-commercial part is called out).

>>> non_commercial("CC BY-NC 4.0"), non_commercial("CC BY 4.0")
(True, False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formats import FORMATS, IDC, IDC_TEXT, references
from .gather import Collection, Credits, Share, Source, non_commercial

if TYPE_CHECKING:
    from ..engines.local import LocalEngine
    from ..result import CohortResult

__all__ = [
    "FORMATS",
    "IDC",
    "IDC_TEXT",
    "LICENSE_FIELDS",
    "Collection",
    "Credits",
    "Share",
    "Source",
    "cite",
    "license_split",
    "non_commercial",
    "references",
]

#: what a result must carry for its license split
LICENSE_FIELDS = ("license_short_name", "series_size_MB")


def cite(source: Any, engine: LocalEngine | None = None) -> Credits:
    """The credits of a cohort specification (run on the local engine) or a manifest."""
    from ..engines.local import LocalEngine
    from ..manifests_in import names_a_spec, read_manifest, resolve
    from .gather import gather

    eng = engine or LocalEngine()
    if names_a_spec(source):
        from ..api import run

        result = run(source, eng, also=("crdc_series_uuid",))
        uuids = [row[0] for row in result.fetch(result.select(("crdc_series_uuid",)))]
        name = result.provenance.cohort
    else:
        manifest = read_manifest(source)
        uuids = [e.crdc_series_uuid for e in manifest.entries]
        name = manifest.name
    return gather(name, uuids, resolve(uuids, eng), eng)


def license_split(result: CohortResult) -> list[Share]:
    """The series and size of ``result`` under each license, most series first (counted with
    its summary, when its rows carry :data:`LICENSE_FIELDS`; else empty)."""
    return [
        Share(name if name is not None else "unknown", n, round(mb * 1e6))
        for name, n, mb in result.licenses
    ]
