"""What a cohort or a manifest draws from: its collections and analysis results, with the
DOI, citation text and license the local index ships for each (``collections_index``'s
sources, ``analysis_results_index``), the series and bytes of each, and its licenses.

Every series of the current release names its source by DOI (``idc_index.source_DOI``) and
its license; a version only an earlier release served is known by its collection alone, so it
is credited to that collection's original data, its license unknown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..query import Query

if TYPE_CHECKING:
    from ..engines.local import LocalEngine
    from ..manifests_in import Series

#: what a license that forbids commercial use says
_NON_COMMERCIAL = re.compile(r"\bNC\b|non-?commercial", re.IGNORECASE)
#: a series version of an earlier release: no license recorded
UNKNOWN_LICENSE = "unknown (a series version of an earlier release)"


def non_commercial(license_name: str | None) -> bool:
    """Whether a license forbids commercial use (``CC BY-NC 4.0``)."""
    return license_name is not None and _NON_COMMERCIAL.search(license_name) is not None


def plain(text: str | None) -> str | None:
    """Citation text as the index ships it (HTML entities, ``<i>``, line breaks), as text."""
    if text is None:
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


@dataclass
class Source:
    """One thing to cite: a collection's source, or an analysis result."""

    #: ``collection`` or ``analysis_result``
    kind: str
    #: collection_id or analysis_result_id
    key: str
    title: str
    doi: str | None = None
    url: str | None = None
    license: str | None = None
    license_url: str | None = None
    citation: str | None = None
    series: int = 0
    size_bytes: int = 0
    #: the cohort's collections it covers (analysis results)
    collections: set[str] = field(default_factory=set)

    @property
    def year(self) -> int | None:
        found = re.search(r"\((\d{4})\)", self.citation or "")
        return int(found.group(1)) if found else None


@dataclass
class Collection:
    """A collection the cohort draws from, with the sources its series come from."""

    collection_id: str
    name: str
    series: int = 0
    size_bytes: int = 0
    sources: dict[str, Source] = field(default_factory=dict)


@dataclass
class Share:
    """The series and bytes under one license."""

    license: str
    series: int = 0
    size_bytes: int = 0

    @property
    def non_commercial(self) -> bool:
        return non_commercial(self.license)


@dataclass
class Credits:
    """What a cohort or manifest must credit."""

    name: str
    series: int = 0
    size_bytes: int = 0
    collections: dict[str, Collection] = field(default_factory=dict)
    analysis_results: dict[str, Source] = field(default_factory=dict)
    licenses: dict[str, Share] = field(default_factory=dict)
    #: series the installed index does not know (nothing to credit them to)
    unknown: int = 0


def gather(
    name: str, uuids: Iterable[str], series: dict[str, Series], engine: LocalEngine
) -> Credits:
    """The credits of the series ``uuids`` (``series``: what the index says of them)."""
    collections, results = _metadata(engine)
    credits = Credits(name)
    for uuid in dict.fromkeys(uuids):
        s = series.get(uuid)
        if s is None or s.collection_id is None:
            credits.unknown += 1
            continue
        credits.series += 1
        credits.size_bytes += s.size_bytes
        share = credits.licenses.setdefault(
            s.license or UNKNOWN_LICENSE, Share(s.license or UNKNOWN_LICENSE)
        )
        share.series += 1
        share.size_bytes += s.size_bytes
        meta = collections.get(s.collection_id, {})
        c = credits.collections.setdefault(
            s.collection_id,
            Collection(s.collection_id, meta.get("collection_name") or s.collection_id),
        )
        c.series += 1
        c.size_bytes += s.size_bytes
        if s.analysis_result_id is not None:
            ar = credits.analysis_results.get(s.analysis_result_id)
            if ar is None:
                ar = _result(s.analysis_result_id, results.get(s.analysis_result_id, {}))
                credits.analysis_results[s.analysis_result_id] = ar
            ar.series += 1
            ar.size_bytes += s.size_bytes
            ar.collections.add(s.collection_id)
            continue
        for source in _sources_of(s, meta):
            kept = c.sources.setdefault(source.doi or source.title, source)
            kept.series += 1
            kept.size_bytes += s.size_bytes
    return credits


def _sources_of(s: Series, meta: dict[str, Any]) -> list[Source]:
    """The collection's source a series comes from (by DOI), or for a version of an earlier
    release, the collection's original data."""
    sources = meta.get("sources") or []
    doi = (s.source_doi or "").lower()
    chosen = [x for x in sources if (x.get("source_doi") or "").lower() == doi] if doi else []
    if not chosen:
        chosen = [x for x in sources if x.get("source_type") == "original_data"] or sources[:1]
    return [_source(s.collection_id or "", meta, x) for x in chosen]


def _source(collection_id: str, meta: dict[str, Any], x: dict[str, Any]) -> Source:
    lic = x.get("license") or {}
    return Source(
        kind="collection",
        key=collection_id,
        title=x.get("source_title") or meta.get("collection_name") or collection_id,
        doi=(x.get("source_doi") or None),
        url=x.get("source_url"),
        license=lic.get("license_short_name"),
        license_url=lic.get("license_url"),
        citation=plain(x.get("citation")),
    )


def _result(key: str, row: dict[str, Any]) -> Source:
    return Source(
        kind="analysis_result",
        key=key,
        title=row.get("analysis_result_title") or key,
        doi=row.get("source_DOI"),
        url=row.get("source_url"),
        license=row.get("license_short_name"),
        license_url=row.get("license_url"),
        citation=plain(row.get("citation")),
    )


def _metadata(engine: LocalEngine) -> tuple[dict[str, Any], dict[str, Any]]:
    """collections_index and analysis_results_index (a few hundred rows), by id."""
    release = engine.settle(None)

    def rows(table: str, columns: list[str]) -> dict[str, dict[str, Any]]:
        query = Query(
            engine=engine.target.name,
            dialect=engine.target.dialect,
            tree=exp.select(*(exp.column(c) for c in columns)).from_(table),
            params={},
            release=release,
            label=table,
        )
        result = engine.execute(query)
        return {row[0]: dict(zip(columns, row, strict=True)) for row in result.fetch(result.query)}

    collections = rows("collections_index", ["collection_id", "collection_name", "sources"])
    results = rows(
        "analysis_results_index",
        [
            "analysis_result_id",
            "analysis_result_title",
            "source_DOI",
            "source_url",
            "license_short_name",
            "license_url",
            "citation",
        ],
    )
    return collections, results
