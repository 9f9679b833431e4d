"""Manifests from anywhere, read back: idc-sql's own, the IDC Portal's, idc-index's, an earlier
release's, ``s3://`` or ``gs://`` URLs and bare ``crdc_series_uuid`` values.

:mod:`.parse` reads the text, :mod:`.resolve` asks the installed index what each series is (one
query for every line), :mod:`.inspect` reports counts, size, releases and unresolved lines.
"""

from __future__ import annotations

from .inspect import Inspection, Unresolved, inspect
from .parse import Entry, Header, Manifest, Unreadable, parse_text
from .reading import names_a_spec, read_manifest
from .resolve import Series, resolve

#: :func:`inspect` under the name the package ``idc_sql`` gives it
inspect_manifest = inspect

__all__ = [
    "Entry",
    "Header",
    "Inspection",
    "Manifest",
    "Series",
    "Unreadable",
    "Unresolved",
    "inspect",
    "inspect_manifest",
    "names_a_spec",
    "parse_text",
    "read_manifest",
    "resolve",
]
