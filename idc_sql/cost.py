"""The cost guard: an estimate of the bytes a query processes, and the cap it must stay under.

BigQuery bills by bytes processed; the Sandbox gives 1 TB a month free. Every BigQuery query
is dry-run first (free), the estimate is shown in bytes and as a share of that terabyte, and a
query above the cap is refused before it runs. The local engine costs nothing.

>>> decide(3 * 10**9, 50 * 10**9).allowed
True
>>> print(decide(2 * 10**12, 50 * 10**9).message)  # doctest: +NORMALIZE_WHITESPACE
this query would process 2.00 TB (200% of the Sandbox's free 1 TB a month), above the cap of
50.00 GB; raise the cap with max_gb=2100 if you mean it
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import Option, Piece, render

SANDBOX_BYTES_PER_MONTH = 10**12


def size(n: float) -> str:
    """Bytes as a short decimal size: 1,500,000 -> '1.50 MB'."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def describe_bytes(n: int) -> str:
    """``n`` bytes, and their share of the Sandbox's free terabyte a month."""
    share = 100 * n / SANDBOX_BYTES_PER_MONTH
    shown = f"{share:.2g}%" if share < 1 else f"{share:.0f}%"
    return f"{size(n)} ({shown} of the Sandbox's free 1 TB a month)"


@dataclass(frozen=True)
class CostDecision:
    """What the guard decided from an estimate; ``pieces`` say why, naming the option."""

    estimate_bytes: int | None
    cap_bytes: int | None
    allowed: bool
    pieces: tuple[Piece, ...]

    @property
    def message(self) -> str:
        return render(self.pieces)


def decide(estimate_bytes: int, cap: int) -> CostDecision:
    """Allow a query whose estimate is within the cap; refuse it with a way out otherwise."""
    if estimate_bytes <= cap:
        pieces: tuple[Piece, ...] = (
            f"estimate: {describe_bytes(estimate_bytes)}; cap {size(cap)}",
        )
        return CostDecision(estimate_bytes, cap, True, pieces)
    suggestion = math.ceil(estimate_bytes / 10**9 / 100) * 100 + 100
    pieces = (
        f"this query would process {describe_bytes(estimate_bytes)}, above the cap of "
        f"{size(cap)}; raise the cap with ",
        Option("max_gb", suggestion),
        " if you mean it",
    )
    return CostDecision(estimate_bytes, cap, False, pieces)


#: what an engine that bills nothing decides
FREE = CostDecision(None, None, True, ("free: the local index costs nothing",))
