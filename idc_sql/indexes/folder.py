"""IDC indices beyond the wheel's: parquet files in an index folder.

idc-index-data ships five indices as parquet; IDC publishes the others (``seg_index``,
``sm_index``, ``clinical_index``, ...) per release, and ships their SQL and schema JSON in the
wheel. The local engine reads such an index when its parquet file is found

- in the folder named by ``index_dir`` (``--index-dir``, ``IDC_SQL_INDEX_DIR``), or
- in idc-index's own folder for the installed idc-index-data version, where
  ``IDCClient.fetch_index`` keeps what it downloads,

and its columns are those of the schema JSON the wheel ships for it.

The local engine reads one release at a time. A file that records the release it was built
from (parquet metadata key ``idc_sql``, as ``idc-sql index build`` writes it) is read for that
release only: in a folder itself, files of the installed index's release (a file that records
none is taken as one); in its subfolder ``idc_vN``, files of release N, read by queries at
release N (see :func:`release_folder`). A file of another release than its place says is not
read, and the engine tells why.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .wheel import INDEX_PACKAGE, index_names, schema

#: the key of the parquet metadata that records which release a file was built from
METADATA_KEY = b"idc_sql"


@dataclass(frozen=True)
class FolderIndex:
    """An index found as parquet in an index folder."""

    name: str
    path: Path
    #: the release it was built from, when recorded (else taken as the installed one)
    release: int | None
    #: why the local engine does not read it (None: it does)
    problem: str | None = None

    @property
    def description(self) -> str:
        built = f", built from IDC v{self.release}" if self.release is not None else ""
        return f"{self.path.parent}{built}"


def idc_index_folder(package_version: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where idc-index keeps the indices it downloads for idc-index-data ``package_version``
    (its per-user data folder: ``~/.local/share/idc_index_data/<version>`` on Linux)."""
    env = os.environ if environ is None else environ
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
        return base / INDEX_PACKAGE / package_version
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "IDC" / INDEX_PACKAGE / package_version
    data = env.get("XDG_DATA_HOME")
    base = Path(data) if data else Path.home() / ".local" / "share"
    return base / INDEX_PACKAGE / package_version


def release_folder(folder: Path, release: int | None, installed: int) -> Path:
    """Where the indices of ``release`` are kept in index folder ``folder``: the folder itself
    for the installed index's release, its subfolder ``idc_vN`` for another release N.

    >>> release_folder(Path("idx"), 25, 25), release_folder(Path("idx"), 24, 25)
    (PosixPath('idx'), PosixPath('idx/idc_v24'))
    """
    return folder if release in (None, installed) else folder / f"idc_v{release}"


def folder_indices(
    folders: Sequence[Path],
    release: int,
    wheel: Path,
    skip: frozenset[str] = frozenset(),
    *,
    installed: int | None = None,
) -> dict[str, FolderIndex]:
    """The indices of ``release`` found in ``folders`` (the first folder holding one wins), less
    ``skip`` (the wheel's own parquet tables), each checked against the wheel's schema and the
    release it records. ``installed`` (default: ``release``) is the installed index's release:
    another release's files are looked for in each folder's ``idc_vN``."""
    known = set(index_names(wheel)) - skip
    installed = release if installed is None else installed
    found: dict[str, FolderIndex] = {}
    for folder in (release_folder(f, release, installed) for f in folders):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.parquet")):
            name = path.stem
            if name in found or name not in known:
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            found[name] = _checked(
                name, str(path), stat.st_mtime_ns, release, release == installed, str(wheel)
            )
    return found


@functools.lru_cache(maxsize=128)
def _checked(
    name: str, path: str, mtime: int, release: int, installed: bool, wheel: str
) -> FolderIndex:
    """Read the file's schema and metadata once per version of the file."""
    import pyarrow.parquet as pq

    try:
        file_schema = pq.read_schema(path)
    except (OSError, ValueError) as e:
        return FolderIndex(name, Path(path), None, f"cannot be read as parquet ({e})")
    built_release = _release_of(_recorded(file_schema.metadata or {}).get("idc_version"))
    problem = None
    if built_release is None and not installed:
        problem = (
            f"does not record the release it was built from; a file in idc_v{release} is read "
            f"for IDC v{release} only when it records that release"
        )
    elif built_release is not None and built_release != release:
        where = "the local index is" if installed else "its folder is for"
        problem = f"was built from IDC v{built_release}; {where} v{release}"
        if installed:
            problem += (
                f" (a build of v{built_release} goes to idc_v{built_release}/ in the index "
                f"folder, read with --idc-version {built_release})"
            )
    else:
        problem = schema_problem(schema(name, Path(wheel)), list(file_schema.names))
    return FolderIndex(name, Path(path), built_release, problem)


def _release_of(value: Any) -> int | None:
    """A recorded release: ``24``, or ``"v24"`` as a result's provenance writes it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value[:1] == "v" and value[1:].isdigit():
        return int(value[1:])
    return None


def _recorded(metadata: Mapping[bytes, bytes]) -> dict[str, Any]:
    raw = metadata.get(METADATA_KEY)
    if not raw:
        return {}
    try:
        loaded = json.loads(raw)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def schema_problem(expected: Mapping[str, Any] | None, names: list[str]) -> str | None:
    if expected is None:
        return "the installed idc-index-data has no schema for it"
    columns = [c.get("name") for c in expected.get("columns", []) if isinstance(c, Mapping)]
    wanted = {str(c).casefold() for c in columns}
    have = {n.casefold() for n in names}
    missing = sorted(str(c) for c in columns if str(c).casefold() not in have)
    extra = sorted(n for n in names if n.casefold() not in wanted)
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append(f"lacks {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if extra:
        parts.append(f"has {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''} besides")
    return "does not match the schema idc-index-data ships for it: it " + " and ".join(parts)
