"""Credits written out: text for people, BibTeX, CSL-JSON (reference managers), JSON, CSV.

IDC's own publication comes first in every format but CSV's rows, which list what the cohort
draws from; the JSON names each collection by its collection_id.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..cost import size
from .gather import Credits, Source


@dataclass(frozen=True)
class Publication:
    """A journal article."""

    id: str
    title: str
    #: (family, given) names
    authors: tuple[tuple[str, str], ...]
    journal: str
    year: int
    volume: str
    issue: str
    page: str
    doi: str


#: IDC's own publication, to cite with any use of its data
IDC = Publication(
    id="fedorov2023idc",
    title="National Cancer Institute Imaging Data Commons: Toward Transparency, "
    "Reproducibility, and Scalability in Imaging Artificial Intelligence",
    authors=(
        ("Fedorov", "Andrey"),
        ("Longabaugh", "William J. R."),
        ("Pot", "David"),
        ("Clunie", "David A."),
        ("Pieper", "Steven D."),
        ("Gibbs", "David L."),
        ("Bridge", "Christopher"),
        ("Herrmann", "Markus D."),
        ("Homeyer", "André"),
        ("Lewis", "Rob"),
        ("Aerts", "Hugo J. W. L."),
        ("Krishnaswamy", "Deepa"),
        ("Thiriveedhi", "Vamsi Krishna"),
        ("Ciausu", "Cosmin"),
        ("Schacherer", "Daniela P."),
        ("Bontempi", "Dennis"),
        ("Pihl", "Todd"),
        ("Wagner", "Ulrike"),
        ("Farahani", "Keyvan"),
        ("Kim", "Erika"),
        ("Kikinis", "Ron"),
    ),
    journal="RadioGraphics",
    year=2023,
    volume="43",
    issue="12",
    page="e230180",
    doi="10.1148/rg.230180",
)
IDC_TEXT = (
    "Fedorov A, Longabaugh WJR, Pot D, Clunie DA, Pieper SD, Gibbs DL, et al. "
    f"{IDC.title}. RadioGraphics. 2023;43(12):e230180. https://doi.org/{IDC.doi}"
)


def references(credits: Credits) -> list[Source]:
    """Everything to cite once (by DOI), collections' sources first, then analysis results."""
    seen: dict[str, Source] = {}
    for c in credits.collections.values():
        for s in c.sources.values():
            seen.setdefault((s.doi or s.title).lower(), s)
    for s in credits.analysis_results.values():
        seen.setdefault((s.doi or s.title).lower(), s)
    return list(seen.values())


def as_json(credits: Credits) -> str:
    def source(s: Source) -> dict[str, Any]:
        return {
            "title": s.title,
            "doi": s.doi,
            "url": s.url,
            "license": s.license,
            "license_url": s.license_url,
            "citation": s.citation,
            "series": s.series,
            "size_bytes": s.size_bytes,
        }

    body = {
        "name": credits.name,
        "series": credits.series,
        "size_bytes": credits.size_bytes,
        "not_in_the_index": credits.unknown,
        "idc": {"citation": IDC_TEXT, "doi": IDC.doi},
        "collections": [
            {
                "collection_id": c.collection_id,
                "name": c.name,
                "series": c.series,
                "size_bytes": c.size_bytes,
                "sources": [source(s) for s in c.sources.values()],
            }
            for c in credits.collections.values()
        ],
        "analysis_results": [
            {"analysis_result_id": s.key, **source(s), "collections": sorted(s.collections)}
            for s in credits.analysis_results.values()
        ],
        "licenses": [
            {
                "license": share.license,
                "series": share.series,
                "size_bytes": share.size_bytes,
                "non_commercial": share.non_commercial,
            }
            for share in credits.licenses.values()
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False)


def as_text(credits: Credits) -> str:
    out = [
        f"{credits.name}: {credits.series:,} series, {size(credits.size_bytes)}, from "
        f"{_count(len(credits.collections), 'collection')} and "
        f"{_count(len(credits.analysis_results), 'analysis result')}. Cite:",
        "",
        f"[1] {IDC_TEXT}",
    ]
    for n, s in enumerate(references(credits), 2):
        what = f"analysis result {s.key}" if s.kind == "analysis_result" else f"collection {s.key}"
        out.append(f"[{n}] {s.citation or s.title}")
        out.append(
            f"    {what}; {s.series:,} series, {size(s.size_bytes)}; license {s.license or '?'}"
            + (f" ({s.license_url})" if s.license_url else "")
        )
    out += ["", "Licenses:"]
    out += [
        f"  {share.license:<32} {share.series:>9,} series  {size(share.size_bytes):>10}"
        + ("  non-commercial use only" if share.non_commercial else "")
        for share in credits.licenses.values()
    ]
    if credits.unknown:
        out.append(f"({credits.unknown:,} series are not in the installed index: not credited)")
    return "\n".join(out)


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def _key(s: Source, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "_", s.key).strip("_") or "source"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def _bib(text: str) -> str:
    return re.sub(r"([&%#_$])", r"\\\1", text).replace("{", "\\{").replace("}", "\\}")


def as_bibtex(credits: Credits) -> str:
    authors = " and ".join(f"{family}, {given}" for family, given in IDC.authors)
    entries = [
        f"@article{{{IDC.id},\n  author = {{{authors}}},\n  title = {{{IDC.title}}},\n"
        f"  journal = {{{IDC.journal}}},\n  year = {{{IDC.year}}},\n"
        f"  volume = {{{IDC.volume}}},\n  number = {{{IDC.issue}}},\n"
        f"  pages = {{{IDC.page}}},\n  doi = {{{IDC.doi}}}\n}}"
    ]
    taken = {IDC.id}
    for s in references(credits):
        fields = [f"  title = {{{_bib(s.title)}}}"]
        if s.year:
            fields.append(f"  year = {{{s.year}}}")
        if s.doi:
            fields.append(f"  doi = {{{s.doi}}}")
        if s.url:
            fields.append(f"  url = {{{s.url}}}")
        note = f"License: {s.license or 'unknown'}. {s.citation or ''}".strip()
        fields.append(f"  note = {{{_bib(note)}}}")
        entries.append(f"@misc{{{_key(s, taken)},\n" + ",\n".join(fields) + "\n}")
    return "\n\n".join(entries) + "\n"


def as_csl_json(credits: Credits) -> str:
    items: list[dict[str, Any]] = [
        {
            "id": IDC.id,
            "type": "article-journal",
            "title": IDC.title,
            "author": [{"family": f, "given": g} for f, g in IDC.authors],
            "container-title": IDC.journal,
            "issued": {"date-parts": [[IDC.year]]},
            "volume": IDC.volume,
            "issue": IDC.issue,
            "page": IDC.page,
            "DOI": IDC.doi,
        }
    ]
    taken = {IDC.id}
    for s in references(credits):
        item: dict[str, Any] = {"id": _key(s, taken), "type": "dataset", "title": s.title}
        if s.doi:
            item["DOI"] = s.doi
        if s.url:
            item["URL"] = s.url
        if s.year:
            item["issued"] = {"date-parts": [[s.year]]}
        item["note"] = f"License: {s.license or 'unknown'}"
        items.append(item)
    return json.dumps(items, indent=2, ensure_ascii=False)


def as_csv(credits: Credits) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["kind", "id", "title", "doi", "url", "license", "series", "size_bytes", "citation"]
    )
    for s in references(credits):
        writer.writerow(
            [s.kind, s.key, s.title, s.doi, s.url, s.license, s.series, s.size_bytes, s.citation]
        )
    return out.getvalue()


FORMATS: dict[str, Callable[[Credits], str]] = {
    "text": as_text,
    "bibtex": as_bibtex,
    "csl-json": as_csl_json,
    "json": as_json,
    "csv": as_csv,
}
