"""Reading a manifest's text: its header and one series per line, whoever wrote it.

The forms read, one a line (blank lines and ``#`` comments aside):

* ``cp s3://<bucket>/<crdc_series_uuid>/* <destination>``: idc-sql's, the IDC Portal's and
  idc-index's manifests (``gs://`` for Google Cloud's buckets; s5cmd options after ``cp`` and
  quotes around the arguments are allowed; the destination may be left out);
* ``s3://<bucket>/<crdc_series_uuid>/*``: a series URL alone (idc_index's ``series_aws_url``);
* ``<crdc_series_uuid>``: a bare series version id.

A manifest-json document (idc-sql's ``--format manifest-json``) is read by
:mod:`.json_manifest`; :mod:`.reading` reads a file as one or the other.

Any other line is kept with the reason it could not be read, so that a report can name it.
The comment header idc-sql writes (``# IDC version: v25 (...)``, ``# spec digest: ...``,
``# series: N ...``, ``# size: ... (X MB)``) is read into :class:`Header`.

>>> m = parse_text("# IDC version: v25 (local index)\\n"
...                "cp s3://idc-open-data/085e85b3-3780-47f6-8538-585bcca95336/* data/a/\\n"
...                "FE21C7B5-1DE0-4CA2-A4D6-F1E1D0F0E9E5\\n"
...                "hello\\n")
>>> m.header.release, [(e.line, e.bucket, e.destination) for e in m.entries]
(25, [(2, 'idc-open-data', 'data/a/'), (3, None, None)])
>>> m.entries[1].crdc_series_uuid
'fe21c7b5-1de0-4ca2-a4d6-f1e1d0f0e9e5'
>>> [(u.line, u.reason) for u in m.unreadable]
[(4, 'neither a cp line, a series URL nor a crdc_series_uuid')]
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import NamedTuple

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID = re.compile(_UUID)
#: a series URL: scheme, bucket, then the series' folder (``/*``, ``/`` or nothing after it)
URL = re.compile(r"(?P<scheme>s3|gs)://(?P<bucket>[^/\s]+)/(?P<key>[^/\s]*)(?P<rest>/\*?)?")
#: the common line, read without a shell-like split
_FAST = re.compile(
    r"cp\s+(?P<scheme>s3|gs)://(?P<bucket>[^/\s\"']+)/(?P<uuid>" + _UUID + r")/\*"
    r"(?:\s+(?P<dest>[^\s\"'\\]+))?"
)
_HEADER = {
    "cohort": re.compile(r"manifest of cohort\s+(\S+)"),
    "release": re.compile(r"^IDC version:\s*v?(\d+)", re.IGNORECASE),
    "digest": re.compile(r"^spec digest:\s*(\S+)"),
    "series": re.compile(r"^series:\s*([\d,]+)"),
    "size_mb": re.compile(r"^size:.*\(([\d.,]+) MB\)"),
}


class Entry(NamedTuple):
    """One series line (a tuple: a manifest may hold a million)."""

    line: int
    #: lower case, as IDC writes it
    crdc_series_uuid: str
    #: ``s3`` or ``gs``; None for a bare crdc_series_uuid
    scheme: str | None = None
    bucket: str | None = None
    #: where the line puts the series' files (None: it does not say)
    destination: str | None = None
    #: what the manifest says the series holds (manifest-json; None: it does not say)
    instances: int | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class Unreadable:
    """A line that names no series, and why."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Header:
    """What the comment header declares (idc-sql's own manifests; None when absent)."""

    cohort: str | None = None
    release: int | None = None
    digest: str | None = None
    series: int | None = None
    size_mb: float | None = None


@dataclass(frozen=True)
class Manifest:
    """A manifest's lines, read."""

    name: str
    lines: int
    comments: int
    entries: tuple[Entry, ...]
    unreadable: tuple[Unreadable, ...]
    header: Header = field(default_factory=Header)
    #: ``text`` (a line per series) or ``manifest-json``
    form: str = "text"


def parse_text(text: str, name: str = "manifest") -> Manifest:
    """Read a manifest's text (see the module's documentation)."""
    entries: list[Entry] = []
    unreadable: list[Unreadable] = []
    header: dict[str, str] = {}
    comments = 0
    lines = text.removeprefix("\ufeff").splitlines()
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comments += 1
            if not entries:
                _header_line(line.lstrip("#").strip(), header)
            continue
        read = _line(number, line)
        (entries if isinstance(read, Entry) else unreadable).append(read)  # type: ignore[arg-type]
    return Manifest(
        name=name,
        lines=len(lines),
        comments=comments,
        entries=tuple(entries),
        unreadable=tuple(unreadable),
        header=Header(
            cohort=header.get("cohort"),
            release=int(header["release"]) if "release" in header else None,
            digest=header.get("digest"),
            series=int(header["series"].replace(",", "")) if "series" in header else None,
            size_mb=float(header["size_mb"].replace(",", "")) if "size_mb" in header else None,
        ),
    )


def _header_line(text: str, found: dict[str, str]) -> None:
    for key, pattern in _HEADER.items():
        match = pattern.search(text)
        if match is not None and key not in found:
            found[key] = match.group(1)


def _line(number: int, line: str) -> Entry | Unreadable:
    fast = _FAST.fullmatch(line)
    if fast is not None:
        return Entry(
            number, fast["uuid"].lower(), fast["scheme"], fast["bucket"], fast["dest"] or None
        )
    if UUID.fullmatch(line):
        return Entry(number, line.lower())
    try:
        words = shlex.split(line)
    except ValueError as e:
        return Unreadable(number, line, f"cannot be split into words: {e}")
    if len(words) == 1 and URL.fullmatch(words[0]):
        return _url(number, line, words[0], None)
    if not words or words[0] != "cp":
        return Unreadable(number, line, "neither a cp line, a series URL nor a crdc_series_uuid")
    arguments = [w for w in words[1:] if not w.startswith("-")]
    if not 1 <= len(arguments) <= 2:
        return Unreadable(number, line, "a cp line takes a series URL and a destination")
    return _url(number, line, arguments[0], arguments[1] if len(arguments) == 2 else None)


def _url(number: int, line: str, url: str, destination: str | None) -> Entry | Unreadable:
    match = URL.fullmatch(url)
    if match is None:
        return Unreadable(number, line, f"{url} is not an s3:// or gs:// URL of a series")
    if not UUID.fullmatch(match["key"]):
        return Unreadable(
            number, line, f"{url} names no series (expected <scheme>://BUCKET/CRDC_SERIES_UUID/*)"
        )
    return Entry(number, match["key"].lower(), match["scheme"], match["bucket"], destination)
