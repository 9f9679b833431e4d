"""The IDC release a query reads, settled once and carried to the result's provenance.

A specification asks for a release (``idc_version: 24``, ``current``, or nothing: the engine's
own). The engine settles it into a :class:`Release`: which number, which BigQuery dataset, how
it was decided, and which index package answers it locally. The planner, the compiler, the
engines and the writers all read this one value.

>>> r = Release(number=25, dataset="idc_v25", how="pinned by the specification")
>>> r.label, r.dataset
('v25', 'idc_v25')
>>> Release(number=None, dataset="idc_current", how="idc_current").label
'current'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Requested = int | Literal["current"] | None


@dataclass(frozen=True)
class Release:
    """One IDC release as an engine reads it."""

    #: the release number; None while ``idc_current`` is not yet resolved (compile only)
    number: int | None
    #: the BigQuery dataset of that release (``idc_v25``, ``idc_current``)
    dataset: str
    #: how it was decided, for people: "pinned by the specification", "the installed index", ...
    how: str
    #: the package that holds the local index of this release (e.g. "idc-index-data 25.0.5")
    index_package: str | None = None
    #: what the specification asked for
    requested: int | Literal["current"] = "current"
    #: the BigQuery project that holds the dataset
    project: str = "bigquery-public-data"
    #: where the local engine keeps this release's tables (None: its default schema)
    schema: str | None = None

    @property
    def label(self) -> str:
        """``v25``, or ``current`` while the number is unknown."""
        return f"v{self.number}" if self.number is not None else "current"

    def resolved(self, number: int, how: str) -> Release:
        """This release once ``idc_current`` is known to be ``number``."""
        return replace(self, number=number, how=how)


def dataset_of(version: Requested) -> str:
    """The BigQuery dataset of a requested release: ``idc_v24`` or ``idc_current``."""
    return "idc_current" if version in (None, "current") else f"idc_v{int(version)}"
