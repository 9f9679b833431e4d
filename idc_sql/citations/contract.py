"""A cohort held to its specification's ``licenses``: checked once it has run, before anything
is written, on whatever engine ran it (the rows are read through DuckDB either way)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlglot import exp

from ..errors import LicenseError

if TYPE_CHECKING:
    from ..engines.base import Rows
    from ..plan.licenses import Licenses
    from ..result import CohortResult

#: collections named for each refused license, at most
SHOWN = 8


def enforce(
    result: CohortResult | Rows, declared: tuple[Licenses, ...], where: exp.Expr | None = None
) -> None:
    """Raise :class:`LicenseError` when ``result`` (or those of its rows ``where`` selects)
    holds a series under a license that one of ``declared`` does not allow; the message names
    each such license with its series and collections (a missing license counts as one no list
    allows)."""
    if not declared:
        return
    counts = _by_license_and_collection(result, where)
    for licenses in declared:
        refused: dict[str | None, dict[str, int]] = defaultdict(dict)
        for license, collection, n in counts:
            if license not in licenses.allowed:
                refused[license][collection] = n
        if refused:
            raise _error(licenses, refused, sum(n for _, _, n in counts))


def _by_license_and_collection(
    result: CohortResult | Rows, where: exp.Expr | None
) -> list[tuple[str | None, str, int]]:
    rows = result.query.copy()
    if rows.args.get("limit") is None:
        rows.set("order", None)  # order matters to a limit only
    key = [exp.column("license_short_name"), exp.column("collection_id")]
    query = (
        exp.select(*key, exp.Count(this=exp.Star()))
        .from_(rows.subquery("cohort"))
        .group_by(*(k.copy() for k in key))
    )
    if where is not None:
        query = query.where(where)
    return [(lic, coll, int(n)) for lic, coll, n in result.fetch(query)]


def _error(
    licenses: Licenses, refused: dict[str | None, dict[str, int]], total: int
) -> LicenseError:
    found = sorted(
        (
            (license, sum(by.values()), sorted(by, key=lambda c: (-by[c], c)))
            for license, by in refused.items()
        ),
        key=lambda t: (-t[1], t[0] or ""),
    )
    parts = []
    for license, n, collections in found:
        shown = ", ".join(collections[:SHOWN])
        if len(collections) > SHOWN:
            shown += f" and {len(collections) - SHOWN:,} more"
        name = license if license is not None else "no license recorded"
        noun = "collection" if len(collections) == 1 else "collections"
        parts.append(f"{name}: {n:,} series ({noun} {shown})")
    bad = sum(n for _, n, _ in found)
    allowed = ", ".join(licenses.allowed)
    return LicenseError(
        licenses.place,
        f"{bad:,} of the cohort's {total:,} series are under licenses it does not allow "
        f"(it allows {allowed}): {'; '.join(parts)}. Leave them out in where "
        "(license_short_name: [...]) or allow their licenses",
        found=found,
    )
