"""How much a cohort holds: series, studies, patients, collections and size."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .cost import size


@dataclass(frozen=True)
class Summary:
    """How much a cohort holds."""

    series: int
    studies: int
    patients: int
    collections: int
    size_mb: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        return [
            f"series       {self.series:>12,}",
            f"studies      {self.studies:>12,}",
            f"patients     {self.patients:>12,}",
            f"collections  {self.collections:>12,}",
            f"size         {human_size(self.size_mb):>12}",
        ]


def human_size(mb: float) -> str:
    """Megabytes as a short decimal size: 1,500 MB -> '1.50 GB'."""
    return size(mb * 1e6)
