"""A manifest file read as what it holds: a manifest-json document (:mod:`.json_manifest`) or
one series a line (:mod:`.parse`); and whether a path names a cohort specification instead."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .json_manifest import is_json_manifest, parse_json
from .parse import Manifest, parse_text

#: file suffixes read as cohort specifications rather than manifests
SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def names_a_spec(source: object) -> bool:
    """Whether ``source`` (a path, or a specification object or mapping) is a cohort
    specification rather than a manifest: a path is one by its suffix, unless it holds a
    manifest-json document."""
    if isinstance(source, str | Path):
        if Path(source).suffix.lower() not in SPEC_SUFFIXES:
            return False
        return not is_json_manifest(_head(Path(source)))
    return True


def _head(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return f.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return ""  # read as a specification, which says what is wrong


def read_manifest(path: str | Path) -> Manifest:
    """Read the manifest at ``path`` (any form :mod:`.parse` or :mod:`.json_manifest` reads)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the manifest {path}: {e.strerror or e}") from None
    if b"\0" in data[:4096]:
        raise UsageError(f"{path} is not a text file: a manifest lists one series a line")
    text = data.decode("utf-8", errors="replace")
    if is_json_manifest(text[:4096]):
        return parse_json(text, str(path))
    return parse_text(text, str(path))
