"""A manifest-json document read back (``idc-sql run --format manifest-json``).

The document is ``{"provenance": {...}, "series": [{...}, ...]}``; each series names its
``crdc_series_uuid``, its ``url`` (or ``bucket``), its ``destination``, and what it holds
(``instance_count``, ``size_bytes``). Its provenance becomes the manifest's :class:`Header`.
A series is numbered by the line of the file that holds it (idc-sql writes one a line), so
that reports name lines as for any manifest:

>>> m = parse_json('{"provenance": {"idc_version": "v25", "series": 1},\\n"series": [\\n'
...     '{"crdc_series_uuid": "085e85b3-3780-47f6-8538-585bcca95336", '
...     '"url": "s3://idc-open-data/085e85b3-3780-47f6-8538-585bcca95336/*", '
...     '"destination": "a/", "instance_count": 2, "size_bytes": 10},\\n'
...     '{"url": "s3://x/y/*"}\\n]}\\n', "m.json")
>>> m.header.release, [(e.line, e.bucket, e.destination, e.instances) for e in m.entries]
(25, [(3, 'idc-open-data', 'a/', 2)])
>>> [(u.line, u.reason) for u in m.unreadable]
[(4, 'series[1] has no crdc_series_uuid')]
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import UsageError
from .parse import URL, UUID, Entry, Header, Manifest, Unreadable

#: the start of a manifest-json document (a cohort specification never starts so: its
#: grammar has neither key)
_START = re.compile(r'\A\ufeff?\s*\{\s*"(?:provenance|series)"\s*:')
_RELEASE = re.compile(r"v?(\d+)")


def is_json_manifest(head: str) -> bool:
    """Whether ``head`` (the start of a file) is a manifest-json document."""
    return _START.match(head) is not None


def parse_json(text: str, name: str = "manifest") -> Manifest:
    """Read a manifest-json document (see the module's documentation)."""
    try:
        doc = json.loads(text.removeprefix("\ufeff"))
    except ValueError as e:
        raise UsageError(f"{name} is not a JSON document: {e}") from None
    series = doc.get("series") if isinstance(doc, dict) else None
    if not isinstance(series, list):
        raise UsageError(f'{name}: a JSON manifest is an object whose "series" is a list')
    provenance = doc.get("provenance")
    provenance = provenance if isinstance(provenance, dict) else {}
    lines = text.splitlines()
    numbers = _element_lines(lines, len(series))
    entries: list[Entry] = []
    unreadable: list[Unreadable] = []
    for i, (item, number) in enumerate(zip(series, numbers, strict=True)):
        read = _series(i, item, number)
        (entries if isinstance(read, Entry) else unreadable).append(read)  # type: ignore[arg-type]
    return Manifest(
        name=name,
        lines=len(lines),
        comments=0,
        entries=tuple(entries),
        unreadable=tuple(unreadable),
        header=_header(provenance),
        form="manifest-json",
    )


def _series(i: int, item: Any, number: int) -> Entry | Unreadable:
    text = json.dumps(item, ensure_ascii=True)[:200]
    if not isinstance(item, dict):
        return Unreadable(number, text, f"series[{i}] is not an object")
    uuid = item.get("crdc_series_uuid")
    if not isinstance(uuid, str) or not UUID.fullmatch(uuid):
        what = "has no crdc_series_uuid" if uuid is None else "has no valid crdc_series_uuid"
        return Unreadable(number, text, f"series[{i}] {what}")
    scheme, bucket = "s3", item.get("bucket")
    url = item.get("url")
    if isinstance(url, str):
        match = URL.fullmatch(url)
        if match is None or match["key"].lower() != uuid.lower():
            return Unreadable(number, text, f"series[{i}]: {url} is not the URL of its series")
        scheme, bucket = match["scheme"], match["bucket"]
    if not isinstance(bucket, str) or not bucket:
        return Unreadable(number, text, f"series[{i}] names no bucket (url or bucket)")
    destination = item.get("destination")
    return Entry(
        number,
        uuid.lower(),
        scheme,
        bucket,
        destination if isinstance(destination, str) and destination else None,
        _count(item.get("instance_count")),
        _count(item.get("size_bytes")),
    )


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _element_lines(lines: list[str], n: int) -> list[int]:
    """The line of each series: one a line after the line that opens the list (as idc-sql
    writes it); else the line that opens the list, for every one."""
    start = next((i for i, line in enumerate(lines) if '"series"' in line and "[" in line), 0)
    following = [
        i + 1
        for i in range(start + 1, len(lines))
        if lines[i].strip() and lines[i].lstrip()[0] not in "]}"
    ]
    return following if len(following) == n else [start + 1] * n


def _header(provenance: dict[str, Any]) -> Header:
    release = provenance.get("idc_version")
    match = _RELEASE.fullmatch(str(release)) if release is not None else None
    size_mb = provenance.get("size_mb")
    return Header(
        cohort=provenance.get("cohort") if isinstance(provenance.get("cohort"), str) else None,
        release=int(match[1]) if match else None,
        digest=provenance.get("digest") if isinstance(provenance.get("digest"), str) else None,
        series=_count(provenance.get("series")),
        size_mb=float(size_mb) if isinstance(size_mb, int | float) else None,
    )
